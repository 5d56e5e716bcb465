"""Sizes (``10M``, ``1.5G``) and durations (``24h``, ``7d``) as the commands write them."""

from __future__ import annotations

import datetime
import re

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
        raise ValueError(f"{text!r} is not a size (for example 512, 10K, 10M, 1.5G).")
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
        raise ValueError(f"{text!r} is not a duration (for example 90s, 30m, 24h, 7d, 1d12h).")
    return datetime.timedelta(seconds=sum(float(n) * DURATION_UNITS[u] for n, u in parts))
