"""Downloads checked against the digest the server gives of the whole file.

A file read in order from its first byte to its last is hashed on the way;
at its end the digest must be the one the server computed when it stored
the file (``Backend.expected_digest()``), or the read raises an ``OSError``
naming the mount and the file instead of returning bytes corrupted on the
way. Each read is hashed as it goes: nothing more is held in memory.

A read that does not go on where the last one ended (after a seek, or a
``readline()``, which reads ahead and seeks back) stops the check: a part of
a file has no digest to compare with. A read from the first byte starts it
again.
"""

from __future__ import annotations

import hashlib
import zlib
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Protocol

from genro_storage_django.backends.base import CORRUPTED, Digest, message, translated

if TYPE_CHECKING:
    from collections.abc import Iterator

    from genro_storage_django.backends.base import Backend


class _Hash(Protocol):
    def update(self, data: bytes, /) -> Any: ...

    def digest(self) -> bytes: ...


class _Crc32:
    """zlib's CRC-32 behind ``hashlib``'s interface, big-endian as S3 sends it."""

    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


def new_hash(algorithm: str) -> _Hash | None:
    """Return a fresh hash of ``algorithm``, or None if this process cannot compute it."""
    if algorithm == "md5":
        return hashlib.md5(usedforsecurity=False)
    if algorithm == "crc32":
        return _Crc32()
    if algorithm == "crc32c":
        try:
            import google_crc32c  # installed with gcsfs (google-cloud-storage)
        except ImportError:
            return None
        checksum: _Hash = google_crc32c.Checksum()
        return checksum
    return None


class Check:
    """The hash of one file's bytes as they are read, compared with ``expected`` at the end.

    A mismatch raises ``OSError(error)``.
    """

    def __init__(self, expected: Digest, size: int, error: str) -> None:
        self.expected, self.size, self.error = expected, size, error
        self._hash: _Hash | None = None
        self._hashed = 0

    def feed(self, offset: int, data: bytes) -> None:
        """Add ``data``, read at ``offset``; raise ``OSError`` if it ends a file that differs."""
        if offset == 0:
            self._hash, self._hashed = new_hash(self.expected.algorithm), 0
        elif offset != self._hashed:
            self._hash = None  # a seek: the bytes before are not all hashed
        if self._hash is None or not data:
            return
        self._hash.update(data)
        self._hashed += len(data)
        if self._hashed >= self.size:
            digest, self._hash = self._hash.digest(), None
            if digest != self.expected.value:
                raise OSError(self.error)


def verify(backend: Backend, path: str, data: bytes, expected: Digest | None) -> None:
    """Raise ``OSError`` if ``data``, the whole file at ``path``, does not match ``expected``."""
    if expected is not None:
        Check(expected, len(data), message(backend, path, CORRUPTED)).feed(0, data)


def check_for(backend: Backend, path: str, info: dict[str, Any]) -> Check | None:
    """Return the ``Check`` of a read of the file of fsspec's ``info``, or None if it has none."""
    expected = backend.expected_digest(info)
    if expected is None:
        return None
    return Check(expected, int(info["size"]), message(backend, path, CORRUPTED))


class CheckedFile:
    """An fsspec file opened for reading, whose reads are checked by ``check`` (if any)
    and whose library errors come out as builtin ones (``Backend.describe_error()``):
    a file's reads are not backend calls.
    """

    def __init__(self, file: IO[bytes], backend: Backend, path: str, check: Check | None) -> None:
        self._file, self._backend, self._path, self._check = file, backend, path, check

    def read(self, size: int | None = -1) -> bytes:
        with translated(self._backend, self._path):
            offset = self._file.tell()
            data = self._file.read(-1 if size is None else size)
        if self._check is not None:
            self._check.feed(offset, data)
        return data

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(view.nbytes)
        view[: len(data)] = data
        return len(data)

    def readline(self, size: int = -1) -> bytes:
        with translated(self._backend, self._path):
            return self._file.readline() if size == -1 else self._file.readline(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        with translated(self._backend, self._path):
            return self._file.seek(offset, whence)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_file", "_backend", "_path", "_check"):
            raise AttributeError(name)
        return getattr(self._file, name)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def __enter__(self) -> CheckedFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._file.close()
