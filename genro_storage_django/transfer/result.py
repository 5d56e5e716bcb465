"""What a transfer reports: one outcome per file, totals, and progress callbacks."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: Bytes of outcomes kept in memory before they go to a temporary file (some 10,000 files).
OUTCOMES_IN_MEMORY = 1024 * 1024


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file: ``action`` is copy, skip, delete, fail or defer.

    In a dry run, copy and delete say what a real run would do. ``defer``: not
    started, to stay within ``max_transfer``. ``backup`` is the ``MOUNT:PATH``
    the destination's previous file was moved to (``backup_dir``).
    """

    name: str
    action: str
    size: int = 0
    reason: str = ""
    backup: str = ""

    def event(self) -> dict[str, Any]:
        """Return the outcome as the JSON object of ``storage_copy --json``."""
        return {
            "event": "file",
            "name": self.name,
            "action": self.action,
            "size": self.size,
            "reason": self.reason,
            "backup": self.backup or None,
        }


class Outcomes:
    """The outcomes of a transfer in the order they came, counted as they come.

    Past ``OUTCOMES_IN_MEMORY`` bytes they are kept in a temporary file, so
    that a copy of ten million files holds its counts in memory, not its files.
    """

    def __init__(self) -> None:
        # Closed with the result (garbage collected): it is the result's memory.
        self._file = tempfile.SpooledTemporaryFile(OUTCOMES_IN_MEMORY)  # noqa: SIM115
        self.counts: Counter[str] = Counter()
        self.sizes: Counter[str] = Counter()

    def append(self, outcome: FileOutcome) -> None:
        self._file.seek(0, 2)  # after whatever a reader read
        fields = [outcome.name, outcome.action, outcome.size, outcome.reason, outcome.backup]
        self._file.write(json.dumps(fields).encode() + b"\n")
        self.counts[outcome.action] += 1
        self.sizes[outcome.action] += outcome.size

    def __len__(self) -> int:
        return sum(self.counts.values())

    def __iter__(self) -> Iterator[FileOutcome]:
        offset = 0
        while True:
            # From where this reader stopped: an append may have moved the file's position.
            self._file.seek(offset)
            lines = self._file.readlines(64 * 1024)
            if not lines:
                return
            offset = self._file.tell()
            yield from (FileOutcome(*json.loads(line)) for line in lines)


@dataclass
class TransferResult:
    """The outcome of a transfer, file by file, with totals."""

    source: str
    destination: str
    dry_run: bool = False
    outcomes: Outcomes = field(default_factory=Outcomes)
    elapsed: float = 0.0
    interrupted: bool = False

    def by_action(self, action: str) -> list[FileOutcome]:
        return [outcome for outcome in self.outcomes if outcome.action == action]

    @property
    def failed(self) -> list[FileOutcome]:
        return self.by_action("fail")

    @property
    def deferred(self) -> list[FileOutcome]:
        """The files not started to stay within ``max_transfer``: a rerun copies them."""
        return self.by_action("defer")

    @property
    def ok(self) -> bool:
        """True if nothing failed and the copy ran to its end (``deferred`` files aside)."""
        return not self.interrupted and not self.outcomes.counts["fail"]

    @property
    def bytes_copied(self) -> int:
        return self.outcomes.sizes["copy"]

    @property
    def throughput(self) -> float:
        """Bytes copied per second."""
        return self.bytes_copied / self.elapsed if self.elapsed else 0.0

    def summary(self) -> dict[str, Any]:
        """Return the totals as JSON-ready data."""
        counts = self.outcomes.counts
        return {
            "event": "summary",
            "source": self.source,
            "destination": self.destination,
            "dry_run": self.dry_run,
            "interrupted": self.interrupted,
            "copied": counts["copy"],
            "skipped": counts["skip"],
            "deleted": counts["delete"],
            "failed": counts["fail"],
            "deferred": counts["defer"],
            "bytes": self.bytes_copied,
            "elapsed": round(self.elapsed, 3),
            "throughput": round(self.throughput),
            "failures": [{"name": f.name, "reason": f.reason} for f in self.failed],
        }


class TransferListener:
    """Follow a transfer: ``transferred`` is called from the worker threads, the rest
    from the caller's thread.

    Files are copied as the listings are compared: ``found()`` hears each file
    to process as it is decided, ``planned()`` the totals once the listings
    end, while the copies go on.
    """

    def found(self, name: str, size: int) -> None:
        """Receive one more file to process (copy or compare), before its copy starts."""

    def planned(self, files: int, size: int) -> None:
        """Receive the number of files and bytes to process, once the listings are compared
        (``files`` counts the deletions too)."""

    def transferred(self, size: int) -> None:
        """Receive the size of one more chunk processed."""

    def done(self, outcome: FileOutcome) -> None:
        """Receive the outcome of one file."""
