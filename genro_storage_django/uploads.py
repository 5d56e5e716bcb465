"""Upload files onto a mount unless it already has their content, many at a time.

The decision is by content: the MD5 of the file against the checksum that one
listing of the mount gave (``FileStat.checksums``), else the file's own (a
HEAD for an object whose ETag is no MD5, a read on a disk). Each file is
published whole or not at all, as every backend's ``write()`` does.

On an async filesystem (s3, gcs, azure) small files from a local disk go as
coroutines on its event loop, ``workers`` at a time: through threads, each
would cross to the loop and back, which made a collectstatic onto S3 spend
twice the client CPU per file (docs/benchmarks.rst, WL6).
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import io
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

from django.core.files.storage import Storage

from genro_storage_django.backends.base import Backend
from genro_storage_django.names import clean_name
from genro_storage_django.transfer import CHUNK_SIZE, FileStat

#: Files up to this size are read whole and sent in one request, whose
#: checksum (an S3 ETag) is their MD5. Bigger ones are read twice: hashed, then sent.
WHOLE_FILE = 8 * 2**20


@dataclass(frozen=True)
class Upload:
    """A file to put at ``name`` on the mount; ``read()`` opens its content."""

    name: str
    read: Callable[[], IO[Any]]
    #: True if ``read()`` never waits long (a local disk, memory): it may run on an event loop.
    inline: bool = False


class Uploader:
    """Put ``Upload``s onto ``backend`` against ``listing``, the mount's files by name."""

    def __init__(
        self,
        backend: Backend,
        listing: Mapping[str, FileStat],
        pool: ThreadPoolExecutor,
        *,
        workers: int,
        dry_run: bool,
    ) -> None:
        self.backend, self.listing, self.pool, self.dry_run = backend, listing, pool, dry_run
        self.loop = backend.event_loop()
        self.write_with_md5 = getattr(backend, "write_with_md5", None)
        # Where a listing gives no MD5 even for one-request uploads (Azure),
        # every file keeps its MD5 in the metadata, which the listing carries.
        self.md5_in_metadata = self.write_with_md5 is not None and not getattr(
            backend, "lists_md5", True
        )
        # Made here but used on the loop only (asyncio binds it there on first use).
        self.slots = asyncio.Semaphore(workers)

    def submit(self, upload: Upload) -> Future[bool]:
        """Start ``upload``; the future says whether it was written (or would be, in a dry run)."""
        # Either way the upload runs in a copy of this context (the current tenant).
        if self.loop is not None and upload.inline:
            return asyncio.run_coroutine_threadsafe(self._put_async(upload), self.loop)
        return self.pool.submit(contextvars.copy_context().run, self.put, upload)

    def put(self, upload: Upload) -> bool:
        md5, size, data = digest(upload.read)
        if self.has(upload.name, md5, size):
            return False
        if not self.dry_run:
            self._write(upload, md5, data)
        return True

    async def _put_async(self, upload: Upload) -> bool:
        async with self.slots:
            md5, size, data = digest(upload.read)
            known = self._listed_md5(upload.name, size)
            if data is None or known is _ASK or self.md5_in_metadata:
                # A big file, a question for the mount, metadata: a thread's work.
                return await asyncio.wrap_future(self.pool.submit(self.put, upload))
            if known == md5:
                return False
            if not self.dry_run:
                await self.backend.write_async(self._path(upload.name), data)
            return True

    def _write(self, upload: Upload, md5: str, data: bytes | None) -> None:
        path = self._path(upload.name)
        chunks = [data] if data is not None else chunks_of(upload.read)
        if self.write_with_md5 is not None and (data is None or self.md5_in_metadata):
            # Uploaded in parts, whose ETag is no MD5: the MD5 goes in the metadata.
            self.write_with_md5(path, chunks, md5)
        else:
            self.backend.write(path, chunks, overwrite=True)

    def _path(self, name: str) -> str:
        return self.backend.full_path(clean_name(name))

    # Deciding by content

    def has(self, name: str, md5: str, size: int) -> bool:
        """Return True if the mount's file ``name`` has the content whose MD5 is ``md5``."""
        known = self._listed_md5(name, size)
        if known is _ASK:
            known = self._destination_md5(name)
        return known == md5

    def _listed_md5(self, name: str, size: int) -> str | None:
        """Return the MD5 the listing gives ``name``: None if it differs, ``_ASK`` if unknown."""
        stat = self.listing.get(clean_name(name))
        if stat is None or stat.size != size:
            return None
        # No MD5 in the listing (a multipart ETag, a disk): ask the file itself.
        return stat.checksums.get("md5", _ASK)

    def _destination_md5(self, name: str) -> str | None:
        path = self._path(name)
        if self.backend.inline_io:
            # A local disk or memory: reading is cheaper than any metadata.
            return digest(lambda: self.backend.open(path, "rb"))[0]
        return self.backend.checksums(self.backend.info(path)).get("md5")


# Not an MD5: the listing cannot tell.
_ASK = "?"


def digest(read: Callable[[], IO[Any]]) -> tuple[str, int, bytes | None]:
    """Return the MD5 and size of what ``read()`` opens, and its bytes if it is small."""
    md5 = hashlib.md5(usedforsecurity=False)
    with read() as file:
        data = _bytes(file.read(WHOLE_FILE + 1))
        md5.update(data)
        size = len(data)
        if size <= WHOLE_FILE:
            return md5.hexdigest(), size, data
        while chunk := _bytes(file.read(CHUNK_SIZE)):
            md5.update(chunk)
            size += len(chunk)
    return md5.hexdigest(), size, None


def chunks_of(read: Callable[[], IO[Any]]) -> Iterator[bytes]:
    """Yield what ``read()`` opens, ``CHUNK_SIZE`` bytes at a time."""
    with read() as file:
        while chunk := _bytes(file.read(CHUNK_SIZE)):
            yield chunk


def reader(data: bytes) -> Callable[[], IO[bytes]]:
    """Return a ``read`` for ``Upload`` that opens ``data``."""
    return lambda: io.BytesIO(data)


def _bytes(data: bytes | str) -> bytes:
    # A finder's storage may open files as text; they are stored as UTF-8.
    return data.encode() if isinstance(data, str) else data


@dataclass(frozen=True)
class Source:
    """One file to collect: ``name`` on the mount, from ``path`` of a finder's ``storage``."""

    name: str
    storage: Storage
    path: str

    def open(self) -> IO[Any]:
        return self.storage.open(self.path, "rb")

    def display(self) -> str:
        """Return the path that Django's command prints: the source file's own, if local."""
        try:
            return self.storage.path(self.path)
        except NotImplementedError:
            return self.path
