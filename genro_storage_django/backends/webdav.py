"""``webdav`` mounts: a collection on a WebDAV server, through webdav4's fsspec filesystem."""

from __future__ import annotations

import datetime
import io
import posixpath
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import nullcontext, suppress
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any

from genro_storage_django.backends._remote import make_directories, name_lock
from genro_storage_django.backends.base import (
    TIMED_OUT,
    TIMEOUT_OPTIONS,
    Backend,
    Entry,
    as_utc,
    network_problems,
)
from genro_storage_django.schema import Option, Problem

if TYPE_CHECKING:
    from webdav4.fsspec import WebdavFileSystem


#: Bytes kept in memory by a spooled file before it moves to disk.
SPOOL = 8 * 2**20


class WebDAVBackend(Backend):
    """Parameters
    ----------
    url:
        The server's WebDAV root, such as ``https://cloud.example.com/remote.php/dav/files/me``
        (not ``base_url``: that common key is the public URL of the files).
    username, password:
        HTTP basic authentication.
    path:
        The mount's root below ``url`` (default: ``url`` itself).
    connect_timeout, read_timeout:
        Seconds to wait for the TCP connection, and for each answer.
    verify:
        False skips the TLS certificate check (a self-signed test server).
    """

    type_name = "webdav"
    requires = ("webdav4",)
    options = {
        "url": Option((str,), required=True),
        "username": Option((str,)),
        "password": Option((str,), secret=True),
        "path": Option((str,), default=""),
        **TIMEOUT_OPTIONS,
        "verify": Option((bool,), default=True),
    }

    @classmethod
    def validate(cls, mount_name: str, options: dict[str, Any]) -> list[Problem]:
        return network_problems(mount_name, options)

    def create_filesystem(self) -> WebdavFileSystem:
        import httpx
        from webdav4.fsspec import WebdavFileSystem

        options = self.mount.options
        auth = (options["username"], options["password"] or "") if options["username"] else None
        return WebdavFileSystem(
            options["url"],
            auth=auth,
            timeout=httpx.Timeout(options["read_timeout"], connect=options["connect_timeout"]),
            verify=options["verify"],
            # Retries with back-off would outlast the timeout of an unreachable server.
            retry=False,
        )

    @cached_property
    def root(self) -> str:
        return str(self.mount.options["path"]).strip("/")

    def location(self, name: str) -> str:
        return posixpath.join(self.root, name) if self.root else name

    def relative_name(self, path: str) -> str:
        path = path.strip("/")
        root = self.mount_root.strip("/")
        return path[len(root) :].lstrip("/") if root and path.startswith(root) else path

    def open(self, path: str, mode: str, parameters: Mapping[str, Any] | None = None) -> IO[Any]:
        if any(flag in mode for flag in "wax"):
            self.makedirs(posixpath.dirname(path))
            # A write is buffered in a temporary file and sent in one PUT on close.
            return self.fs.open(path, mode)
        # Read into a spooled file (memory up to SPOOL, then disk), the stream
        # closed here: a webdav4 file left to the garbage collector closes its
        # response from __del__, which deadlocks when that runs inside httpx's
        # connection pool (found by the suite, in the serve view). The cost: the
        # whole file is fetched before the first byte is returned.
        spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115 (returned)
        try:
            with self.fs.open(path, "rb") as source:
                while chunk := source.read(SPOOL):
                    spooled.write(chunk)
        except BaseException:
            spooled.close()
            raise
        spooled.seek(0)
        if "b" in mode:
            return spooled
        return io.TextIOWrapper(spooled, encoding="utf-8")  # type: ignore[type-var]

    def write(
        self,
        path: str,
        chunks: Iterable[bytes],
        overwrite: bool,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        from webdav4.client import HTTPError

        self.makedirs(posixpath.dirname(path))
        # "If-None-Match: *" makes the PUT create only (RFC 7232 3.2); servers
        # check it before writing, so this process's saves also take a lock.
        headers = {} if overwrite else {"If-None-Match": "*"}
        with _spooled(chunks) as body, name_lock(path) if not overwrite else nullcontext():
            try:
                self.fs.client.upload_fileobj(body, path, overwrite=True, headers=headers)
            except HTTPError as error:
                if error.status_code == 412:
                    raise FileExistsError(path) from None
                raise

    # Not fsspec's exists() and isdir(): they take any error (a refused login,
    # an unreachable server) for "missing".

    def exists(self, path: str) -> bool:
        return self._type(path) is not None

    def isdir(self, path: str) -> bool:
        return path == self.mount_root or self._type(path) == "directory"

    def _type(self, path: str) -> str | None:
        try:
            return str(self.fs.info(path)["type"])
        except FileNotFoundError:
            return None

    def scandir(self, path: str) -> Iterator[Entry]:
        try:
            listing = self.fs.ls(path, detail=True)
        except FileNotFoundError:
            return
        base = path.strip("/")
        for info in listing:
            name = str(info["name"]).strip("/")
            name = name[len(base) :].lstrip("/") if base and name.startswith(base) else name
            if name and "/" not in name:
                yield self.entry(name, info)

    def makedirs(self, path: str) -> None:
        make_directories(self.fs, path, self.fs.client.mkdir)

    def move(self, source: str, destination: str) -> None:
        self.makedirs(posixpath.dirname(destination))
        self.fs.client.move(source, destination)

    def delete(self, path: str) -> None:
        from webdav4.client import ResourceNotFound

        with suppress(ResourceNotFound):
            self.fs.client.remove(path)

    def modified_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        modified = info.get("modified")
        return as_utc(modified) if modified else None

    def created_time(self, path: str) -> datetime.datetime:
        created = self.info(path).get("created")
        if not created:
            raise NotImplementedError("This WebDAV server does not report creation times.")
        return as_utc(created)

    def describe_error(self, error: Exception) -> tuple[type[OSError], str] | None:
        import httpx
        from webdav4.client import ClientError, HTTPError

        if isinstance(error, HTTPError):
            status = error.status_code
            if status in (401, 403):
                return PermissionError, f"the WebDAV server refused access ({status})."
            return OSError, f"the WebDAV server answered {status}."
        if isinstance(error, httpx.TimeoutException):
            return TimeoutError, f"the WebDAV server gave {TIMED_OUT}"
        if isinstance(error, httpx.TransportError):
            server = httpx.URL(self.mount.options["url"]).host
            return (
                OSError,
                f"the WebDAV server {server} cannot be reached ({type(error).__name__}).",
            )
        if isinstance(error, ClientError):
            return OSError, f"the WebDAV request failed ({type(error).__name__})."
        return None


def _spooled(chunks: Iterable[bytes]) -> IO[bytes]:
    """Return ``chunks`` in a temporary file (on disk past 8 MiB), rewound.

    A PUT then carries a Content-Length: many servers refuse a chunked body
    (nginx), and one that answers before reading it (a 412) cannot skip it.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)  # noqa: SIM115 (returned)
    try:
        for chunk in chunks:
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool
