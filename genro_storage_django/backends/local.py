"""``local`` mounts: a directory on this machine."""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.utils.translation import gettext_noop

from genro_storage_django.backends.base import Backend, Entry, Leftover, as_utc
from genro_storage_django.i18n import lazy_message
from genro_storage_django.schema import Option, Problem

if TYPE_CHECKING:
    from fsspec.implementations.local import LocalFileSystem


#: The name of a file being written (``_publish()``): never listed, never a user's name.
TEMPORARY_NAME = re.compile(r"\.[0-9a-f]{32}\.part")


def is_temporary(name: str) -> bool:
    """Return True if the file name ``name`` is one of a write in progress (or interrupted)."""
    # The length and the suffix first: listings ask this of every entry.
    return len(name) == 38 and name.endswith(".part") and TEMPORARY_NAME.fullmatch(name) is not None


class LocalBackend(Backend):
    type_name = "local"
    options = {"path": Option((str, os.PathLike), required=True)}
    inline_io = True

    @classmethod
    def validate(cls, mount_name: str, options: dict[str, Any]) -> list[Problem]:
        if not os.path.isabs(options["path"]):
            return [
                Problem(
                    "E009",
                    lazy_message(
                        gettext_noop("Mount %(mount)s: 'path' must be absolute, not %(path)s."),
                        mount=repr(mount_name),
                        path=repr(options["path"]),
                    ),
                    hint=lazy_message(
                        gettext_noop("Build it from BASE_DIR, for example BASE_DIR / 'media'.")
                    ),
                    mount=mount_name,
                )
            ]
        return []

    def create_filesystem(self) -> LocalFileSystem:
        # Imported here: reading the settings at start-up need not import fsspec.
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem(skip_instance_cache=True)

    @cached_property
    def root(self) -> str:
        return os.path.realpath(self.mount.options["path"]).rstrip(os.sep) or os.sep

    @cached_property
    def _root_prefix(self) -> str:
        return self.root if self.root.endswith(os.sep) else f"{self.root}{os.sep}"

    def location(self, name: str) -> str:
        # ``name`` is clean (names.clean_name): segments joined by "/", none
        # empty, none "." or "..". Runs on every operation: no split unless
        # a segment may be a temporary file's name.
        if not name:
            return self.root
        if ".part" in name and any(is_temporary(part) for part in name.split("/")):
            raise SuspiciousFileOperation(
                f"{name!r}: names like .<32 hex digits>.part are kept for files being written."
            )
        return self._root_prefix + (name if os.sep == "/" else name.replace("/", os.sep))

    def local_path(self, path: str) -> str:
        return path

    def open(self, path: str, mode: str, parameters: Mapping[str, Any] | None = None) -> IO[Any]:
        if any(flag in mode for flag in "wax"):
            self._makedirs(os.path.dirname(path))
        # The builtin open() is buffered, seekable and as fast as it gets.
        return open(path, mode)

    def write(
        self,
        path: str,
        chunks: Iterable[bytes],
        overwrite: bool,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        def fill(temporary: str) -> None:
            with open(temporary, "wb") as destination:
                for chunk in chunks:
                    destination.write(chunk)

        self._publish(path, fill, overwrite)

    def _publish(self, path: str, fill: Callable[[str], object], overwrite: bool) -> None:
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            self._makedirs(directory)
        # Write to a temporary file beside the target, then publish it under the
        # final name in one step: readers never see a half-written file.
        # fill() creates it, with the mode open() gives (0o666 less the umask,
        # as FileSystemStorage): reopening an empty file made by mkstemp()
        # truncates it, and ext4 then allocates its blocks at close
        # (auto_da_alloc), which made every later delete of the file ~10x
        # slower (docs/benchmarks.rst).
        temporary = os.path.join(directory, f".{uuid.uuid4().hex}.part")
        try:
            fill(temporary)
            if settings.FILE_UPLOAD_PERMISSIONS is not None:
                os.chmod(temporary, settings.FILE_UPLOAD_PERMISSIONS)
            if overwrite:
                os.replace(temporary, path)
                return
            # link() fails if the name exists, so two concurrent saves of
            # one name can never replace each other's file.
            os.link(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        os.unlink(temporary)

    def modified_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        return as_utc(info["mtime"]) if "mtime" in info else None

    def same_filesystem(self, other: Backend) -> bool:
        return isinstance(other, LocalBackend)

    def copy_within(
        self,
        other: Backend,
        source: str,
        destination: str,
        parameters: Mapping[str, Any] | None = None,
    ) -> bool:
        if not isinstance(other, LocalBackend):
            return False
        # copyfile() lets the kernel copy (copy_file_range, sendfile, fcopyfile).
        other._publish(destination, lambda temporary: shutil.copyfile(source, temporary), True)
        return True

    def set_modified(self, path: str, modified: datetime.datetime) -> bool:
        timestamp = modified.timestamp()
        os.utime(path, (timestamp, timestamp))
        return True

    def delete(self, path: str) -> None:
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                os.rmdir(path)
            else:
                os.remove(path)
        except FileNotFoundError:
            pass

    def exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def isdir(self, path: str) -> bool:
        return os.path.isdir(path)

    def size(self, path: str) -> int:
        return os.path.getsize(path)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        # Names only: no stat() per entry, as FileSystemStorage.listdir.
        directories: list[str] = []
        files: list[str] = []
        try:
            iterator = os.scandir(path)
        except FileNotFoundError:
            return directories, files
        with iterator:
            for item in iterator:
                if not is_temporary(item.name):
                    (directories if item.is_dir() else files).append(item.name)
        return directories, files

    def scandir(self, path: str) -> Iterator[Entry]:
        try:
            iterator = os.scandir(path)
        except FileNotFoundError:
            return
        with iterator:
            for item in iterator:
                if is_temporary(item.name):
                    continue
                is_dir = item.is_dir()
                stat = None if is_dir else item.stat()
                yield Entry(
                    name=item.name,
                    is_dir=is_dir,
                    size=None if stat is None else stat.st_size,
                    modified=None if stat is None else as_utc(stat.st_mtime),
                )

    def find(self, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        # Walked in key order: only the directories on the way down are in
        # memory, each as one sorted list of its entries.
        yield from _walk(path)

    def leftovers(self, older_than: datetime.timedelta) -> Iterator[Leftover]:
        cutoff = datetime.datetime.now(datetime.timezone.utc) - older_than
        for directory, _, names in os.walk(self.mount_root):
            for name in filter(is_temporary, names):
                path = os.path.join(directory, name)
                with contextlib.suppress(FileNotFoundError):  # published meanwhile
                    stat = os.stat(path)
                    started = as_utc(stat.st_mtime)
                    if started < cutoff:
                        yield Leftover(
                            "temporary file", self._relative(path), started, stat.st_size, path
                        )

    def remove_leftover(self, leftover: Leftover) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(leftover.handle)

    def _relative(self, path: str) -> str:
        return os.path.relpath(path, self.mount_root).replace(os.sep, "/")

    def modified_time(self, path: str) -> datetime.datetime:
        return as_utc(os.path.getmtime(path))

    def created_time(self, path: str) -> datetime.datetime:
        return as_utc(os.path.getctime(path))

    def accessed_time(self, path: str) -> datetime.datetime:
        return as_utc(os.path.getatime(path))

    def move(self, source: str, destination: str) -> None:
        # A rename within one filesystem is atomic; create the parents first,
        # as object stores (where directories are only key prefixes) need none.
        self._makedirs(os.path.dirname(destination))
        os.rename(source, destination)

    def makedirs(self, path: str) -> None:
        self._makedirs(path)

    def _makedirs(self, directory: str) -> None:
        mode = settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS
        if mode is None:
            os.makedirs(directory, exist_ok=True)
            return
        # As FileSystemStorage: the umask must not narrow the configured mode.
        old_umask = os.umask(0o777 & ~mode)
        try:
            os.makedirs(directory, mode, exist_ok=True)
        finally:
            os.umask(old_umask)


def _walk(directory: str, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for key, entry in _sorted_entries(directory):
        if key.endswith("/"):
            yield from _walk(entry.path, f"{prefix}{key}")
        elif not is_temporary(entry.name):
            yield f"{prefix}{entry.name}", _file_info(entry)


def _sorted_entries(directory: str) -> list[tuple[str, os.DirEntry[str]]]:
    # A directory "a" sorts as "a/": after "a-b" and "a.txt", as S3 lists "a/x".
    try:
        with os.scandir(directory) as iterator:
            entries = [(e.name + "/" if e.is_dir() else e.name, e) for e in iterator]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(entries, key=lambda pair: pair[0])


def _file_info(entry: os.DirEntry[str]) -> dict[str, Any]:
    stat = entry.stat()
    return {"name": entry.path, "size": stat.st_size, "type": "file", "mtime": stat.st_mtime}
