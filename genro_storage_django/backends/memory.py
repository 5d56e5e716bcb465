"""``memory`` mounts: files kept in this process, one private namespace per mount."""

from __future__ import annotations

import datetime
import io
import threading
from collections.abc import Iterable
from functools import cached_property
from typing import IO, Any

from fsspec.implementations.memory import MemoryFileSystem

from genro_storage_django.backends.base import Backend, as_utc


class MemoryBackend(Backend):
    type_name = "memory"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_lock = threading.Lock()

    def create_filesystem(self) -> MemoryFileSystem:
        # fsspec's default store is global to the process; a private one keeps
        # each mount (and other fsspec users) out of each other's files.
        return MemoryFileSystem(global_store=False, skip_instance_cache=True)

    @cached_property
    def root(self) -> str:
        return "/files"

    def modified_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        # Every write stores a new object, so its creation time is the modification time.
        created = info.get("created")
        return None if created is None else as_utc(created)

    def open(self, path: str, mode: str) -> IO[Any]:
        if "r" in mode and "+" not in mode:
            # MemoryFileSystem hands out the stored object itself; reading
            # through a copy keeps two readers' positions apart.
            data = self.fs.cat_file(path)
            return io.BytesIO(data) if "b" in mode else io.StringIO(data.decode())
        return super().open(path, mode)

    def write(self, path: str, chunks: Iterable[bytes], overwrite: bool) -> None:
        buffer = io.BytesIO()
        for chunk in chunks:
            buffer.write(chunk)
        # The file appears whole, under the lock, or not at all.
        with self._create_lock:
            if not overwrite and self.fs.exists(path):
                raise FileExistsError(path)
            self.fs.pipe_file(path, buffer.getvalue())
