"""What a transfer reports: one outcome per file, totals, and progress callbacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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


@dataclass
class TransferResult:
    """The outcome of a transfer, file by file, with totals."""

    source: str
    destination: str
    dry_run: bool = False
    outcomes: list[FileOutcome] = field(default_factory=list)
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
        return not self.interrupted and not self.failed

    @property
    def bytes_copied(self) -> int:
        return sum(outcome.size for outcome in self.by_action("copy"))

    @property
    def throughput(self) -> float:
        """Bytes copied per second."""
        return self.bytes_copied / self.elapsed if self.elapsed else 0.0

    def summary(self) -> dict[str, Any]:
        """Return the totals as JSON-ready data."""
        actions = ("copy", "skip", "delete", "defer")
        counts = {action: len(self.by_action(action)) for action in actions}
        return {
            "event": "summary",
            "source": self.source,
            "destination": self.destination,
            "dry_run": self.dry_run,
            "interrupted": self.interrupted,
            "copied": counts["copy"],
            "skipped": counts["skip"],
            "deleted": counts["delete"],
            "failed": len(self.failed),
            "deferred": counts["defer"],
            "bytes": self.bytes_copied,
            "elapsed": round(self.elapsed, 3),
            "throughput": round(self.throughput),
            "failures": [{"name": f.name, "reason": f.reason} for f in self.failed],
        }


class TransferListener:
    """Follow a transfer: ``transferred`` is called from the worker threads, the rest
    from the caller's thread.
    """

    def planned(self, files: int, size: int) -> None:
        """Receive the number of files and bytes left to process once the listings are compared."""

    def transferred(self, size: int) -> None:
        """Receive the size of one more chunk processed."""

    def done(self, outcome: FileOutcome) -> None:
        """Receive the outcome of one file."""
