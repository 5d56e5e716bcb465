"""The plan of a copy, in constant memory: two listings in key order merged as they come.

``merge()`` walks both listings at once, as a merge join: each name is
decided as soon as both sides have passed it, so memory holds two entries,
not two listings, and the first file is copied while the listings go on.
What the planner decides is counted in a ``Plan``; the files to delete wait in
a temporary file (``Spool``) for the copies to end.
"""

from __future__ import annotations

import datetime
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from genro_storage_django.transfer.listing import FileStat, Item
from genro_storage_django.transfer.ordered import Listed
from genro_storage_django.transfer.result import FileOutcome
from genro_storage_django.transfer.rules import Verdict


@dataclass(frozen=True)
class Decision:
    """One file of a plan and what the listings decided for it."""

    item: Item
    verdict: Verdict

    def encode(self) -> list[Any]:
        """Return the decision as JSON-ready data (a spool line, a Celery shard's entry)."""
        item = self.item
        target = None if item.target_stat is None else _stat(item.target_stat)
        return [item.name, item.source, item.target, _stat(item.stat), target, *self.verdict]

    @classmethod
    def decode(cls, data: list[Any]) -> Decision:
        name, source, target, stat, target_stat, action, reason = data
        target_stat = None if target_stat is None else _unstat(target_stat)
        return cls(Item(name, source, target, _unstat(stat), target_stat), Verdict(action, reason))


def _stat(stat: FileStat) -> list[Any]:
    modified = None if stat.modified is None else stat.modified.isoformat()
    return [stat.size, modified, dict(stat.checksums)]


def _unstat(data: list[Any]) -> FileStat:
    size, modified, checksums = data
    when = None if modified is None else datetime.datetime.fromisoformat(modified)
    return FileStat(size, when, checksums)


def merge(
    sources: Iterable[Listed], targets: Iterable[Listed]
) -> Iterator[tuple[str, FileStat | None, FileStat | None]]:
    """Yield ``(name, source stat, target stat)`` for every name of either listing, in order.

    Both listings must be in key order (``ordered.ordered_files()``); a side
    that lacks the name gives None.
    """
    source_iter, target_iter = iter(sources), iter(targets)
    source, target = next(source_iter, None), next(target_iter, None)
    while source is not None or target is not None:
        if target is None or (source is not None and source[0] < target[0]):
            assert source is not None
            yield source[0], source[1], None
            source = next(source_iter, None)
        elif source is None or target[0] < source[0]:
            yield target[0], None, target[1]
            target = next(target_iter, None)
        else:
            yield source[0], source[1], target[1]
            source, target = next(source_iter, None), next(target_iter, None)


class Spool:
    """Entries kept in a temporary file, one JSON line each, read back in order."""

    def __init__(self) -> None:
        # Closed by close(): a spool outlives the block that fills it.
        self._file: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self.count = 0
        self.size = 0

    def add(self, data: Any, size: int = 0) -> None:
        """Add ``data`` (JSON-ready), counting ``size`` bytes."""
        self._file.write(json.dumps(data, ensure_ascii=False) + "\n")
        self.count += 1
        self.size += size

    def __iter__(self) -> Iterator[Any]:
        # Each iteration reads the file again from its start.
        self._file.flush()
        self._file.seek(0)
        return (json.loads(line) for line in self._file)

    def close(self) -> None:
        self._file.close()


def _ignore(outcome: FileOutcome) -> None:
    pass


@dataclass
class Plan:
    """What the planner has decided so far: the files to copy or compare counted, the
    skips handed to ``skipped`` one outcome at a time, the deletions spooled.
    """

    skipped: Callable[[FileOutcome], None] = _ignore
    work: int = 0  # files to copy or compare
    size: int = 0  # their bytes
    skips: int = 0
    extra: Spool = field(default_factory=Spool)

    @property
    def files(self) -> int:
        """Files to process: the listener's ``planned()`` count."""
        return self.work + self.extra.count

    def take(self, decision: Decision) -> bool:
        """Count ``decision``; return True if it is work, False for a skip (handed on)."""
        item, (action, reason) = decision.item, decision.verdict
        if action == "skip":
            self.skip(item.name, item.stat.size, reason)
            return False
        self.work += 1
        self.size += item.stat.size
        return True

    def skip(self, name: str, size: int, reason: str) -> None:
        self.skips += 1
        self.skipped(FileOutcome(name, "skip", size, reason))

    def close(self) -> None:
        self.extra.close()

    def __enter__(self) -> Plan:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
