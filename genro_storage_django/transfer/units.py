"""Sizes (``10M``, ``1.5G``), durations (``24h``, ``7d``) and the other option values of a copy.

The messages are in the active language: the commands show them as they are.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence

from django.utils.translation import gettext as _

# Binary multiples, as rclone reads its size options: 1K is 1024 bytes.
SIZE_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([BKMGT]?)(?:i?B)?", re.IGNORECASE)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_size(text: str) -> int:
    """Return the bytes of ``text``: a number with an optional K, M, G or T suffix (powers of 1024).

    Raise ``ValueError`` naming the text if it is not one.
    """
    match = _SIZE.fullmatch(text.strip())
    if not match:
        message = _("%(text)s is not a size (for example 512, 10K, 10M, 1.5G).")
        raise ValueError(message % {"text": repr(text)})
    number, unit = match.groups()
    return int(float(number) * SIZE_UNITS[unit.upper()])


def parse_duration(text: str) -> datetime.timedelta:
    """Return the duration of ``text``: numbers with s, m, h, d or w suffixes (``1d12h``).

    A bare number is seconds. Raise ``ValueError`` naming the text if it is not one.
    """
    text = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return datetime.timedelta(seconds=float(text))
    parts = _DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        message = _("%(text)s is not a duration (for example 90s, 30m, 24h, 7d, 1d12h).")
        raise ValueError(message % {"text": repr(text)})
    return datetime.timedelta(seconds=sum(float(n) * DURATION_UNITS[u] for n, u in parts))


def check_choice(option: str, value: str, choices: Sequence[str]) -> None:
    """Raise ``ValueError`` naming ``option`` if ``value`` is not one of ``choices``."""
    if value not in choices:
        # Translators: option is the name of an option or argument, as written.
        message = _("%(option)s must be one of %(choices)s, not %(value)s.")
        raise ValueError(
            message % {"option": option, "choices": ", ".join(choices), "value": repr(value)}
        )


def check_positive(option: str, value: int) -> None:
    """Raise ``ValueError`` naming ``option`` if ``value`` is less than 1."""
    if value < 1:
        # Translators: option is the name of an option or argument, as written.
        message = _("%(option)s must be at least 1, not %(value)s.")
        raise ValueError(message % {"option": option, "value": value})


def check_not_negative(option: str, value: int) -> None:
    """Raise ``ValueError`` naming ``option`` if ``value`` is less than 0."""
    if value < 0:
        # Translators: option is the name of an option or argument, as written.
        message = _("%(option)s must be 0 or more, not %(value)s.")
        raise ValueError(message % {"option": option, "value": value})
