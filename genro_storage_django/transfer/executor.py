"""One executor shape for every job of a copy: run elsewhere, hear the result here.

A job (compare one file, copy one file) runs in a thread pool or as a
coroutine on a filesystem's event loop; either way it gives back a
``concurrent.futures.Future``, and the caller's thread waits for those,
records each outcome and submits the next jobs. Listener callbacks other than
``transferred()`` therefore run in the caller's thread only, and Ctrl-C has a
single way out: ``Driver.run()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from genro_storage_django.transfer.coroutines import in_context

Job = Callable[[], Any]


class Cancelled(Exception):
    """A job that did not start, or stopped at its next chunk, because the copy is stopping."""


class Interrupted(Exception):
    """A KeyboardInterrupt raised inside a job, carried back to the caller's thread.

    Raised on an event loop, a KeyboardInterrupt would stop the loop itself,
    which every later fsspec call needs.
    """


class Threads:
    """Jobs in ``size`` threads, each in a copy of the caller's context (the current tenant)."""

    def __init__(self, size: int, name: str = "storage-copy") -> None:
        # Runners of one group share their size (their group's name).
        self.size, self.group = size, name
        self._pool = ThreadPoolExecutor(size, thread_name_prefix=name)

    def submit(self, job: Job) -> Future[Any]:
        return self._pool.submit(contextvars.copy_context().run, job)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class Loop:
    """Coroutine jobs on an event loop another thread runs (fsspec's)."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, size: int, group: str = "storage-copy"
    ) -> None:
        self.loop, self.size, self.group = loop, size, group

    def submit(self, job: Callable[[], Awaitable[Any]]) -> Future[Any]:
        coroutine = in_context(contextvars.copy_context(), _guarded(job))
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def close(self) -> None:
        pass


async def _guarded(job: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await job()
    except KeyboardInterrupt as error:
        raise Interrupted() from error


Done = Callable[[Future[Any], Any], None]


class Driver:
    """Keep each runner busy with at most its size of jobs; hand each result to its ``done``.

    ``feed`` yields ``(runner, job, done, key)``; ``done(future, key)`` runs here,
    in the caller's thread, and may ``push()`` more jobs (a copy after a
    comparison). On Ctrl-C, or any error out of a ``done``, ``stop`` is set
    (jobs not started yet raise ``Cancelled``) and the running ones are waited
    for, their results still handed over, before the error goes on.
    """

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self._pending: dict[Future[Any], tuple[Any, Done, Any]] = {}
        self._extra: list[tuple[Any, Job, Done, Any]] = []

    def push(self, runner: Any, job: Any, done: Done, key: Any) -> None:
        self._extra.append((runner, job, done, key))

    def run(self, feed: Iterator[tuple[Any, Job, Done, Any]]) -> None:
        try:
            self._loop(feed)
        except BaseException:
            self.stop.set()
            self._drain()
            raise

    def _loop(self, feed: Iterator[tuple[Any, Job, Done, Any]]) -> None:
        blocked: tuple[Any, Job, Done, Any] | None = None
        while True:
            blocked = self._fill(feed, blocked)
            if not self._pending:
                return
            finished, _ = wait(self._pending, return_when=FIRST_COMPLETED)
            for future in finished:
                _, done, key = self._pending.pop(future)
                done(future, key)

    def _fill(
        self, feed: Iterator[tuple[Any, Job, Done, Any]], blocked: tuple[Any, Job, Done, Any] | None
    ) -> tuple[Any, Job, Done, Any] | None:
        """Submit jobs until a runner is full; return the job that found it full."""
        while self._extra and self._room(self._extra[0][0]):
            self._submit(*self._extra.pop(0))
        while not self.stop.is_set():
            entry = blocked if blocked is not None else next(feed, None)
            if entry is None:
                return None
            if not self._room(entry[0]):
                return entry
            self._submit(*entry)
            blocked = None
        return None

    def _room(self, runner: Any) -> bool:
        busy = sum(1 for entry in self._pending.values() if entry[0].group == runner.group)
        return busy < runner.size

    def _submit(self, runner: Any, job: Job, done: Done, key: Any) -> None:
        self._pending[runner.submit(job)] = (runner, done, key)

    def _drain(self) -> None:
        """Wait for the running jobs (``stop`` makes them end soon) and hand over their results."""
        # No future is cancelled: on the loop that would cut a copy short mid-write.
        wait(self._pending)
        for future, (_, done, key) in list(self._pending.items()):
            # The first error is the one to raise: a second Ctrl-C, say, is dropped.
            with contextlib.suppress(BaseException):
                done(future, key)
        self._pending.clear()
