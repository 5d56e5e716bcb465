"""``s3`` mounts: an Amazon S3 bucket or an S3-compatible server, through s3fs."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from genro_storage_django.backends.base import Backend, as_utc
from genro_storage_django.backends.objectstore import (
    OBJECT_STORE_OPTIONS,
    ObjectStoreBackend,
)
from genro_storage_django.content_types import content_type
from genro_storage_django.schema import Option

if TYPE_CHECKING:
    import asyncio

    from s3fs import S3FileSystem


class S3Backend(ObjectStoreBackend):
    type_name = "s3"
    requires = ("s3fs",)
    version_marker = "?versionId="
    options = {
        "bucket": Option((str,), required=True),
        "region": Option((str,)),
        "anon": Option((bool,), default=False),
        "endpoint_url": Option((str,)),
        "key": Option((str,), secret=True),
        "secret": Option((str,), secret=True),
        "token": Option((str,), secret=True),
        "s3_options": Option((dict,), default=None, secret=True),
        **OBJECT_STORE_OPTIONS,
    }

    def create_filesystem(self) -> S3FileSystem:
        from s3fs import S3FileSystem

        options = self.mount.options
        settings: dict[str, Any] = {
            # s3fs takes these keys under the same names.
            **{key: options[key] for key in ("anon", "key", "secret", "token", "endpoint_url")},
            "client_kwargs": {"region_name": options["region"]} if options["region"] else {},
            # Signature V4 works in every region; some accept nothing else.
            "config_kwargs": {"signature_version": "s3v4"},
            # Another process may change the bucket at any time: never answer
            # from a listing made earlier.
            "use_listings_cache": False,
            # Multipart parts (and read-ahead) of 8 MiB, as awscli, rather than
            # s3fs's 50: a write holds about three blocks, so a copy stays under
            # 150 MiB of RSS (docs/benchmarks.rst). At most 10,000 parts: objects
            # up to 78 GiB; s3_options={"default_block_size": ...} for bigger ones.
            "default_block_size": 8 * 2**20,
        }
        settings.update(options["s3_options"] or {})
        return S3FileSystem(**settings, skip_instance_cache=True)

    def first_key(self, prefix: str) -> str | None:
        response = self.fs.call_s3("list_objects_v2", Bucket=self.bucket, Prefix=prefix, MaxKeys=1)
        contents = response.get("Contents") or [{}]
        return contents[0].get("Key")

    def info(self, path: str) -> dict[str, Any]:
        # One HEAD request; s3fs would list the prefix too when the key is missing.
        try:
            response = self.fs.call_s3("head_object", Bucket=self.bucket, Key=self.key(path))
        except FileNotFoundError:
            raise FileNotFoundError(path) from None
        return {
            "name": path,
            "type": "file",
            "size": response["ContentLength"],
            "LastModified": response["LastModified"],
            "ContentType": response.get("ContentType"),
            "ContentEncoding": response.get("ContentEncoding"),
        }

    def created_time(self, path: str) -> datetime.datetime:
        raise NotImplementedError(
            "S3 records only when an object was last written (get_modified_time()), "
            "not when its name was first created."
        )

    def modified_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        modified = info.get("LastModified")
        return as_utc(modified) if isinstance(modified, datetime.datetime) else None

    def describe_error(self, error: Exception) -> tuple[type[OSError], str] | None:
        # s3fs turns the server's answers into OSErrors; what is left comes
        # from botocore before any answer: credentials, connection, settings.
        from botocore.exceptions import BotoCoreError, NoCredentialsError, PartialCredentialsError

        if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
            return PermissionError, "no usable AWS credentials were found."
        if isinstance(error, BotoCoreError):
            return OSError, f"the S3 request failed ({type(error).__name__})."
        return None

    def checksums(self, info: dict[str, Any]) -> dict[str, str]:
        etag = str(info.get("ETag") or "").strip('"')
        # A multipart upload's ETag ("<hash>-<parts>") is not the MD5 of the content.
        return {"md5": etag} if etag and "-" not in etag else {}

    def same_filesystem(self, other: Backend) -> bool:
        # One endpoint and one set of credentials copy on the server, across buckets.
        keys = ("endpoint_url", "region", "anon", "key", "secret", "token", "s3_options")
        return isinstance(other, S3Backend) and all(
            self.mount.options[key] == other.mount.options[key] for key in keys
        )

    def copy_within(self, other: Backend, source: str, destination: str) -> bool:
        if not self.same_filesystem(other):
            return False
        return self.run_on_loop(self._copy_object, other, source, destination)

    async def copy_within_async(self, other: Backend, source: str, destination: str) -> bool:
        if not self.same_filesystem(other):
            return False
        return await self._copy_object(other, source, destination)

    async def _copy_object(self, other: Backend, source: str, destination: str) -> bool:
        assert isinstance(other, S3Backend)
        # One CopyObject request: s3fs's cp_file first asks for the size (a HEAD)
        # to choose a multipart copy, which only objects over 5 GiB need.
        try:
            await self.fs._call_s3(
                "copy_object",
                Bucket=other.bucket,
                Key=other.key(destination),
                CopySource={"Bucket": self.bucket, "Key": self.key(source)},
            )
        except (FileNotFoundError, PermissionError):
            raise
        except OSError:
            # Refused as too large for one request: the multipart copy.
            await self.fs._cp_file(source, destination)
        return True

    def write(self, path: str, chunks: Iterable[bytes], overwrite: bool) -> None:
        if not overwrite:
            super().write(path, chunks, overwrite)
            return
        chunks = iter(chunks)
        head = list(itertools.islice(chunks, 2))
        if len(head) < 2:
            # One chunk (a small file, as transfers send them): one PutObject,
            # without the buffered file's extra hops to s3fs's event loop.
            self.run_on_loop(self.write_async, path, head[0] if head else b"")
            return
        super().write(path, itertools.chain(head, chunks), overwrite)

    def read(self, path: str) -> bytes:
        return self.run_on_loop(self.read_async, path)

    def event_loop(self) -> asyncio.AbstractEventLoop:
        return self.fs.loop

    async def read_async(self, path: str) -> bytes:
        # One GET: with concurrency, s3fs first asks for the size (a HEAD).
        return bytes(await self.fs._cat_file(path, max_concurrency=1))

    async def write_async(self, path: str, data: bytes) -> None:
        await self.fs._pipe_file(path, data, **self.write_options(path))

    def write_options(self, path: str) -> dict[str, Any]:
        return {"ContentType": content_type(path)}

    def can_sign(self) -> bool:
        return not self.mount.options["anon"]

    def signed_url(self, path: str, expiry: int) -> str:
        # botocore signs locally: no request is made.
        return self.fs.url(path, expires=expiry)

    def public_url(self, key: str) -> str:
        options = self.mount.options
        if options["endpoint_url"]:
            return f"{options['endpoint_url'].rstrip('/')}/{self.bucket}/{quote(key)}"
        region = f".{options['region']}" if options["region"] else ""
        return f"https://{self.bucket}.s3{region}.amazonaws.com/{quote(key)}"
