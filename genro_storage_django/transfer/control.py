"""How a copy paces itself: retries with back-off, a bandwidth limit, a byte budget."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import TypeVar

from django.utils.translation import gettext as _

from genro_storage_django.transfer.units import check_not_negative

T = TypeVar("T")

# Errors that say what the file or the credentials are: trying again cannot help.
PERMANENT = (
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)
MAX_DELAY = 30.0


def transient(error: BaseException) -> bool:
    """Return True for errors worth another attempt: throttling, 5xx, resets, timeouts.

    Backends raise ``OSError`` for what went wrong with the service, and one
    of the ``PERMANENT`` subclasses for what is wrong with the file itself.
    """
    return isinstance(error, OSError) and not isinstance(error, PERMANENT)


class Retry:
    """Call a function up to ``retries + 1`` times, waiting ``delay`` seconds, then twice that…

    ``stop`` cuts a wait short (Ctrl-C): the last error is raised at once.
    """

    def __init__(self, retries: int = 0, delay: float = 0.5, stop: threading.Event | None = None):
        check_not_negative("retries", retries)
        self.retries, self.delay = retries, delay
        self.stop = stop or threading.Event()

    def wait(self, attempt: int) -> float:
        """Return the seconds to wait after failed attempt number ``attempt`` (from 0)."""
        return min(self.delay * 2**attempt, MAX_DELAY)

    def call(self, function: Callable[..., T], *args: object) -> T:
        for attempt in range(self.retries + 1):
            try:
                return function(*args)
            except Exception as error:
                if not self._again(error, attempt) or self.stop.wait(self.wait(attempt)):
                    raise
        raise AssertionError("unreachable")

    async def call_async(self, function: Callable[..., Awaitable[T]], *args: object) -> T:
        for attempt in range(self.retries + 1):
            try:
                return await function(*args)
            except Exception as error:
                if not self._again(error, attempt) or self.stop.is_set():
                    raise
                await asyncio.sleep(self.wait(attempt))
        raise AssertionError("unreachable")

    def resumed(self, listing: Callable[[], Iterable[T]], key: Callable[[T], str]) -> Iterator[T]:
        """Yield what ``listing()`` yields, in ``key`` order; after an error worth another
        attempt, list again and go on after the last key yielded.

        For a listing read as it is used: what was yielded has been acted on.
        """
        last: str | None = None
        for attempt in range(self.retries + 1):
            try:
                for entry in listing():
                    if last is None or key(entry) > last:
                        last = key(entry)
                        yield entry
                return
            except Exception as error:
                if not self._again(error, attempt) or self.stop.wait(self.wait(attempt)):
                    raise

    def _again(self, error: Exception, attempt: int) -> bool:
        return attempt < self.retries and transient(error)


class BandwidthLimit:
    """Hold the threads that move bytes so that together they move ``rate`` bytes a second.

    Each ``take(size)`` books the next ``size / rate`` seconds of the link and
    waits for the booking to start, so that sending overlaps the next wait;
    ``drain()`` waits for the last booking to end. Over a copy, the average
    is then ``rate``: bursts are one chunk long.
    """

    def __init__(self, rate: int, stop: threading.Event | None = None) -> None:
        if rate < 1:
            message = _("bwlimit must be at least 1 byte per second, not %(rate)s.")
            raise ValueError(message % {"rate": rate})
        self.rate = rate
        self.stop = stop or threading.Event()
        self._free_at = 0.0
        self._lock = threading.Lock()

    def take(self, size: int) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(self._free_at, now)
            self._free_at = start + size / self.rate
        self.stop.wait(start - now)

    def drain(self) -> None:
        self.stop.wait(self._free_at - time.monotonic())


class Budget:
    """The bytes a copy may still move (``--max-transfer``), shared by the workers."""

    def __init__(self, limit: int | None) -> None:
        if limit is not None:
            check_not_negative("max_transfer", limit)
        self.left = limit
        self._lock = threading.Lock()

    def take(self, size: int) -> bool:
        """Return True and count ``size`` if it fits in what is left; False otherwise."""
        with self._lock:
            if self.left is None:
                return True
            if size > self.left:
                return False
            self.left -= size
            return True
