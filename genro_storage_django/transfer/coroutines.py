"""Many small files on an async filesystem: coroutines on its event loop, not threads.

Each file would otherwise cross from a worker thread to the loop and back: a
fifth of the CPU of an S3 → local copy.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Awaitable
from typing import TYPE_CHECKING, TypeVar

from genro_storage_django.transfer.result import FileOutcome, TransferResult

if TYPE_CHECKING:
    from genro_storage_django.backends.base import Backend
    from genro_storage_django.transfer.control import Budget, Retry
    from genro_storage_django.transfer.listing import Item
    from genro_storage_django.transfer.result import TransferListener

T = TypeVar("T")


class SmallFiles:
    """The coroutine half of ``Transfer``: what it needs of it is declared here."""

    source_backend: Backend
    target_backend: Backend
    server_side: bool
    workers: int
    listener: TransferListener
    retry: Retry
    budget: Budget
    _stop: threading.Event

    def _record(self, result: TransferResult, outcome: FileOutcome | None) -> None:
        raise NotImplementedError("Transfer provides _record()")

    def _copy_small(
        self, loop: asyncio.AbstractEventLoop, work: list[tuple[Item, str]], result: TransferResult
    ) -> None:
        coroutine = in_context(contextvars.copy_context(), self._copy_small_files(work, result))
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        try:
            future.result()
        except KeyboardInterrupt:
            # Running copies finish; queued ones never start.
            self._stop.set()
            result.interrupted = True
            future.result()

    async def _copy_small_files(self, work: list[tuple[Item, str]], result: TransferResult) -> None:
        queue = iter(work)  # shared by the workers: they all run in this one thread

        async def worker() -> None:
            for item, reason in queue:
                if self._stop.is_set():
                    return
                try:
                    try:
                        outcome = await self._small_outcome(item, reason)
                    except Exception as error:
                        outcome = FileOutcome(item.name, "fail", item.stat.size, reason_of(error))
                    self._record(result, outcome)
                except KeyboardInterrupt:
                    # Raised by a listener: out on the event loop it would stop
                    # the loop itself, which every later fsspec call needs.
                    self._stop.set()
                    result.interrupted = True
                    return
                except BaseException:
                    self._stop.set()  # the other workers stop at their next file
                    raise

        # Wait for every worker before raising: nothing runs on once copy() returns.
        ended = await asyncio.gather(
            *(worker() for _ in range(self.workers)), return_exceptions=True
        )
        for error in ended:
            if isinstance(error, BaseException):
                raise error

    async def _small_outcome(self, item: Item, reason: str) -> FileOutcome:
        if not self.budget.take(item.stat.size):
            return FileOutcome(item.name, "defer", item.stat.size, "over max-transfer")
        await self.retry.call_async(self._copy_small_file, item)
        return FileOutcome(item.name, "copy", item.stat.size, reason)

    async def _copy_small_file(self, item: Item) -> None:
        source, target = self.source_backend, self.target_backend
        if not (
            self.server_side and await source.copy_within_async(target, item.source, item.target)
        ):
            await target.write_async(item.target, await source.read_async(item.source))
        self.listener.transferred(item.stat.size)
        if item.stat.modified is not None:
            target.set_modified(item.target, item.stat.modified)


def reason_of(error: Exception) -> str:
    """Return the reason a file failed, as the outcome shows it."""
    return f"{type(error).__name__}: {error}"


async def in_context(context: contextvars.Context, coroutine: Awaitable[T]) -> T:
    """Await ``coroutine`` with the variables of ``context`` (a task on another thread's loop)."""
    for variable, value in context.items():
        variable.set(value)
    return await coroutine
