"""``zip`` and ``tar`` mounts: the members of an archive stored on another mount, read-only.

The archive is never downloaded whole: a seekable file reads it through the
source mount's ``read_range()`` (one ranged request per block on an object
store), so opening a member fetches the index and that member only.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext, gettext_noop

from genro_storage_django.backends.base import Backend
from genro_storage_django.i18n import lazy_message
from genro_storage_django.schema import Option, Problem

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

#: Bytes fetched per ranged read of the archive: small, as a member's own
#: reads are buffered again by the archive module.
BLOCK_SIZE = 256 * 2**10


class ArchiveBackend(Backend):
    """Parameters
    ----------
    source:
        The archive, as ``"<mount>:<name>"``, such as ``"media:exports/2024.zip"``.
    """

    read_only = True
    options = {"source": Option((str,), required=True)}

    @classmethod
    def validate(cls, mount_name: str, options: dict[str, Any]) -> list[Problem]:
        mount, _, name = str(options["source"]).partition(":")
        if mount and name.strip("/"):
            return []
        message = lazy_message(
            gettext_noop(
                "Mount %(mount)s: 'source' must name a mount and a file of it, not %(source)s."
            ),
            mount=repr(mount_name),
            source=repr(options["source"]),
        )
        hint = lazy_message(
            gettext_noop('Write it as "<mount>:<name>", for example "media:exports/2024.zip".')
        )
        return [Problem("E012", message, hint=hint, mount=mount_name)]

    def create_filesystem(self) -> AbstractFileSystem:
        return self.archive_filesystem(self.source_file())

    def archive_filesystem(self, file: io.BufferedReader) -> AbstractFileSystem:
        """Return the fsspec filesystem of the archive read from ``file``."""
        raise NotImplementedError("subclasses of ArchiveBackend must provide archive_filesystem()")

    def source_file(self) -> io.BufferedReader:
        """Return the archive as a seekable file of ranged reads on its mount."""
        from genro_storage_django.names import clean_name
        from genro_storage_django.storage import get_storage

        mount, _, name = str(self.mount.options["source"]).partition(":")
        if mount == self.mount.name:
            raise ImproperlyConfigured(
                gettext("Mount %(mount)s: 'source' names the mount itself.")
                % {"mount": repr(self.mount.name)}
            )
        backend = get_storage(mount).backend
        path = backend.full_path(clean_name(name))
        return io.BufferedReader(RangeReader(backend, path), buffer_size=BLOCK_SIZE)

    @cached_property
    def root(self) -> str:
        return ""

    def location(self, name: str) -> str:
        return name

    def isdir(self, path: str) -> bool:
        return not path or self.fs.isdir(path)

    def relative_name(self, path: str) -> str:
        return path.strip("/")

    def _found(self, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        # Member names have no leading "/", the root is "": the base's prefix
        # test would drop every member of the root.
        base = path.strip("/")
        prefix = f"{base}/" if base else ""
        for found, info in self.fs.find(base, detail=True).items():
            name = found.strip("/")
            if info.get("type", "file") == "file" and name.startswith(prefix):
                yield name[len(prefix) :], info


class ZipBackend(ArchiveBackend):
    type_name = "zip"

    def archive_filesystem(self, file: io.BufferedReader) -> AbstractFileSystem:
        from fsspec.implementations.zip import ZipFileSystem

        # ZipFile reads the central directory at the end: a few ranges.
        return ZipFileSystem(fo=file, mode="r", skip_instance_cache=True)


class TarBackend(ArchiveBackend):
    type_name = "tar"

    def archive_filesystem(self, file: io.BufferedReader) -> AbstractFileSystem:
        from fsspec.implementations.tar import TarFileSystem
        from fsspec.utils import infer_compression

        # A tar has no index: listing it reads every member's 512-byte header
        # (seeking over the data); a compressed one is read through once.
        compression = infer_compression(str(self.mount.options["source"]))
        return TarFileSystem(fo=file, compression=compression, skip_instance_cache=True)


class RangeReader(io.RawIOBase):
    """A read-only, seekable file over ``backend.read_range()`` of the file at ``path``."""

    def __init__(self, backend: Backend, path: str) -> None:
        super().__init__()
        self.backend = backend
        self.path = path
        self.size = backend.size(path)
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(base + offset, 0)
        return self.position

    def readinto(self, buffer: Any) -> int:
        end = min(self.position + len(buffer), self.size)
        if end <= self.position:
            return 0
        data = self.backend.read_range(self.path, self.position, end)
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)
