"""What a copy takes (filters) and what it leaves alone (skip rules), decided from listings."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import NamedTuple

from genro_storage_django.names import clean_name
from genro_storage_django.transfer.listing import FileStat

#: The skip rules, from the loosest to the strictest test of "already done".
SKIP_RULES = ("never", "exists", "size", "size-time", "hash")
# A rerun must be cheap (decided from the listings, no reads) and safe (an
# edited source is copied again): see docs/storage_copy.rst.
DEFAULT_SKIP = "size-time"
# Some filesystems and servers keep modification times to 1 or 2 seconds.
MTIME_TOLERANCE = datetime.timedelta(seconds=2)


class Verdict(NamedTuple):
    """What the listings decide for one file: ``action`` copy, skip, or hash (compare first)."""

    action: str
    reason: str


def verdict(skip: str, source: FileStat, target: FileStat | None) -> Verdict:
    """Return the verdict of rule ``skip`` on a file listed as ``source`` and ``target``."""
    if skip == "never":
        return Verdict("copy", "always copy")
    if target is None:
        return Verdict("copy", "new")
    if skip == "exists":
        return Verdict("skip", "exists")
    if target.size != source.size:
        return Verdict("copy", "size differs")
    if skip == "hash":
        return Verdict("hash", "same size")
    if skip == "size-time" and _older(target, source):
        return Verdict("copy", "source is newer")
    return Verdict("skip", "same size")


def _older(target: FileStat, source: FileStat) -> bool:
    if source.modified is None or target.modified is None:
        return False
    return target.modified < source.modified - MTIME_TOLERANCE


@dataclass(frozen=True)
class Selection:
    """The filters of a copy; a file is taken if it passes all of them.

    ``include``/``exclude`` are globs on the path relative to the source (``*``
    crosses ``/``); sizes are in bytes, bounds included; ages are measured
    from ``now`` to the file's modification time (a file without one passes);
    ``files_from`` limits the copy to those paths, if given.
    """

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    min_size: int | None = None
    max_size: int | None = None
    min_age: datetime.timedelta | None = None
    max_age: datetime.timedelta | None = None
    files_from: frozenset[str] | None = None
    now: datetime.datetime = field(
        default_factory=lambda: datetime.datetime.now(datetime.timezone.utc)
    )

    @classmethod
    def build(
        cls,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        files_from: Iterable[str] | None = None,
        min_size: int | None = None,
        max_size: int | None = None,
        min_age: datetime.timedelta | None = None,
        max_age: datetime.timedelta | None = None,
    ) -> Selection:
        """Return the selection; ``files_from`` loses blank lines and ``#`` comments."""
        names = None
        if files_from is not None:
            lines = (line.strip() for line in files_from)
            names = frozenset(
                clean_name(line) for line in lines if line and not line.startswith("#")
            )
        return cls(tuple(include), tuple(exclude), min_size, max_size, min_age, max_age, names)

    def by_name(self, name: str) -> bool:
        """Return True if ``name`` passes the name filters (globs and ``files_from``)."""
        if self.files_from is not None and name not in self.files_from:
            return False
        if self.include and not any(fnmatchcase(name, pattern) for pattern in self.include):
            return False
        return not any(fnmatchcase(name, pattern) for pattern in self.exclude)

    def selects(self, name: str, stat: FileStat) -> bool:
        """Return True if the file ``name`` described by ``stat`` passes every filter."""
        if not self.by_name(name):
            return False
        if self.min_size is not None and stat.size < self.min_size:
            return False
        if self.max_size is not None and stat.size > self.max_size:
            return False
        if stat.modified is None:
            return True
        age = self.now - stat.modified
        if self.min_age is not None and age < self.min_age:
            return False
        return self.max_age is None or age <= self.max_age
