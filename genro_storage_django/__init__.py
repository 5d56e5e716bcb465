"""One Django storage layer for every place files live."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from genro_storage_django.storage import MountStorage

__all__ = ["__version__", "get_storage"]


def get_storage(mount: str) -> MountStorage:
    """Return the storage of ``mount``: the same instance on every call in a process."""
    # Imported here so that importing the package never touches settings.
    from genro_storage_django.storage import get_storage as _get_storage

    return _get_storage(mount)
