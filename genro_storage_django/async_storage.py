"""The async twins of ``MountStorage``'s methods: ``asave()``, ``aopen()``, ``aexists()``…

Each coroutine has the contract of its sync twin (names, permissions,
``file_overwrite``, exclusive create, errors). How a backend runs them without
blocking the caller's event loop is ``genro_storage_django.backends.aio``'s
business: natively on s3, gcs and azure, inline on memory, in a bounded
thread pool on local and http.
"""

from __future__ import annotations

import datetime
import io
import os
import pathlib
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.utils import validate_file_name

from genro_storage_django.backends import aio
from genro_storage_django.backends.base import Entry
from genro_storage_django.names import clean_name

if TYPE_CHECKING:
    from genro_storage_django.backends.base import Backend

#: Bytes per chunk when an ``AsyncMountFile`` is iterated, as Django's ``File``.
CHUNK_SIZE = File.DEFAULT_CHUNK_SIZE


class AsyncMountFile:
    """A file of a mount opened by ``aopen()``: ``read``, ``write``, ``seek``, ``close``
    are coroutines; ``async with`` closes it (and discards a write that failed);
    ``async for`` gives its chunks.
    """

    def __init__(
        self,
        name: str,
        mode: str,
        reader: aio.Reader | None = None,
        writer: aio.Writer | None = None,
    ) -> None:
        self.name, self.mode = name, mode
        self._reader, self._writer = reader, writer
        self.closed = False
        self._written = 0

    @property
    def size(self) -> int:
        return self._reader.size if self._reader is not None else self._written

    def readable(self) -> bool:
        return self._reader is not None

    def writable(self) -> bool:
        return self._writer is not None

    async def read(self, size: int = -1) -> bytes:
        if self._reader is None:
            raise io.UnsupportedOperation(f"{self.name!r} is open for writing.")
        return await self._reader.read(size)

    async def write(self, data: bytes | str) -> int:
        if self._writer is None:
            raise io.UnsupportedOperation(f"{self.name!r} is open for reading.")
        # Text is stored as UTF-8, as save() stores it.
        data = data.encode() if isinstance(data, str) else bytes(data)
        await self._writer.write(data)
        self._written += len(data)
        return len(data)

    async def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if self._reader is None:
            raise io.UnsupportedOperation("A file open for writing cannot seek.")
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.tell(), os.SEEK_END: self.size}[whence]
        await self._reader.seek(base + offset)
        return base + offset

    def tell(self) -> int:
        reader: Any = self._reader
        return self._written if reader is None else int(getattr(reader, "position", 0))

    async def close(self) -> None:
        """Close the file; a written file appears under its name now, whole."""
        if self.closed:
            return
        self.closed = True
        if self._writer is not None:
            await self._writer.close()
        elif self._reader is not None:
            await self._reader.close()

    async def discard(self) -> None:
        """Close a file open for writing without publishing anything."""
        self.closed = True
        if self._writer is not None:
            await self._writer.abort()

    async def __aenter__(self) -> AsyncMountFile:
        return self

    async def __aexit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if error is not None and self._writer is not None:
            await self.discard()
        else:
            await self.close()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while chunk := await self.read(CHUNK_SIZE):
            yield chunk


