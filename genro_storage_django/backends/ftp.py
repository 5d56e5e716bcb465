"""``ftp`` mounts: a directory on an FTP server, through fsspec's ftplib filesystem."""

from __future__ import annotations

import datetime
import posixpath
import socket
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any

from genro_storage_django.backends._remote import (
    PerThreadFilesystem,
    PublishOnClose,
    make_directories,
    name_lock,
    staging_path,
)
from genro_storage_django.backends.base import (
    TIMED_OUT,
    TIMEOUT_OPTIONS,
    network_problems,
    stream_into,
)
from genro_storage_django.schema import Option, Problem

if TYPE_CHECKING:
    from fsspec.implementations.ftp import FTPFileSystem


#: Seconds of quiet after which a session is probed (NOOP) before its next use.
IDLE_PROBE = 15.0


class FTPBackend(PerThreadFilesystem):
    """Parameters
    ----------
    host, port:
        The FTP server (port 21 by default).
    username, password:
        The account (anonymous without them).
    path:
        The mount's root on the server (default ``/``).
    tls:
        True for explicit FTPS (``AUTH TLS``, then a protected data channel).
    connect_timeout, read_timeout:
        Seconds to wait for the TCP connection, and for each answer.
    """

    type_name = "ftp"
    options = {
        "host": Option((str,), required=True),
        "port": Option((int,), default=21),
        "username": Option((str,)),
        "password": Option((str,), secret=True),
        "path": Option((str,), default="/"),
        "tls": Option((bool,), default=False),
        **TIMEOUT_OPTIONS,
    }

    @classmethod
    def validate(cls, mount_name: str, options: dict[str, Any]) -> list[Problem]:
        return network_problems(mount_name, options)

    def create_filesystem(self) -> FTPFileSystem:
        from fsspec.implementations.ftp import FTPFileSystem

        options = self.mount.options
        try:
            fs = FTPFileSystem(
                options["host"],
                port=options["port"],
                username=options["username"],
                password=options["password"],
                tls=options["tls"],
                timeout=options["connect_timeout"],
                # Another thread's session changes the server: never trust a listing.
                use_listings_cache=False,
                skip_instance_cache=True,
            )
        except Exception as error:
            raise self._connection_error(error) from None
        # ftplib has one timeout, for the connection and every later answer
        # (data connections take it too): connected, it becomes read_timeout.
        fs.ftp.timeout = options["read_timeout"]
        fs.ftp.sock.settimeout(options["read_timeout"])
        return fs

    def close_filesystem(self, fs: FTPFileSystem) -> None:
        fs.ftp.close()

    def session_alive(self, fs: FTPFileSystem, idle: float) -> bool:
        if idle < IDLE_PROBE:
            return True
        fs.ftp.voidcmd("NOOP")  # an error means a dead session
        return True

    def _connection_error(self, error: Exception) -> OSError:
        import ftplib

        server = f"{self.mount.options['host']}:{self.mount.options['port']}"
        prefix = f"Mount {self.mount.name!r}: the FTP server {server}"
        if isinstance(error, ftplib.error_perm):
            # 530 and the like; the reply text is the server's, without the password.
            return PermissionError(f"{prefix} refused the login ({str(error)[:3]}).")
        if isinstance(error, (socket.timeout, TimeoutError)):
            return TimeoutError(f"{prefix} gave {TIMED_OUT}")
        return OSError(f"{prefix} cannot be reached ({type(error).__name__}).")

    @cached_property
    def root(self) -> str:
        return "/" + str(self.mount.options["path"]).strip("/")

    def location(self, name: str) -> str:
        return posixpath.join(self.root, name) if name else self.root

    def open(self, path: str, mode: str, parameters: Mapping[str, Any] | None = None) -> IO[Any]:
        if not any(flag in mode for flag in "wax"):
            return self.fs.open(path, mode)
        return self._staged(path, mode)

    def write(
        self,
        path: str,
        chunks: Iterable[bytes],
        overwrite: bool,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        if not overwrite and self.fs.exists(path):
            raise FileExistsError(path)
        stream_into(self._staged(path, "wb", overwrite), chunks)

    def _staged(self, path: str, mode: str, overwrite: bool = True) -> IO[Any]:
        self.makedirs(posixpath.dirname(path))
        staged = staging_path(path)
        fs = self.fs
        return PublishOnClose(  # type: ignore[return-value]
            fs.open(staged, mode),
            publish=lambda: self._publish(fs, staged, path, overwrite),
            discard=lambda: fs.ftp.delete(staged),
        )

    def _publish(self, fs: FTPFileSystem, staged: str, path: str, overwrite: bool) -> None:
        if overwrite:
            fs.ftp.rename(staged, path)
            return
        # RNTO replaces: the check and the rename are two commands.
        with name_lock(path):
            if fs.exists(path):
                fs.ftp.delete(staged)
                raise FileExistsError(path)
            fs.ftp.rename(staged, path)

    def read(self, path: str) -> bytes:
        if self.isdir(path):
            raise IsADirectoryError(path)
        return bytes(self.fs.cat_file(path))

    def read_range(self, path: str, start: int, end: int) -> bytes:
        with self.fs.open(path, "rb") as file:
            file.seek(start)
            return bytes(file.read(max(end - start, 0)))

    def delete(self, path: str) -> None:
        import ftplib

        try:
            self.fs.ftp.delete(path)
        except ftplib.error_perm:
            if self.fs.exists(path):
                raise

    def makedirs(self, path: str) -> None:
        make_directories(self.fs, path, self.fs.ftp.mkd)

    def modified_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        # MLSD's "modify" fact: YYYYMMDDHHMMSS[.fff], in UTC (RFC 3659).
        stamp = str(info.get("modify") or "").split(".")[0]
        try:
            parsed = datetime.datetime.strptime(stamp, "%Y%m%d%H%M%S")
        except ValueError:
            return None
        return parsed.replace(tzinfo=datetime.timezone.utc)

    def describe_error(self, error: Exception) -> tuple[type[OSError], str] | None:
        import ftplib

        if isinstance(error, ftplib.error_perm):
            reply = str(error)
            if reply.startswith("550"):
                return FileNotFoundError, "the server has no such file or directory (550)."
            return PermissionError, f"the server refused the command ({reply[:3]})."
        if isinstance(error, ftplib.Error):
            return OSError, f"the FTP command failed ({str(error)[:3]})."
        return None
