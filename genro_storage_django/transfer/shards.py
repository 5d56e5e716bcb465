"""Shards of a copy: cut from the plan, run by the same engine in another process.

A shard is JSON-ready data (what a Celery message carries): the two
locations, the copy's options, the current tenant and the decisions of a run
of consecutive files. ``run_shard()`` copies them and returns their outcomes;
asked again after a worker was lost (``redelivered``), it first looks at each
destination file, so that what the lost attempt finished is skipped.
Nothing here imports Celery.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.utils.translation import gettext as _

from genro_storage_django.tenants import current_tenant
from genro_storage_django.transfer.plan import Decision
from genro_storage_django.transfer.result import FileOutcome, TransferListener

#: Files and bytes of a shard at most, unless the copy says otherwise: small
#: enough that a worker lost mid-shard costs little and that many shards keep
#: every worker busy (fast workers take more), large enough that the task's own
#: cost (a message, a result, about 10 ms) is small beside the shard's.
SHARD_FILES = 500
SHARD_BYTES = 256 * 1024 * 1024
DONE_BEFORE = "done by an earlier attempt"


def cut(decisions: Iterator[Decision], files: int, size: int) -> Iterator[list[Decision]]:
    """Yield runs of consecutive ``decisions`` of at most ``files`` files and ``size`` bytes.

    A file larger than ``size`` is a shard of its own.
    """
    check_limits(files, size)
    return _cut(decisions, files, size)


def check_limits(files: int, size: int) -> None:
    """Raise ``ValueError`` unless shards may hold ``files`` files and ``size`` bytes."""
    if files < 1 or size < 1:
        message = _("shards need at least 1 file and 1 byte, not %(files)s and %(size)s.")
        raise ValueError(message % {"files": files, "size": size})


def _cut(decisions: Iterator[Decision], files: int, size: int) -> Iterator[list[Decision]]:
    shard: list[Decision] = []
    total = 0
    for decision in decisions:
        grown = total + decision.item.stat.size
        if shard and (len(shard) >= files or grown > size):
            yield shard
            shard, grown = [], decision.item.stat.size
        shard.append(decision)
        total = grown
    if shard:
        yield shard


def make_shard(transfer: Any, decisions: list[Decision]) -> dict[str, Any]:
    """Return the message of a shard of ``transfer`` (the engine's ``Transfer``)."""
    return {
        "source": str(transfer.source),
        "destination": str(transfer.destination),
        "options": transfer.options,
        "tenant": current_tenant(),
        "decisions": [decision.encode() for decision in decisions],
    }


def outcomes_of(answer: dict[str, Any]) -> list[FileOutcome]:
    """Return the outcomes a shard's answer carries."""
    return [FileOutcome(*data) for data in answer["outcomes"]]


class ShardProgress(TransferListener):
    """Report the bytes and files a shard has done through ``report(meta)``, twice a second.

    Reported from ``done()`` only, in the task's thread: ``transferred()`` may
    come from an event loop, which a request to the result backend would hold up.
    """

    def __init__(self, report: Callable[[dict[str, int]], None], every: float = 0.5) -> None:
        self.report, self.every = report, every
        self.bytes = self.files = 0
        self._lock = threading.Lock()
        self._last = 0.0

    def transferred(self, size: int) -> None:
        with self._lock:
            self.bytes += size

    def done(self, outcome: FileOutcome) -> None:
        with self._lock:
            self.files += 1
        self._maybe_report()

    def _maybe_report(self) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.every:
                return
            self._last = now
            meta = {"bytes": self.bytes, "files": self.files}
        self.report(meta)