class AsyncStorageMixin:
    """Coroutines with Django's ``a`` prefix for every method of ``MountStorage``."""

    if TYPE_CHECKING:  # what the mixin uses of MountStorage
        chunk_size: ClassVar[int]

        @property
        def backend(self) -> Backend: ...
        @property
        def file_overwrite(self) -> bool: ...

        def _path(self, name: str) -> str: ...
        def get_object_parameters(self, name: str) -> dict[str, Any]: ...
        def _require(self, operation: str, name: str) -> None: ...
        def _datetime(self, value: datetime.datetime) -> datetime.datetime: ...
        def _local_entry(self, entry: Entry) -> Entry: ...
        def url(self, name: str | None) -> str: ...
        def is_name_available(self, name: str, max_length: int | None = None) -> bool: ...
        def get_alternative_name(self, file_root: str, file_ext: str) -> str: ...

    async def _acall(self, operation: str, name: str, *args: Any) -> Any:
        return await aio.call(self.backend, operation, self._path(name), *args)

    # Django's Storage API

    async def asave(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        """``save()`` as a coroutine; ``content`` may also be an async iterable of chunks."""
        if name is None:
            name = content.name
        if not hasattr(content, "chunks") and not isinstance(content, AsyncIterable):
            content = File(content, name)
        assert name is not None
        validate_file_name(name, allow_relative_path=True)
        name = await self.aget_available_name(name, max_length=max_length)
        validate_file_name(name, allow_relative_path=True)
        name = await self._asave(name, content)
        validate_file_name(name, allow_relative_path=True)
        return name

    async def _asave(self, name: str, content: Any) -> str:
        self._require("write", name)
        while True:
            parameters = self.get_object_parameters(name)
            path = self._path(name)
            writer = await aio.open_writer(self.backend, path, self.file_overwrite, parameters)
            try:
                async for chunk in _chunks(content, self.chunk_size):
                    await writer.write(chunk)
                await writer.close()
            except FileExistsError:
                if not await self.aexists(name) or isinstance(content, AsyncIterable):
                    raise  # a parent is a file, or content that cannot be read twice
                # Another writer took the name since aget_available_name().
                name = await self.aget_available_name(name)
            except BaseException:
                await writer.abort()
                raise
            else:
                return clean_name(name)

    async def aopen(self, name: str, mode: str = "rb") -> AsyncMountFile:
        """Open ``name`` for reading (``rb``) or writing (``wb``) as an ``AsyncMountFile``."""
        if mode not in ("rb", "wb"):
            raise ValueError(f"aopen() opens files in 'rb' or 'wb' mode, not {mode!r}.")
        if mode == "wb":
            self._require("write", name)
            parameters = self.get_object_parameters(name)
            writer = await aio.open_writer(self.backend, self._path(name), True, parameters)
            return AsyncMountFile(clean_name(name), mode, writer=writer)
        path = self._path(name)
        try:
            reader = await aio.open_reader(self.backend, path)
        except FileNotFoundError:
            # One error for a directory on every backend, as open() gives.
            if path != self.backend.mount_root and await self.aisdir(name):
                raise IsADirectoryError(clean_name(name)) from None
            raise
        return AsyncMountFile(clean_name(name), mode, reader=reader)

    async def adelete(self, name: str) -> None:
        if not name:
            raise ValueError("The name must be given to delete().")
        self._require("delete", name)
        await self._acall("delete", name)

    async def aexists(self, name: str) -> bool:
        return bool(await self._acall("exists", name))

    async def alistdir(self, path: str) -> tuple[list[str], list[str]]:
        return await self._acall("listdir", path)

    async def asize(self, name: str) -> int:
        return int(await self._acall("size", name))

    async def aurl(self, name: str | None) -> str:
        await aio.filesystem(self.backend)  # made in the pool, the first time
        # No request on any backend: signing is local.
        return self.url(name)

    async def aget_accessed_time(self, name: str) -> datetime.datetime:
        return self._datetime(await self._acall("accessed_time", name))

    async def aget_created_time(self, name: str) -> datetime.datetime:
        return self._datetime(await self._acall("created_time", name))

    async def aget_modified_time(self, name: str) -> datetime.datetime:
        return self._datetime(await self._acall("modified_time", name))

    async def ais_name_available(self, name: str, max_length: int | None = None) -> bool:
        if self.file_overwrite:
            return self.is_name_available(name, max_length=max_length)  # no request
        exceeds_max_length = bool(max_length and len(name) > max_length)
        return not exceeds_max_length and not await self.aexists(name)

    async def aget_available_name(self, name: str, max_length: int | None = None) -> str:
        """``get_available_name()`` as a coroutine: Django's algorithm, step for step."""
        name = str(name).replace("\\", "/")
        dir_name, file_name = os.path.split(name)
        if ".." in pathlib.PurePath(dir_name).parts:
            raise SuspiciousFileOperation(f"Detected path traversal attempt in '{dir_name}'")
        validate_file_name(file_name)
        file_ext = "".join(pathlib.PurePath(file_name).suffixes)
        file_root = file_name.removesuffix(file_ext)
        while not await self.ais_name_available(name, max_length=max_length):
            name = os.path.join(dir_name, self.get_alternative_name(file_root, file_ext))
            if max_length is None:
                continue
            truncation = len(name) - max_length
            if truncation > 0:
                file_root = file_root[:-truncation]
                if not file_root:
                    raise SuspiciousFileOperation(
                        f'Storage can not find an available filename for "{name}". '
                        "Please make sure that the corresponding file field "
                        'allows sufficient "max_length".'
                    )
                name = os.path.join(dir_name, self.get_alternative_name(file_root, file_ext))
        return name

    # Beyond Django's contract, as the sync methods

    async def ascandir(self, path: str = "") -> list[Entry]:
        entries = await self._acall("scandir", path)
        return [self._local_entry(entry) for entry in entries]

    async def aisdir(self, name: str) -> bool:
        return bool(await self._acall("isdir", name))

    async def amakedirs(self, name: str) -> None:
        self._require("write", name)
        await self._acall("makedirs", name)

    async def amove(self, old_name: str, new_name: str) -> str:
        self._require("write", new_name)
        if not await self.aexists(old_name):
            raise FileNotFoundError(clean_name(old_name))
        if await self.aexists(new_name):
            raise FileExistsError(clean_name(new_name))
        await aio.call(self.backend, "move", self._path(old_name), self._path(new_name))
        return clean_name(new_name)

    async def adelete_tree(self, name: str) -> None:
        if not clean_name(name):
            raise ValueError("delete_tree() refuses to delete the root of a mount.")
        self._require("delete", name)
        await self._acall("delete_tree", name)


async def _chunks(content: Any, chunk_size: int) -> AsyncIterator[bytes]:
    """Yield the bytes of ``content``: an async iterable, or a Django ``File``.

    A file in memory is read inline; one on a disk (a ``TemporaryUploadedFile``)
    a chunk at a time in the pool, so the loop never waits for the disk.
    """
    if isinstance(content, AsyncIterable):
        async for chunk in content:
            yield chunk.encode() if isinstance(chunk, str) else bytes(chunk)
        return
    chunks = byte_chunks(content, chunk_size)
    if isinstance(getattr(content, "file", None), (io.BytesIO, io.StringIO)):
        for chunk in chunks:
            yield chunk
        return
    while (chunk := await aio.run_blocking(_next, chunks)) is not None:
        yield chunk


def byte_chunks(content: File, chunk_size: int) -> Iterator[bytes]:
    """Yield the bytes of a Django ``File``; text is stored as UTF-8.

    As InMemoryStorage and django-storages do, for ``ContentFile("...")``,
    ``StringIO`` and files opened in text mode.
    """
    for chunk in content.chunks(chunk_size=chunk_size):
        yield chunk.encode() if isinstance(chunk, str) else chunk


def _next(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)
