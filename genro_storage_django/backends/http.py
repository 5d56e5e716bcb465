"""``http`` mounts: files published by a web server, read-only."""

from __future__ import annotations

import datetime
import email.utils
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from genro_storage_django.backends.base import (
    TIMED_OUT,
    TIMEOUT_OPTIONS,
    Backend,
    Entry,
    as_utc,
    client_timeout,
    network_problems,
)
from genro_storage_django.schema import Option, Problem

if TYPE_CHECKING:
    from fsspec.implementations.http import HTTPFileSystem


class HTTPBackend(Backend):
    type_name = "http"
    requires = ("aiohttp",)
    read_only = True
    # fsspec's HTTP filesystem does not retry: no retries option.
    options = {"base_url": Option((str,), required=True), **TIMEOUT_OPTIONS}

    @classmethod
    def validate(cls, mount_name: str, options: dict[str, Any]) -> list[Problem]:
        return network_problems(mount_name, options)

    def create_filesystem(self) -> HTTPFileSystem:
        from fsspec.implementations.http import HTTPFileSystem

        # Only real links count as directory entries, not URLs in the text.
        return HTTPFileSystem(
            simple_links=False,
            use_listings_cache=False,
            skip_instance_cache=True,
            client_kwargs={"timeout": client_timeout(self.mount.options)},
        )

    @cached_property
    def root(self) -> str:
        # The server's URL: the family's, also for a child with its own base_url.
        return str(self.mount.options["base_url"]).rstrip("/")

    def location(self, name: str) -> str:
        return f"{self.root}/{quote(name)}" if name else self.root

    def relative_name(self, path: str) -> str:
        return unquote(super().relative_name(path))

    def open(self, path: str, mode: str, parameters: Mapping[str, Any] | None = None) -> IO[Any]:
        from genro_storage_django.backends.readahead import open_options

        # Reads fetch byte ranges, small ones first (backends.readahead), never the whole file.
        return self.fs.open(path, mode, **open_options(self.block_size))

    def exists(self, path: str) -> bool:
        status = self.run_on_loop(self._head_status, path)
        if status in (405, 501):
            # The server refuses HEAD: fsspec falls back to a GET.
            return bool(self.fs.exists(path))
        return status < 400

    async def _head_status(self, path: str) -> int:
        session = await self.fs.set_session()
        async with session.head(self.fs.encode_url(path), allow_redirects=True) as response:
            return int(response.status)

    def info(self, path: str) -> dict[str, Any]:
        # One HEAD. fsspec's info() would also try a GET, and turn any failure,
        # a timeout too, into FileNotFoundError.
        return self.run_on_loop(self._head_info, path)

    async def _head_info(self, path: str) -> dict[str, Any]:
        session = await self.fs.set_session()
        async with session.head(self.fs.encode_url(path), allow_redirects=True) as response:
            status, headers = int(response.status), response.headers
        length = headers.get("Content-Length")
        if status in (405, 501) or (status < 400 and length is None):
            return dict(await self.fs._info(path))  # no HEAD, or no size in it: a GET
        if status == 404:
            raise FileNotFoundError(path)
        if status >= 400:
            raise OSError(f"Mount {self.mount.name!r}: the server answered {status}.")
        kept = {key: headers[key] for key in ("Last-Modified", "ETag") if key in headers}
        return {"name": path, "type": "file", "size": int(length), "url": path, **kept}

    def describe_error(self, error: Exception) -> tuple[type[OSError], str] | None:
        import aiohttp

        if isinstance(error, (aiohttp.ServerTimeoutError, TimeoutError)):
            return TimeoutError, TIMED_OUT
        return None

    def isdir(self, path: str) -> bool:
        return path == self.mount_root or bool(self._links(path))

    def scandir(self, path: str) -> Iterator[Entry]:
        base = f"{path.rstrip('/')}/"
        for link in sorted(self._links(base)):
            if not link.startswith(base):
                continue
            name = unquote(link[len(base) :].split("?", 1)[0].split("#", 1)[0])
            is_dir = name.endswith("/")
            name = name.rstrip("/")
            if name and "/" not in name and name not in (".", ".."):
                yield Entry(name=name, is_dir=is_dir)

    def _links(self, url: str) -> list[str]:
        """Return the links of the index page at ``url``; [] if ``url`` is no page."""
        import aiohttp

        try:
            return [info["name"] for info in self.fs.ls(url, detail=True)]
        except FileNotFoundError:
            return []
        except aiohttp.ClientResponseError as error:
            raise PermissionError(
                f"Mount {self.mount.name!r} cannot list {self.relative_name(url) or '/'!r}: the "
                f"server answered {error.status} and publishes no directory index there."
            ) from None

    def modified_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        header = info.get("Last-Modified")
        try:
            return as_utc(email.utils.parsedate_to_datetime(header)) if header else None
        except (TypeError, ValueError):
            return None  # a malformed header: the time is unknown

    def url(self, path: str, name: str, signed: bool = True) -> str | None:
        return path
