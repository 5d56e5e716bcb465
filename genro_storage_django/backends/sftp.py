"""``sftp`` mounts: a directory on an SSH server, through fsspec's paramiko filesystem."""

from __future__ import annotations

import contextlib
import datetime
import io
import os
import posixpath
import socket
import time
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any

from django.utils.translation import gettext_noop

from genro_storage_django.backends._remote import (
    PerThreadFilesystem,
    PublishOnClose,
    make_directories,
    staging_path,
)
from genro_storage_django.backends.base import (
    TIMED_OUT,
    TIMEOUT_OPTIONS,
    as_utc,
    network_problems,
    stream_into,
)
from genro_storage_django.i18n import lazy_message
from genro_storage_django.schema import Mount, Option, Problem

if TYPE_CHECKING:
    from fsspec.implementations.sftp import SFTPFileSystem
    from paramiko import MissingHostKeyPolicy, PKey


class SFTPBackend(PerThreadFilesystem):
    """Parameters
    ----------
    host, port:
        The SSH server (port 22 by default).
    username, password:
        The account; ``password`` also unlocks an encrypted key.
    key_filename, pkey:
        A private key file, or the private key itself (OpenSSH or PEM text).
    path:
        The mount's root on the server; relative to the login directory unless
        absolute (default: the login directory).
    known_hosts:
        The OpenSSH known_hosts file that must list the server's key (default:
        ``~/.ssh/known_hosts``); ``False`` accepts any key (check W004).
    connect_timeout, read_timeout:
        Seconds to wait for the TCP connection, and for each answer (the SSH
        banner, the authentication, every SFTP request).
    """

    type_name = "sftp"
    requires = ("paramiko",)
    options = {
        "host": Option((str,), required=True),
        "port": Option((int,), default=22),
        "username": Option((str,)),
        "password": Option((str,), secret=True),
        "key_filename": Option((str, os.PathLike)),
        "pkey": Option((str,), secret=True),
        "path": Option((str,), default="."),
        "known_hosts": Option((str, os.PathLike, bool), default=True),
        **TIMEOUT_OPTIONS,
    }

    @classmethod
    def validate(cls, mount_name: str, options: dict[str, Any]) -> list[Problem]:
        return network_problems(mount_name, options)

    @classmethod
    def check(cls, mount: Mount) -> list[Problem]:
        problems = super().check(mount)
        if mount.options["known_hosts"] is False:
            message = lazy_message(
                gettext_noop(
                    "Mount %(mount)s: 'known_hosts' is False, so any server answering at "
                    "%(host)s is trusted with the credentials."
                ),
                mount=repr(mount.name),
                host=repr(mount.options["host"]),
            )
            hint = lazy_message(
                gettext_noop(
                    "Give 'known_hosts' the path of a file that lists the server's host key."
                )
            )
            problems.append(Problem("W004", message, hint=hint, mount=mount.name, warning=True))
        return problems

    def create_filesystem(self) -> SFTPFileSystem:
        from fsspec.implementations.sftp import SFTPFileSystem

        options = self.mount.options
        wait = options["read_timeout"]
        started = time.monotonic()
        try:
            fs = SFTPFileSystem(
                options["host"],
                port=options["port"],
                username=options["username"],
                password=options["password"],
                key_filename=_optional_path(options["key_filename"]),
                pkey=self._pkey(),
                host_key_policy=self._host_key_policy(),
                # Only the credentials of the settings: no agent, no ~/.ssh keys.
                allow_agent=False,
                look_for_keys=False,
                timeout=options["connect_timeout"],
                banner_timeout=wait,
                auth_timeout=wait,
                channel_timeout=wait,
                skip_instance_cache=True,
            )
        except Exception as error:
            # paramiko reports a silent server as "No existing session" or a
            # banner error: only the clock tells that it was a timeout.
            timed_out = time.monotonic() - started >= min(wait, options["connect_timeout"])
            raise self._connection_error(error, timed_out) from None
        # Every SFTP request waits for its answer on this channel.
        fs.ftp.get_channel().settimeout(wait)
        return fs

    def close_filesystem(self, fs: SFTPFileSystem) -> None:
        # Called as the session's thread ends: close the socket only. paramiko's
        # close() joins its transport thread, which from a thread that the
        # threading module has already let go leaves a dummy thread behind.
        transport = fs.client.get_transport()
        if transport is not None:
            transport.sock.close()

    def session_alive(self, fs: SFTPFileSystem, idle: float) -> bool:
        # paramiko's transport thread notices a closed connection: no request.
        transport = fs.client.get_transport()
        return transport is not None and transport.is_active()

    def _pkey(self) -> PKey | None:
        text = self.mount.options["pkey"]
        if not text:
            return None
        import paramiko

        last: Exception | None = None
        for key_class in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
            try:
                return key_class.from_private_key(
                    io.StringIO(text), password=self.mount.options["password"]
                )
            except paramiko.SSHException as error:
                last = error
        raise PermissionError(
            f"Mount {self.mount.name!r}: 'pkey' is not a private key paramiko can read "
            f"({type(last).__name__})."
        )

    def _host_key_policy(self) -> MissingHostKeyPolicy:
        import paramiko

        known_hosts = self.mount.options["known_hosts"]
        if known_hosts is False:
            return paramiko.AutoAddPolicy()
        if known_hosts is True:
            known_hosts = os.path.expanduser("~/.ssh/known_hosts")
        return _known_hosts_policy(os.fspath(known_hosts))

    def _connection_error(self, error: Exception, timed_out: bool) -> OSError:
        import paramiko

        server = f"{self.mount.options['host']}:{self.mount.options['port']}"
        prefix = f"Mount {self.mount.name!r}: the SFTP server {server}"
        if isinstance(error, paramiko.AuthenticationException):
            return PermissionError(f"{prefix} refused the credentials.")
        if isinstance(error, _HostKeyError):
            return PermissionError(f"{prefix} {error}")
        if timed_out or isinstance(error, (socket.timeout, TimeoutError)):
            return TimeoutError(f"{prefix} gave {TIMED_OUT}")
        if isinstance(error, OSError) and not isinstance(error, PermissionError):
            return OSError(f"{prefix} cannot be reached ({type(error).__name__}).")
        if isinstance(error, PermissionError):
            return error  # ours already: an unreadable pkey
        return OSError(f"{prefix} failed the SSH handshake ({type(error).__name__}).")

    @cached_property
    def root(self) -> str:
        # A relative path is below the login directory: ask the server where that is.
        path = self.mount.options["path"] or "."
        if not path.startswith("/"):
            path = self.fs.ftp.normalize(path)
        return path.rstrip("/") or ""

    def location(self, name: str) -> str:
        return f"{self.root}/{name}" if name else self.root or "/"

    def open(self, path: str, mode: str, parameters: Mapping[str, Any] | None = None) -> IO[Any]:
        if not any(flag in mode for flag in "wax"):
            return self.fs.open(path, mode)
        return self._staged(path, mode, overwrite=True)

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

    def _staged(self, path: str, mode: str, overwrite: bool) -> IO[Any]:
        self.makedirs(posixpath.dirname(path))
        staged = staging_path(path)
        sftp = self.fs.ftp
        file = self.fs.open(staged, mode)
        # Pipelined: paramiko sends the next write without waiting for the
        # server's answer to the last, not one round trip per 32 KiB.
        getattr(file, "buffer", file).set_pipelined(True)
        return PublishOnClose(  # type: ignore[return-value]
            file,
            publish=lambda: self._publish(sftp, staged, path, overwrite),
            discard=lambda: sftp.remove(staged),
        )

    def _publish(self, sftp: Any, staged: str, path: str, overwrite: bool) -> None:
        if overwrite:
            sftp.posix_rename(staged, path)
            return
        # The plain SFTP rename refuses an existing target (OpenSSH links,
        # then unlinks): two saves of one name never replace each other.
        try:
            sftp.rename(staged, path)
        except OSError:
            sftp.remove(staged)
            if self.fs.exists(path):
                raise FileExistsError(path) from None
            raise

    def read(self, path: str) -> bytes:
        with self.fs.open(path, "rb") as file:
            # Whole file: paramiko asks for every block at once.
            file.prefetch()
            return bytes(file.read())

    def read_range(self, path: str, start: int, end: int) -> bytes:
        with self.fs.open(path, "rb") as file:
            file.seek(start)
            return bytes(file.read(max(end - start, 0)))

    def delete(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs._rm(path)

    def makedirs(self, path: str) -> None:
        make_directories(self.fs, path, self.fs.ftp.mkdir)

    def modified_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        return as_utc(info["mtime"]) if info.get("mtime") is not None else None

    def created_time(self, path: str) -> datetime.datetime:
        raise NotImplementedError("SFTP servers do not report creation times.")

    def accessed_time(self, path: str) -> datetime.datetime:
        return as_utc(self.info(path)["time"])

    def describe_error(self, error: Exception) -> tuple[type[OSError], str] | None:
        import paramiko

        if isinstance(error, paramiko.SSHException):
            return OSError, f"the SSH connection failed ({type(error).__name__})."
        return None


class _HostKeyError(Exception):
    """The server's host key is not the one the known_hosts file lists, or is not listed."""


def _optional_path(value: str | os.PathLike[str] | None) -> str | None:
    return os.fspath(value) if value else None


def _known_hosts_policy(path: str) -> MissingHostKeyPolicy:
    """Return a paramiko policy that accepts only the keys listed in the file ``path``."""
    import paramiko

    # The client itself knows no keys (fsspec loads none), so paramiko asks
    # this policy about every server: it is the only judge.
    class KnownHostsPolicy(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client: Any, hostname: str, key: PKey) -> None:
            try:
                known = paramiko.HostKeys(path)
            except OSError:
                raise _HostKeyError(f"cannot be verified: {path!r} cannot be read.") from None
            listed = known.lookup(hostname)
            if not listed:
                raise _HostKeyError(f"is not listed in {path!r} (host key {key.get_name()}).")
            if not known.check(hostname, key):
                raise _HostKeyError(f"presented a host key that differs from the one in {path!r}.")

    return KnownHostsPolicy()
