"""What the sftp and ftp backends share: one connection per thread, staged writes.

Their clients (paramiko, ftplib) hold one session that answers one request at
a time: threads sharing it read each other's answers. And their servers show a
file from its first written byte: readers would see half an upload, and a
failed one would stay. So each thread gets its own connection, and writes go
to a hidden name beside the target, renamed to it at the end.
"""

from __future__ import annotations

import contextlib
import datetime
import posixpath
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from genro_storage_django.backends.base import Backend, Entry, Leftover

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem


# Striped: a lock per name would grow without bound.
_NAME_LOCKS = [threading.Lock() for _ in range(64)]


def name_lock(path: str) -> threading.Lock:
    """Return the lock that this process's exclusive creates of ``path`` hold.

    For servers whose create-if-absent is a check, then a write (FTP has no
    exclusive create; WebDAV servers check ``If-None-Match`` before writing):
    it keeps this process's saves of one name apart, not another process's.
    """
    return _NAME_LOCKS[hash(path) % len(_NAME_LOCKS)]


def make_directories(fs: AbstractFileSystem, path: str, mkdir: Callable[[str], object]) -> None:
    """Create the directory ``path`` and its missing parents with ``mkdir``.

    fsspec's ``makedirs()`` checks, then creates: a directory that another
    thread creates in between fails it. Here that directory is fine.
    """
    path = path.rstrip("/")
    if not path.strip("/") or fs.isdir(path):
        return
    make_directories(fs, posixpath.dirname(path), mkdir)
    try:
        mkdir(path)
    except Exception:
        if not fs.isdir(path):
            raise


class PerThreadFilesystem(Backend):
    """A backend whose filesystem (one server session) is made once per thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sessions = threading.local()

    @property
    def fs(self) -> AbstractFileSystem:
        session = getattr(self._sessions, "session", None)
        if session is not None and not self._alive(session):
            # Servers drop idle sessions (FTP's usual limit is 5 minutes):
            # a web worker's next request must not fail for that.
            session = self._sessions.session = None
        if session is None:
            self.require_extra()
            session = self._sessions.session = _Session(self.create_filesystem(), self)
        session.used = time.monotonic()
        return session.fs

    def _alive(self, session: _Session) -> bool:
        idle = time.monotonic() - session.used
        try:
            return self.session_alive(session.fs, idle)
        except Exception:
            return False

    def session_alive(self, fs: AbstractFileSystem, idle: float) -> bool:
        """Return False if the session of ``fs``, unused for ``idle`` seconds, has ended."""
        return True

    def share_filesystem(self, other: Backend) -> None:
        pass  # a parent's sessions belong to its threads: make our own

    def scandir(self, path: str) -> Iterator[Entry]:
        # Uploads under way are not files yet.
        for entry in super().scandir(path):
            if not _STAGING.match(entry.name):
                yield entry

    def move(self, source: str, destination: str) -> None:
        # A server rename needs the destination's folder to exist.
        self.makedirs(posixpath.dirname(destination))
        self.fs.mv(source, destination)

    def find(self, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for name, info in super().find(path):
            if not _STAGING.match(posixpath.basename(name)):
                yield name, info

    def leftovers(self, older_than: datetime.timedelta) -> Iterator[Leftover]:
        # Staging files of uploads that never got to their rename.
        cutoff = datetime.datetime.now(datetime.timezone.utc) - older_than
        for name, info in super().find(self.mount_root):
            if _STAGING.match(posixpath.basename(name)):
                started = self.modified_from_info(info)
                if started is not None and started < cutoff:
                    path = self.full_path(name)
                    yield Leftover("staging file", name, started, info.get("size"), path)

    def remove_leftover(self, leftover: Leftover) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(leftover.handle)

    def close_filesystem(self, fs: AbstractFileSystem) -> None:
        """Close the session of ``fs``, whose thread has ended."""


class _Session:
    """Holds a thread's filesystem; closes it when the thread ends and drops its locals."""

    def __init__(self, fs: AbstractFileSystem, backend: PerThreadFilesystem) -> None:
        self.fs = fs
        self.close = backend.close_filesystem
        self.used = time.monotonic()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close(self.fs)


_STAGING = re.compile(r"^\..*\.[0-9a-f]{32}\.part$")


def staging_path(path: str) -> str:
    """Return a hidden name beside ``path`` that no other write uses."""
    directory, name = posixpath.split(path)
    return posixpath.join(directory, f".{name}.{uuid.uuid4().hex}.part")


class PublishOnClose:
    """A file open for writing under a staging name; ``close()`` publishes it.

    ``publish`` renames the staging file to the target, ``discard`` removes it:
    leaving a ``with`` block through an exception discards instead of publishing.
    """

    def __init__(
        self, file: IO[Any], publish: Callable[[], None], discard: Callable[[], None]
    ) -> None:
        self._file = file
        self._publish = publish
        self._discard = discard
        self._done = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)

    def __enter__(self) -> PublishOnClose:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is None:
            self.close()
        else:
            self.abandon()

    def write(self, data: Any) -> int:
        return self._file.write(data)

    @property
    def closed(self) -> bool:
        return self._done

    def close(self) -> None:
        if self._done:
            return
        self._done = True
        try:
            self._file.close()
        except BaseException:
            self._remove_staged()
            raise
        self._publish()

    def abandon(self) -> None:
        """Close without publishing: the target is left as it was."""
        if self._done:
            return
        self._done = True
        with contextlib.suppress(Exception):
            self._file.close()
        self._remove_staged()

    # fsspec's name for it: base.stream_into() discards a failed write this way.
    discard = abandon

    def _remove_staged(self) -> None:
        with contextlib.suppress(Exception):
            self._discard()
