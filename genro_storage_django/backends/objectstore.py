"""What the s3, gcs and azure adapters share: a bucket, a key prefix, signed or public URLs.

An object store has keys, not directories: a "directory" is a key prefix
that some key starts with. Each adapter answers three questions in its own
SDK's terms (``first_key``, ``signed_url``, ``public_url``); this class turns
them into the ``Backend`` contract with as few requests as possible.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import datetime
import itertools
from collections.abc import Generator, Iterable, Iterator, Mapping
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import quote

from django.core.exceptions import SuspiciousFileOperation
from django.utils.translation import gettext_noop

from genro_storage_django.backends import checked
from genro_storage_django.backends.base import (
    Backend,
    Entry,
    message,
    network_problems,
    stream_into,
)
from genro_storage_django.i18n import lazy_message
from genro_storage_django.object_parameters import PARAMETERS
from genro_storage_django.schema import Option, Problem

if TYPE_CHECKING:
    from genro_storage_django.backends.aio import Writer

# The options every object store mount accepts, besides its own.
OBJECT_STORE_OPTIONS: dict[str, Option] = {
    "prefix": Option((str,), default=""),
    "url_expiry": Option((int,), default=3600),
    # None: signed URLs unless the mount has a custom_domain, which cannot sign.
    "querystring_auth": Option((bool,)),
    "custom_domain": Option((str,)),
}
#: The ranges of one file ``read_chunks()`` has out at once: rclone's default
#: for its multi-thread streams. Each holds a block in memory.
PARTS = 4
#: The parts of one file ``S3Backend.write()`` uploads at once. Each holds a
#: block (and the SDK's copies of it) in memory: two keep a 1 GiB copy under
#: 150 MiB of RSS (docs/benchmarks.rst, WL2). The async API's writer sends one
#: at a time: more would keep the GIL from the caller's event loop for tens of
#: milliseconds.
UPLOAD_PARTS = 2
#: The reason of the ``OSError`` of a file replaced while ``read_chunks()`` read it.
CHANGED = "the file changed while it was read."
#: The user-metadata key of the MD5 that ``write_with_md5()`` stores.
MD5_METADATA = "md5"


def stored(fields: Mapping[str, str], found: Mapping[str, Any]) -> dict[str, Any]:
    """Return the object parameters found in a service's answer, by ``fields``.

    ``fields`` maps a parameter to its name in ``found`` (a HEAD answer, an
    object resource); the metadata loses the checksum ``write_with_md5()``
    keeps there and the directory marker adlfs writes.
    """
    parameters = {name: found[field] for name, field in fields.items() if found.get(field)}
    metadata = {
        key: value
        for key, value in (parameters.pop("metadata", None) or {}).items()
        if key not in (MD5_METADATA, "is_directory")
    }
    return {**parameters, "metadata": metadata} if metadata else parameters


class ObjectStoreBackend(Backend):
    """A mount on one bucket (or container) of an object store, under an optional key prefix."""

    #: The settings key naming the bucket ("bucket", or "container" on Azure).
    bucket_option: ClassVar[str] = "bucket"
    #: Text the fsspec class cuts out of any path as an object version
    #: ("?versionId=" in s3fs): a name holding it would reach another key.
    version_marker: ClassVar[str | None] = None
    #: True if a listing gives the MD5 of an object written in one request (an
    #: S3 ETag, GCS's md5Hash); if not, ``write_with_md5()`` puts it in the
    #: metadata, which the listing carries (Azure).
    lists_md5: ClassVar[bool] = True
    parameters = frozenset(PARAMETERS)
    #: True if the fsspec class's files get details that lack what
    #: ``expected_digest()`` reads: ``open()`` gives them ``file_details_async()``'s.
    gives_file_details: ClassVar[bool] = False

    @classmethod
    def validate(cls, mount_name: str, options: dict[str, Any]) -> list[Problem]:
        problems = network_problems(mount_name, options)
        if options["url_expiry"] <= 0:
            problems.append(
                Problem(
                    "E020",
                    lazy_message(
                        gettext_noop(
                            "Mount %(mount)s: 'url_expiry' must be a positive number of seconds."
                        ),
                        mount=repr(mount_name),
                    ),
                    hint=lazy_message(
                        gettext_noop(
                            "Signed URLs stay valid for that many seconds; the default is 3600."
                        )
                    ),
                    mount=mount_name,
                )
            )
        if options["custom_domain"] and options["querystring_auth"]:
            problems.append(
                Problem(
                    "E036",
                    lazy_message(
                        gettext_noop(
                            "Mount %(mount)s: 'querystring_auth' asks for signed URLs, but "
                            "%(type)s mounts cannot sign URLs of a 'custom_domain'."
                        ),
                        mount=repr(mount_name),
                        type=repr(cls.type_name),
                    ),
                    hint=lazy_message(
                        gettext_noop(
                            "Remove 'querystring_auth' (URLs on the custom domain are then "
                            "unsigned), or remove 'custom_domain'."
                        )
                    ),
                    mount=mount_name,
                )
            )
        return problems

    @property
    def querystring_auth(self) -> bool:
        """True if ``url()`` signs its URLs when the credentials can."""
        options = self.mount.options
        if options["querystring_auth"] is None:
            return not options["custom_domain"]
        return bool(options["querystring_auth"])

    @property
    def bucket(self) -> str:
        return self.mount.options[self.bucket_option]

    @cached_property
    def prefix(self) -> str:
        return "/".join(part for part in self.mount.options["prefix"].split("/") if part)

    @cached_property
    def root(self) -> str:
        return f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket

    def location(self, name: str) -> str:
        if self.version_marker and self.version_marker in name:
            raise SuspiciousFileOperation(
                f"{name!r} holds {self.version_marker!r}, read as an object version."
            )
        return super().location(name)

    def key(self, path: str) -> str:
        """Return the object key of the fsspec ``path`` (the path without the bucket)."""
        return path[len(self.bucket) :].lstrip("/")

    # Requests, one per question, in each SDK's terms.

    def first_key(self, prefix: str) -> str | None:
        """Return the first key (in key order) that starts with ``prefix``, or None."""
        return self.run_on_loop(self.first_key_async, prefix)

    async def first_key_async(self, prefix: str) -> str | None:
        raise NotImplementedError("subclasses of ObjectStoreBackend must provide first_key_async()")

    async def pipe_async(
        self,
        path: str,
        data: bytes,
        exclusive: bool,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        """Store ``data`` at ``path`` in one request; ``exclusive`` refuses an existing key."""
        raise NotImplementedError("subclasses of ObjectStoreBackend must provide pipe_async()")

    def multipart_writer(
        self,
        path: str,
        overwrite: bool,
        parameters: Mapping[str, Any] | None = None,
        in_flight: int = 1,
    ) -> Writer | None:
        """Return a native ``Writer`` that uploads ``path`` in parts, up to ``in_flight``
        at once, or None to use a thread."""
        return None

    def write_options(
        self, path: str, parameters: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Return the keyword arguments of the fsspec class's writes that store the
        object ``parameters`` of ``path`` (see ``Backend.object_parameters()``).

        Without a ``content_type`` parameter, the type is guessed from the name.
        """
        return self.sdk_parameters(path, self.object_parameters(path, parameters))

    def sdk_parameters(self, path: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``parameters`` in the SDK's terms, as ``write_options()`` gives them."""
        return {}

    def write_with_md5(self, path: str, chunks: Iterable[bytes], md5: str) -> None:
        """Replace ``path`` with ``chunks``, keeping ``md5`` (theirs) in the object's metadata.

        A multipart upload's ETag is no MD5: ``checksums()`` reads this one back
        (``collectstatic`` compares by it, genro_storage_django.collect).
        """
        parameters = self.object_parameters(path)
        parameters["metadata"] = {**parameters.get("metadata", {}), MD5_METADATA: md5}
        stream_into(self.open(path, "wb", parameters), chunks)

    def can_sign(self) -> bool:
        """Return True if the mount's credentials can sign URLs without a request."""
        return False

    def credentials_sign(self) -> bool:
        """Return True if the settings name credentials that sign URLs, without loading them."""
        return self.can_sign()

    def signed_url(self, path: str, expiry: int, disposition: str | None = None) -> str:
        """Return a URL of ``path`` signed for ``expiry`` seconds, made without a request.

        With ``disposition``, the response carries that Content-Disposition.
        """
        raise NotImplementedError("subclasses of ObjectStoreBackend must provide signed_url()")

    def public_url(self, key: str) -> str:
        """Return the unsigned URL of the object ``key``."""
        raise NotImplementedError("subclasses of ObjectStoreBackend must provide public_url()")

    # The Backend contract

    def open(self, path: str, mode: str, parameters: Mapping[str, Any] | None = None) -> IO[Any]:
        if any(flag in mode for flag in "wax"):
            return self.fs.open(path, mode, **self.write_options(path, parameters))
        if "b" not in mode:
            # Text: fsspec's wrapper reads ahead and back, no read is in order.
            return self._open_for_reading(path, mode, None)
        details = None
        if self.gives_file_details:
            details = self.run_on_loop(self.file_details_async, path)
        file = self._open_for_reading(path, mode, details)
        details = details or getattr(file, "details", None) or {}
        check = checked.check_for(self, path, details)
        return cast("IO[Any]", checked.CheckedFile(file, self, path, check))

    def _open_for_reading(self, path: str, mode: str, details: dict[str, Any] | None) -> Any:
        from genro_storage_django.backends.readahead import open_options

        sized = {"size": details["size"]} if details else {}
        file = self.fs.open(path, mode, **open_options(self.block_size), **sized)
        if details:
            file.details = details  # the fsspec file asks for none then
        # fsspec opens a key prefix as an empty file: it is a directory.
        if (getattr(file, "details", None) or {}).get("type") == "directory":
            file.close()
            raise IsADirectoryError(path)
        return file

    async def file_details_async(self, path: str) -> dict[str, Any]:
        """Return fsspec's details of the file at ``path`` with what ``expected_digest()``
        reads: those a file opened for reading starts from.
        """
        return await self.info_async(path)

    def write(
        self,
        path: str,
        chunks: Iterable[bytes],
        overwrite: bool,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        chunks = iter(chunks)
        first = next((chunk for chunk in chunks if chunk), b"")
        if not first:
            # An empty object: one conditional request, as put_async() sends.
            self.run_on_loop(self.put_async, path, b"", overwrite, parameters)
            return
        # "xb" makes the store refuse the commit if the key was taken meanwhile.
        mode = "wb" if overwrite else "xb"
        stream_into(self.open(path, mode, parameters), itertools.chain([first], chunks))

    def read_chunks(self, path: str) -> Generator[bytes, None, None]:
        # The HEAD that open() sends, then PARTS ranged GETs in flight.
        details = self.run_on_loop(self.file_details_async, path)
        if details.get("type") == "directory":
            raise IsADirectoryError(path)
        check = checked.check_for(self, path, details)
        size, block = int(details["size"]), self.block_size
        starts = iter(range(0, size, block))

        def fetch(start: int) -> concurrent.futures.Future[bytes]:
            part = self.read_range_async(path, start, min(size, start + block))
            return asyncio.run_coroutine_threadsafe(part, self.fs.loop)

        pending = collections.deque(fetch(start) for start in itertools.islice(starts, PARTS))
        offset = 0
        try:
            while pending:
                data = pending.popleft().result()
                pending.extend(fetch(start) for start in itertools.islice(starts, 1))
                if len(data) != min(block, size - offset):
                    raise OSError(message(self, path, CHANGED))
                if check is not None:
                    check.feed(offset, data)
                offset += len(data)
                yield data
        finally:
            for future in pending:
                future.cancel()

    def exists(self, path: str) -> bool:
        return self.run_on_loop(self.exists_async, path)

    def isdir(self, path: str) -> bool:
        return self.run_on_loop(self.isdir_async, path)

    def info(self, path: str) -> dict[str, Any]:
        return self.run_on_loop(self.info_async, path)

    def scandir(self, path: str) -> Iterator[Entry]:
        yield from self.run_on_loop(self.scandir_async, path)

    def move(self, source: str, destination: str) -> None:
        self.run_on_loop(self.move_async, source, destination)

    def delete_tree(self, path: str) -> None:
        self.run_on_loop(self.delete_tree_async, path)

    def signs_urls(self) -> bool:
        custom_domain = self.mount.options["custom_domain"]
        return bool(self.querystring_auth and not custom_domain and self.credentials_sign())

    def url(self, path: str, name: str, signed: bool = True) -> str | None:
        options = self.mount.options
        key = self.key(path)
        if options["custom_domain"]:
            domain = options["custom_domain"].rstrip("/")
            domain = domain if "://" in domain else f"https://{domain}"
            return f"{domain}/{quote(key)}"
        if signed and self.querystring_auth and self.can_sign():
            return self.signed_url(path, options["url_expiry"])
        return self.public_url(key)

    def download_url(self, path: str, expiry: int, disposition: str | None) -> str | None:
        if self.mount.options["custom_domain"] or not self.can_sign():
            return None
        return self.signed_url(path, expiry, disposition)

    # The same operations as coroutines, on fsspec's event loop (backends.aio).

    def event_loop(self) -> asyncio.AbstractEventLoop:
        return self.fs.loop

    async def exists_async(self, path: str) -> bool:
        key = self.key(path)
        if not key:
            return True
        first = await self.first_key_async(key)
        if first is None:
            return False
        if first == key or first.startswith(f"{key}/"):
            return True
        # A sibling such as "name.bak" sorts before "name/...": ask again.
        return await self.first_key_async(f"{key}/") is not None

    async def isdir_async(self, path: str) -> bool:
        key = self.key(path)
        return not key or await self.first_key_async(f"{key}/") is not None

    async def info_async(self, path: str) -> dict[str, Any]:
        return dict(await self.fs._info(path))

    async def size_async(self, path: str) -> int:
        return int((await self.info_async(path))["size"])

    async def scandir_async(self, path: str) -> list[Entry]:
        try:
            listing = await self.fs._ls(path, detail=True)
        except FileNotFoundError:
            return []
        return self._entries(path, listing)

    def _entries(self, path: str, listing: list[dict[str, Any]]) -> list[Entry]:
        base = self.fs._strip_protocol(path).rstrip("/")
        entries, is_file = [], False
        for info in listing:
            name = self.fs._strip_protocol(info["name"]).rstrip("/")
            if not name.startswith(f"{base}/"):
                # The directory's marker object, or the key itself: fsspec
                # lists a file as itself.
                is_file = is_file or (name == base and info.get("type") == "file")
                continue
            name = name[len(base) + 1 :]
            if name and "/" not in name:
                entries.append(self.entry(name, info))
        if is_file and not entries and self.key(path):
            raise NotADirectoryError(path)
        return entries

    async def listdir_async(self, path: str) -> tuple[list[str], list[str]]:
        entries = await self.scandir_async(path)
        return [e.name for e in entries if e.is_dir], [e.name for e in entries if not e.is_dir]

    async def delete_async(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await self.fs._rm_file(path)

    async def modified_time_async(self, path: str) -> datetime.datetime:
        info = await self.info_async(path)
        modified = self.modified_from_info(info)
        if modified is None:
            raise IsADirectoryError(path)
        return modified

    async def created_time_async(self, path: str) -> datetime.datetime:
        created = self.created_from_info(await self.info_async(path))
        if created is None:
            raise IsADirectoryError(path)
        return created

    def created_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        """Return the creation time in fsspec's ``info``; ``NotImplementedError`` if never."""
        raise NotImplementedError(f"{self.type_name} mounts do not record creation times.")

    async def accessed_time_async(self, path: str) -> datetime.datetime:
        return self.accessed_time(path)  # no request: it raises NotImplementedError

    async def makedirs_async(self, path: str) -> None:
        await self.fs._makedirs(path, exist_ok=True)

    async def move_async(self, source: str, destination: str) -> None:
        # No store renames: copy every key on the server side, then delete
        # the originals (fsspec's mv would also try to copy the prefixes).
        if await self.isdir_async(source):
            found = await self.fs._find(f"{source}/")
            pairs = [(old, f"{destination}{old[len(source) :]}") for old in found]
        else:
            pairs = [(source, destination)]
        for old, new in pairs:
            await self.fs._cp_file(old, new)
        await self.fs._rm([old for old, _ in pairs])

    async def delete_tree_async(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await self.fs._rm(f"{path}/", recursive=True)

    async def read_range_async(self, path: str, start: int, end: int) -> bytes:
        return bytes(await self.fs._cat_file(path, start=start, end=end))

    async def read_async(self, path: str) -> bytes:
        return bytes(await self.fs._cat_file(path))

    async def copy_within_async(
        self,
        other: Backend,
        source: str,
        destination: str,
        parameters: Mapping[str, Any] | None = None,
    ) -> bool:
        if not self.same_filesystem(other):
            return False
        await self.fs._cp_file(source, destination)
        return True

    async def write_async(self, path: str, data: bytes) -> None:
        await self.pipe_async(path, data, exclusive=False)

    async def put_async(
        self,
        path: str,
        data: bytes,
        overwrite: bool,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        """``write()`` of one block, in one request: conditional unless ``overwrite``."""
        await self.pipe_async(path, data, exclusive=not overwrite, parameters=parameters)
