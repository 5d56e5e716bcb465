"""Running a plan in this process: comparisons and copies as jobs of one ``Driver``.

The decisions are read once, as the planner makes them. Small files are
copied as coroutines on the filesystems' event loop when both mounts can work
on one (one request each, ``in_flight`` at once: a latency hidden whatever
the threads), the others in ``workers`` threads; ``--skip hash`` comparisons
run in ``checkers`` threads, a file found different becoming a copy. Every outcome is recorded,
and heard by the listener, in the caller's thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import Any

from genro_storage_django.transfer.coroutines import reason_of
from genro_storage_django.transfer.executor import Cancelled, Driver, Interrupted, Loop, Threads
from genro_storage_django.transfer.listing import Item
from genro_storage_django.transfer.plan import Decision
from genro_storage_django.transfer.result import FileOutcome, TransferResult

Entry = tuple[Any, Any, Any, Any]


@dataclass
class Runners:
    """Where the jobs of one execution run."""

    copies: Threads
    checkers: Threads
    loop: Loop | None

    def close(self) -> None:
        for runner in (self.copies, self.checkers, self.loop):
            if runner is not None:
                runner.close()


class Execution:
    """The compare and copy jobs of one ``Transfer.execute()``, into ``result``."""

    def __init__(self, transfer: Any, result: TransferResult) -> None:
        # transfer: the engine's Transfer (not imported: the engine imports this module).
        self.transfer, self.result = transfer, result
        self.files = transfer.files
        self.driver = Driver(transfer._stop)

    def run(self, decisions: Iterable[Decision]) -> None:
        """Run ``decisions``, read as the jobs make room for more."""
        loop = self._event_loop()
        transfer = self.transfer
        self.runners = Runners(
            Threads(transfer.workers, "storage-copy"),
            Threads(transfer.checkers, "storage-compare"),
            None if loop is None else Loop(loop, transfer.in_flight, "storage-loop"),
        )
        try:
            self.driver.run(self._jobs(iter(decisions)))
        finally:
            self.runners.close()

    def _jobs(self, decisions: Iterator[Decision]) -> Iterator[Entry]:
        for decision in decisions:
            item = decision.item
            if decision.verdict.action == "hash":
                yield self.runners.checkers, partial(self.files.same, item), self._compared, item
            else:
                yield self._copy_job(item, decision.verdict.reason)

    def _copy_job(self, item: Item, reason: str) -> Entry:
        loop = self.runners.loop
        if loop is not None and self.files.small(item):
            return loop, partial(self.files.copy_small, item, reason), self._copied, item
        return self.runners.copies, partial(self.files.copy, item, reason), self._copied, item

    def _compared(self, future: Future[bool], item: Item) -> None:
        try:
            same = future.result()
        except Cancelled:
            return
        except Exception as error:
            self._record(FileOutcome(item.name, "fail", item.stat.size, reason_of(error)))
            return
        if same:
            self.transfer.listener.transferred(item.stat.size)
            self._record(FileOutcome(item.name, "skip", item.stat.size, "same checksum"))
        else:
            self.driver.push(*self._copy_job(item, "checksum differs"))

    def _copied(self, future: Future[FileOutcome], item: Item) -> None:
        try:
            outcome: FileOutcome | None = future.result()
        except Cancelled:
            outcome = None
        except Interrupted:
            raise KeyboardInterrupt from None
        except Exception as error:
            outcome = FileOutcome(item.name, "fail", item.stat.size, reason_of(error))
        self._record(outcome)

    def _record(self, outcome: FileOutcome | None) -> None:
        self.transfer.record(self.result, outcome)

    def _event_loop(self) -> asyncio.AbstractEventLoop | None:
        """Return the loop both backends can work on, or None to use threads only."""
        files = self.files
        if files.dry_run or files.verify or files.bandwidth is not None:
            return None  # the threads do what the coroutines do not
        backends = (self.transfer.source_backend, self.transfer.target_backend)
        loops = {backend.event_loop() for backend in backends} - {None}
        if len(loops) != 1 or not all(b.event_loop() or b.inline_io for b in backends):
            return None
        return loops.pop()
