"""``memory`` mounts: files kept in this process, one private namespace per mount.

A mount's files live as long as the process: redefining the mount (as
``override_settings`` does) keeps them while it stays a memory mount of that
name. ``clear()`` empties mounts, for test isolation.
"""

from __future__ import annotations

import datetime
import io
import threading
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any

from genro_storage_django.backends.base import Backend, as_utc

if TYPE_CHECKING:
    from fsspec.implementations.memory import MemoryFileSystem


class _Store(dict):
    """A memory mount's files by path, with an index of each directory's contents.

    fsspec's ``MemoryFileSystem`` scans every stored path for ``info()``, ``exists()``,
    ``ls()`` and each parent check of a write; the index answers those in constant
    time (docs/benchmarks.rst). It follows every change fsspec makes to the store.
    """

    def __init__(self) -> None:
        super().__init__()
        #: Directories made by makedirs() (fsspec's ``pseudo_dirs``).
        self.pseudo_dirs: list[str] = [""]
        #: Makes the check-then-create of a write one step.
        self.lock = threading.Lock()
        #: directory path -> names of the files in it, in creation order
        self.files: dict[str, dict[str, int]] = {}
        #: directory path -> {subdirectory name: number of files below it}
        self.directories: dict[str, dict[str, int]] = {}

    def __setitem__(self, path: str, value: Any) -> None:
        previous = self.get(path)
        if previous is None:
            self._index(path, 1)
        elif previous is not value:
            # A rewrite stores a new object: the file keeps its creation time.
            value.created = previous.created
        super().__setitem__(path, value)

    def __delitem__(self, path: str) -> None:
        super().__delitem__(path)
        self._index(path, -1)

    def pop(self, path: str, *default: Any) -> Any:
        if path in self:
            self._index(path, -1)
        return super().pop(path, *default)

    def empty(self) -> None:
        """Delete every file and directory, in place: filesystems keep this store."""
        with self.lock:
            super().clear()
            self.files.clear()
            self.directories.clear()
            self.pseudo_dirs[:] = [""]

    def is_directory(self, path: str) -> bool:
        return path in self.files or path in self.directories

    def _index(self, path: str, step: int) -> None:
        parent, _, name = path.rpartition("/")
        _add(self.files, parent, name, step)
        while "/" in parent:
            parent, _, name = parent.rpartition("/")
            _add(self.directories, parent, name, step)


_stores: dict[str, _Store] = {}
_stores_lock = threading.Lock()


def _store(mount_name: str) -> _Store:
    with _stores_lock:
        return _stores.setdefault(mount_name, _Store())


def clear(*mount_names: str) -> None:
    """Delete every file and directory of the memory mounts ``mount_names`` (all if none).

    Storages already in use see the empty mount at once.
    """
    with _stores_lock:
        stores = [_stores[name] for name in mount_names or _stores if name in _stores]
    for store in stores:
        store.empty()


def _add(table: dict[str, dict[str, int]], directory: str, name: str, step: int) -> None:
    names = table.setdefault(directory, {})
    names[name] = names.get(name, 0) + step
    if not names[name]:
        del names[name]
        if not names:
            del table[directory]


class MemoryBackend(Backend):
    type_name = "memory"
    process_local = True
    inline_io = True
    no_io = True

    def create_filesystem(self) -> MemoryFileSystem:
        # Imported here: reading the settings at start-up need not import fsspec.
        from fsspec.implementations.memory import MemoryFileSystem

        # fsspec's default store is global to the process; a private one keeps
        # each mount (and other fsspec users) out of each other's files.
        fs = MemoryFileSystem(global_store=False, skip_instance_cache=True)
        fs.store = _store(self.mount.name)
        fs.pseudo_dirs = fs.store.pseudo_dirs
        return fs

    @cached_property
    def root(self) -> str:
        return "/files"

    def modified_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        # fsspec's listings give the creation time only: ask the stored file.
        file = self.fs.store.get(info.get("name"))
        return None if file is None else as_utc(file.modified)

    def modified_time(self, path: str) -> datetime.datetime:
        return as_utc(self._file(path).modified)

    def created_time(self, path: str) -> datetime.datetime:
        return as_utc(self._file(path).created)

    def _file(self, path: str) -> Any:
        file = self.fs.store.get(path)
        if file is None:
            raise FileNotFoundError(path)
        return file

    def open(self, path: str, mode: str, parameters: Mapping[str, Any] | None = None) -> IO[Any]:
        if "r" in mode and "+" not in mode:
            # MemoryFileSystem hands out the stored object itself; reading
            # through a copy keeps two readers' positions apart.
            # Read-only, as a file opened "rb" from a disk.
            reader = io.BufferedReader(io.BytesIO(self.read(path)))
            return reader if "b" in mode else io.TextIOWrapper(reader, encoding="utf-8")
        return super().open(path, mode)

    def read(self, path: str) -> bytes:
        data = bytes(self.fs.cat_file(path))
        # As InMemoryStorage, a read is an access.
        self.fs.store[path].accessed = datetime.datetime.now(datetime.timezone.utc)
        return data

    def accessed_time(self, path: str) -> datetime.datetime:
        file = self._file(path)
        return as_utc(getattr(file, "accessed", file.modified))

    def write(
        self,
        path: str,
        chunks: Iterable[bytes],
        overwrite: bool,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        from fsspec.implementations.memory import MemoryFile

        buffer = io.BytesIO()
        for chunk in chunks:
            buffer.write(chunk)
        # The file appears whole, under the lock, or not at all.
        with self.fs.store.lock:
            if not overwrite and self.exists(path):
                raise FileExistsError(path)
            parent = path.rpartition("/")[0]
            while parent:
                # A file cannot be a directory too (fsspec checks this by a scan).
                if parent in self.fs.store:
                    raise FileExistsError(parent)
                parent = parent.rpartition("/")[0]
            self.fs.store[path] = MemoryFile(self.fs, path, buffer.getvalue())

    # Answered from the index of the store rather than by fsspec's scans.

    def exists(self, path: str) -> bool:
        store = self.fs.store
        return path in store or store.is_directory(path) or path in self.fs.pseudo_dirs

    def isdir(self, path: str) -> bool:
        store = self.fs.store
        return path == self.mount_root or store.is_directory(path) or path in self.fs.pseudo_dirs

    def size(self, path: str) -> int:
        file = self.fs.store.get(path)
        return super().size(path) if file is None else int(file.size)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        store = self.fs.store
        if path in store:
            raise NotADirectoryError(path)
        directories = list(store.directories.get(path, ()))
        # Directories made by makedirs() exist with no file below them.
        for directory in self.fs.pseudo_dirs:
            parent, _, name = directory.rpartition("/")
            if parent == path and name not in directories:
                directories.append(name)
        return directories, list(store.files.get(path, ()))
