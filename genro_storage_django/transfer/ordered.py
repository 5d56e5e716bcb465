"""Recursive listings in key order, streamed: what the copy planner merges.

The order is ``Backend.find()``'s: names compared as Python strings, the
order S3, GCS and Azure Blob list keys in. Backends that ``lists_in_key_order``
(and local disks, walked in that order) give it as they list, one page or one
directory in memory at a time; the others' listings are collected and sorted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.utils.translation import gettext as _

from genro_storage_django.transfer.listing import FileStat, Location

Listed = tuple[str, FileStat]


class OrderError(RuntimeError):
    """A listing went backwards: the merge of two listings would decide wrongly."""


def ordered_files(location: Location) -> Iterator[Listed]:
    """Yield ``(name, stat)`` for every file below ``location``, in key order."""
    backend = location.backend
    for name, info in in_key_order(backend.find(location.full_path()), str(location)):
        if info.get("size") is None:
            # Some listings (HTTP index pages) give names only: ask for the size.
            info = backend.info(location.full_path(name))
        yield name, FileStat.from_info(backend, info)


def in_key_order(entries: Iterable[tuple[str, Any]], label: str) -> Iterator[tuple[str, Any]]:
    """Yield ``entries`` unchanged; raise ``OrderError`` if a name is not after the previous one."""
    previous = None
    for entry in entries:
        if previous is not None and entry[0] <= previous:
            message = _("The listing of %(location)s is not in key order: %(name)s.")
            raise OrderError(message % {"location": label, "name": repr(entry[0])})
        previous = entry[0]
        yield entry
