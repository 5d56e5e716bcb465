"""Find and remove what interrupted writes left on a mount: ``manage.py storage_cleanup``.

A write that is killed halfway leaves something no listing shows but the
store keeps: a temporary file beside its target on a local disk, a multipart
upload on S3, staged blocks on Azure. Only leftovers older than a threshold
are touched, so that writes going on meanwhile finish undisturbed.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from genro_storage_django.backends.base import Backend, Leftover
from genro_storage_django.exceptions import MountPermissionError
from genro_storage_django.storage import get_storage

#: Older than any upload still running on a sane connection.
DEFAULT_AGE = datetime.timedelta(hours=1)


@dataclass
class CleanupResult:
    """The leftovers of one run: found (all), removed, and those that could not be."""

    found: list[Leftover] = field(default_factory=list)
    removed: list[Leftover] = field(default_factory=list)
    failed: list[tuple[Leftover, str]] = field(default_factory=list)


def cleanup(
    mount: str,
    older_than: datetime.timedelta = DEFAULT_AGE,
    *,
    dry_run: bool = False,
    on_leftover: Callable[[Leftover, str], None] | None = None,
) -> CleanupResult:
    """Remove the leftovers of ``mount`` older than ``older_than``; ``dry_run`` only lists them.

    ``on_leftover(leftover, outcome)`` is called for each, with ``outcome``
    "found", "removed" or the reason it failed. Removing needs the mount's
    delete permission (``MountPermissionError``).
    """
    storage = get_storage(mount)
    if not dry_run and not storage.mount.can_delete:
        raise MountPermissionError(mount, "delete", "", storage.mount.permissions)
    result = CleanupResult()
    for leftover in storage.backend.leftovers(older_than):
        result.found.append(leftover)
        outcome = "found" if dry_run else _remove(storage.backend, leftover, result)
        if on_leftover is not None:
            on_leftover(leftover, outcome)
    return result


def _remove(backend: Backend, leftover: Leftover, result: CleanupResult) -> str:
    try:
        backend.remove_leftover(leftover)
    except OSError as error:
        result.failed.append((leftover, str(error)))
        return str(error)
    result.removed.append(leftover)
    return "removed"
