"""How a backend operation runs as a coroutine without blocking the caller's event loop.

Three ways, chosen per backend (see ``call()``):

* natively, on an async fsspec filesystem (s3, gcs, azure): the operation's
  ``<name>_async`` coroutine runs on fsspec's own event loop and the caller
  awaits it. No thread is held, whatever the caller's loop (uvicorn's, an
  ``async_to_sync`` one, a test's), and the sync API shares the same client
  and connection pool. Creating a filesystem per caller loop instead would
  cost a client and a pool per loop, and a filesystem bound to a loop that
  has ended.
* inline, where an operation never waits for anything (memory).
* in a small bounded thread pool (a local disk, http), as Django's
  ``sync_to_async`` would, but with a fixed number of threads.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable, Coroutine, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from genro_storage_django.backends import checked

if TYPE_CHECKING:
    from genro_storage_django.backends.base import Backend
    from genro_storage_django.backends.checked import Check

T = TypeVar("T")

#: Threads for the blocking backends' operations, shared by the whole process.
POOL_SIZE = 8
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(POOL_SIZE, thread_name_prefix="genro-storage-async")
        return _pool


async def run_blocking(function: Callable[..., T], *args: Any) -> T:
    """Run ``function(*args)`` in the bounded pool, in the caller's context (the tenant)."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, function, *args)
    return await asyncio.get_running_loop().run_in_executor(_executor(), call)


async def on_loop(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, T]) -> T:
    """Await ``coroutine`` run on ``loop``, which may be another thread's.

    Cancelling the caller cancels the coroutine there too.
    """
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        return await coroutine
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, loop))


async def filesystem(backend: Backend) -> Any:
    """Return the backend's fsspec filesystem, made in the pool the first time.

    Making it imports the SDK and builds its client: a quarter of a second
    that must not stall the first request's event loop.
    """
    if "fs" not in backend.__dict__ and not backend.no_io:
        await run_blocking(getattr, backend, "fs")
    return backend.fs


async def call(backend: Backend, operation: str, *args: Any) -> Any:
    """Run the backend's ``operation(*args)`` without blocking the running event loop."""
    await filesystem(backend)
    loop = backend.event_loop()
    if loop is not None:
        return await on_loop(loop, getattr(backend, f"{operation}_async")(*args))
    function = getattr(backend, operation)
    if backend.no_io:
        return function(*args)
    return await run_blocking(function, *args)


async def read_block(body: Any, size: int) -> bytes:
    """Return the next ``size`` bytes of the SDK's response ``body`` (fewer at its end)."""
    parts: list[bytes] = []
    wanted = size
    while wanted and (data := await body.read(wanted)):
        parts.append(data)
        wanted -= len(data)
    return b"".join(parts)


class Writer(Protocol):
    """A file being written as a coroutine: nothing is visible before ``close()``."""

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None: ...

    async def abort(self) -> None: ...


class BufferedWriter:
    """A writer for a memory backend: the bytes are in memory anyway."""

    def __init__(
        self, backend: Backend, path: str, overwrite: bool, parameters: dict[str, Any]
    ) -> None:
        self.backend, self.path, self.overwrite = backend, path, overwrite
        self.parameters = parameters
        self.chunks: list[bytes] = []

    async def write(self, data: bytes) -> None:
        self.chunks.append(bytes(data))

    async def close(self) -> None:
        self.backend.write(self.path, self.chunks, self.overwrite, self.parameters)

    async def abort(self) -> None:
        self.chunks.clear()


_END = object()


