"""Messages translated when they are shown, not when they are made."""

from __future__ import annotations

from typing import Any

from django.utils.functional import lazy
from django.utils.translation import gettext


def _fill(message: str, params: dict[str, Any]) -> str:
    return gettext(message) % params


# The parsed STORAGE_MOUNTS is cached for the life of the process, whatever
# language each request or command uses: its problems must not keep the
# language of the first parse.
_lazy_fill = lazy(_fill, str)


def lazy_message(message: str, **params: Any) -> str:
    """Return a lazy string: ``message`` translated and filled with ``params`` when str() is taken.

    Mark the literal with ``gettext_noop`` so that makemessages finds it.
    """
    return _lazy_fill(message, params)