class ThreadWriter:
    """A writer for a blocking backend: ``Backend.write()`` in one pool thread.

    The thread takes the chunks from a small queue, so memory stays bounded,
    and the backend's own rules (temporary file, exclusive create, nothing
    published on failure) apply exactly as in ``save()``.
    """

    depth = 4

    def __init__(
        self, backend: Backend, path: str, overwrite: bool, parameters: dict[str, Any]
    ) -> None:
        self.backend, self.path, self.overwrite = backend, path, overwrite
        self.parameters = parameters
        self.queue: asyncio.Queue[Any] = asyncio.Queue(self.depth)
        self.task: asyncio.Future[None] | None = None

    def _chunks(self, loop: asyncio.AbstractEventLoop) -> Iterator[bytes]:
        while True:
            item = asyncio.run_coroutine_threadsafe(self.queue.get(), loop).result()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    async def _put(self, item: object) -> None:
        if self.task is None:
            chunks = self._chunks(asyncio.get_running_loop())
            write = self.backend.write
            self.task = asyncio.ensure_future(
                run_blocking(write, self.path, chunks, self.overwrite, self.parameters)
            )
        put = asyncio.ensure_future(self.queue.put(item))
        await asyncio.wait({put, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()
            self.task.result()  # the write failed before taking this chunk: its error

    async def write(self, data: bytes) -> None:
        await self._put(bytes(data))

    async def close(self) -> None:
        await self._put(_END)
        assert self.task is not None
        await self.task

    async def abort(self) -> None:
        if self.task is not None and not self.task.done():
            # The write raises, which removes what it had written.
            await self._put(OSError("write abandoned"))
            await asyncio.gather(self.task, return_exceptions=True)


class Reader(Protocol):
    """A file being read as a coroutine."""

    size: int

    async def read(self, size: int = -1) -> bytes: ...

    async def seek(self, offset: int) -> None: ...

    async def close(self) -> None: ...


class ThreadReader:
    """A blocking backend's file, read in the bounded pool."""

    def __init__(self, file: Any, size: int) -> None:
        self.file, self.size = file, size

    async def read(self, size: int = -1) -> bytes:
        return bytes(await run_blocking(self.file.read, size))

    async def seek(self, offset: int) -> None:
        await run_blocking(self.file.seek, offset)

    async def close(self) -> None:
        await run_blocking(self.file.close)


class RangeReader:
    """An object read with ranged GETs, as ``open()`` reads it: small ones first, growing
    up to ``block_size`` while the read goes on sequentially (``backends.readahead``).
    """

    def __init__(
        self, backend: Backend, path: str, size: int, block_size: int, check: Check | None = None
    ) -> None:
        from genro_storage_django.backends.readahead import Window

        self.backend, self.path, self.size, self.block_size = backend, path, size, block_size
        self.position = 0
        self.buffer, self.buffer_start = b"", 0
        self.window = Window(block_size)
        self.fetched = False
        #: The digest check of a read from start to end (``backends.checked``).
        self.check = check

    async def read(self, size: int = -1) -> bytes:
        start = self.position
        end = self.size if size is None or size < 0 else min(self.size, self.position + size)
        parts = []
        while self.position < end:
            offset = self.position - self.buffer_start
            if not 0 <= offset < len(self.buffer):
                await self._fill(end)
                offset = 0
            part = self.buffer[offset : offset + end - self.position]
            parts.append(part)
            self.position += len(part)
        data = b"".join(parts)
        if self.check is not None:
            self.check.feed(start, data)
        return data

    async def _fill(self, wanted_end: int) -> None:
        # A read larger than the window is fetched in one range, as
        # backends.readahead's cache does; a fill where the last one ended
        # goes on sequentially, any other follows a seek.
        sequential = self.fetched and self.position == self.buffer_start + len(self.buffer)
        window = self.window.next(sequential, wanted_end - self.position)
        stop = min(self.size, self.position + window)
        self.buffer = await call(self.backend, "read_range", self.path, self.position, stop)
        self.buffer_start = self.position
        self.fetched = True
        if not self.buffer:
            raise OSError(f"{self.path}: the object ended before its size")

    async def seek(self, offset: int) -> None:
        self.position = max(0, offset)

    async def close(self) -> None:
        self.buffer = b""


class Chunks:
    """Bytes received in chunks, handed on in parts of a given size with one copy each."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, data: bytes) -> None:
        if data:
            self.chunks.append(data)
            self.size += len(data)

    def take(self, size: int | None = None) -> bytes:
        """Remove and return the first ``size`` bytes (all of them by default)."""
        size = self.size if size is None else min(size, self.size)
        taken: list[bytes | memoryview] = []
        wanted = size
        while wanted:
            chunk = self.chunks[0]
            if len(chunk) <= wanted:
                taken.append(self.chunks.pop(0))
                wanted -= len(chunk)
            else:
                view = memoryview(chunk)
                taken.append(view[:wanted])
                self.chunks[0] = bytes(view[wanted:])
                wanted = 0
        self.size -= size
        return b"".join(taken)


class PartWriter:
    """A writer for an object store: one request for a small file, parts for a big one.

    Up to one part (``Backend.block_size``) is kept in memory; past that the
    adapter's native multipart upload takes over, or, where it has none,
    ``Backend.write()`` in a pool thread.
    """

    def __init__(
        self,
        backend: Any,
        path: str,
        overwrite: bool,
        parameters: dict[str, Any],
        in_flight: int = 1,
    ) -> None:
        self.backend, self.path, self.overwrite = backend, path, overwrite
        self.parameters = parameters
        #: Parts of a multipart upload sent at once (``multipart_writer()``).
        self.in_flight = in_flight
        self.buffer = Chunks()
        self.upload: Writer | None = None

    async def write(self, data: bytes) -> None:
        if self.upload is not None:
            await self.upload.write(data)
            return
        self.buffer.add(data)
        if self.buffer.size > self.backend.block_size:
            where = (self.path, self.overwrite, self.parameters)
            native = self.backend.multipart_writer(*where, in_flight=self.in_flight)
            self.upload = native or ThreadWriter(self.backend, *where)
            chunks, self.buffer = self.buffer.chunks, Chunks()
            for chunk in chunks:
                await self.upload.write(chunk)

    async def close(self) -> None:
        if self.upload is not None:
            await self.upload.close()
            return
        data = self.buffer.take()
        await call(self.backend, "put", self.path, data, self.overwrite, self.parameters)

    async def abort(self) -> None:
        self.buffer = Chunks()
        if self.upload is not None:
            await self.upload.abort()


async def open_reader(backend: Backend, path: str) -> Reader:
    """Open the file at ``path`` for reading as coroutines, as ``Backend.open(path, "rb")``."""
    await filesystem(backend)
    if backend.event_loop() is not None:
        # What a file opened for reading starts from: with the digest to check.
        info = await call(backend, "file_details", path)
        if info.get("type") == "directory":
            raise FileNotFoundError(path)  # the storage says IsADirectoryError
        check = checked.check_for(backend, path, info)
        return RangeReader(backend, path, int(info["size"]), backend.block_size, check)
    if backend.no_io:
        file = backend.open(path, "rb")
    else:
        file = await run_blocking(backend.open, path, "rb")
    return ThreadReader(file, await call(backend, "size", path))


async def open_writer(
    backend: Backend, path: str, overwrite: bool, parameters: Mapping[str, Any] | None = None
) -> Writer:
    """Return a ``Writer`` for ``path`` with ``Backend.write()``'s rules (``overwrite``,
    the object ``parameters``).

    Nothing is visible under ``path`` before the writer's ``close()``.
    """
    await filesystem(backend)
    where = (path, overwrite, backend.object_parameters(path, parameters))
    if backend.event_loop() is not None:
        return PartWriter(backend, *where)
    if backend.no_io:
        return BufferedWriter(backend, *where)
    return ThreadWriter(backend, *where)
