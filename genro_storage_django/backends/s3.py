"""``s3`` mounts: an Amazon S3 bucket or an S3-compatible server, through s3fs."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import datetime
import itertools
from collections.abc import Awaitable, Generator, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from genro_storage_django.backends import aio, checked
from genro_storage_django.backends.base import (
    CORRUPTED,
    NETWORK_OPTIONS,
    TIMED_OUT,
    Backend,
    Digest,
    Leftover,
    as_utc,
    message,
)
from genro_storage_django.backends.objectstore import (
    CHANGED,
    MD5_METADATA,
    OBJECT_STORE_OPTIONS,
    UPLOAD_PARTS,
    stored,
)
from genro_storage_django.backends.paged import ListPage, PagedObjectStoreBackend
from genro_storage_django.content_types import content_type
from genro_storage_django.schema import Option

if TYPE_CHECKING:
    from s3fs import S3FileSystem

#: The object parameters with a field of the same meaning in PutObject and
#: CreateMultipartUpload (encryption has two: see ``sdk_parameters()``).
S3_FIELDS = {
    "cache_control": "CacheControl",
    "content_disposition": "ContentDisposition",
    "content_encoding": "ContentEncoding",
    "content_language": "ContentLanguage",
    "content_type": "ContentType",
    "metadata": "Metadata",
    "acl": "ACL",
    "storage_class": "StorageClass",
}
#: S3's canned ACLs.
CANNED_ACLS = (
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
)
STORAGE_CLASSES = (
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "EXPRESS_ONEZONE",
)
#: The fields of a HEAD answer (with ChecksumMode) that ``expected_digest()`` reads.
CHECKSUM_FIELDS = ("ChecksumCRC32", "ChecksumType")
NO_CREATION_TIME = (
    "S3 records only when an object was last written (get_modified_time()), "
    "not when its name was first created."
)


#: Connections kept open to the endpoint: room for ``transfer.DEFAULT_IN_FLIGHT``
#: requests out at once, twice over.
MAX_CONNECTIONS = 64


class S3Backend(PagedObjectStoreBackend):
    type_name = "s3"
    requires = ("s3fs",)
    version_marker = "?versionId="
    parameter_choices = {"acl": CANNED_ACLS, "storage_class": STORAGE_CLASSES}
    gives_file_details = True
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
        **NETWORK_OPTIONS,
    }

    def create_filesystem(self) -> S3FileSystem:
        from s3fs import S3FileSystem

        options = self.mount.options
        settings: dict[str, Any] = {
            # s3fs takes these keys under the same names.
            **{key: options[key] for key in ("anon", "key", "secret", "token", "endpoint_url")},
            "client_kwargs": {"region_name": options["region"]} if options["region"] else {},
            # Signature V4 works in every region; some accept nothing else.
            # s3fs retries what fails on the way (timeouts, resets, 5xx) with
            # back-off: botocore must not retry as well, or the attempts multiply.
            "config_kwargs": {
                "signature_version": "s3v4",
                "connect_timeout": options["connect_timeout"],
                "read_timeout": options["read_timeout"],
                "retries": {"total_max_attempts": 1, "mode": "standard"},
                # A CRC32 of the body with every PutObject and UploadPart
                # (x-amz-checksum-crc32), which S3 checks: a body corrupted
                # on the way is refused. botocore's default, but the
                # environment or ~/.aws/config may turn it off.
                "request_checksum_calculation": "when_supported",
                # botocore keeps 10 connections: a copy's small files in flight
                # (32 by default) and concurrent async calls would queue for them.
                "max_pool_connections": MAX_CONNECTIONS,
            },
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
        fs = S3FileSystem(**settings, skip_instance_cache=True)
        fs.retries = options["retries"] + 1  # attempts, in s3fs's terms
        if fs.session is None:  # s3_options may bring a session of its own
            # The session s3fs would make from its remaining options (a
            # profile...), reading timestamps without dateutil.
            from genro_storage_django.backends import s3_timestamps

            fs.session = s3_timestamps.session(fs.kwargs)
        return fs

    async def first_key_async(self, prefix: str) -> str | None:
        response = await self.fs._call_s3(
            "list_objects_v2", Bucket=self.bucket, Prefix=prefix, MaxKeys=1
        )
        contents = response.get("Contents") or [{}]
        return contents[0].get("Key")

    async def info_async(self, path: str) -> dict[str, Any]:
        return await self._head(path)

    async def _head(self, path: str, **request: Any) -> dict[str, Any]:
        # One HEAD request; s3fs would list the prefix too when the key is missing.
        try:
            response = await self.fs._call_s3(
                "head_object", Bucket=self.bucket, Key=self.key(path), **request
            )
        except FileNotFoundError:
            raise FileNotFoundError(path) from None
        info = {
            "name": path,
            "type": "file",
            "size": response["ContentLength"],
            "LastModified": response["LastModified"],
            "ContentType": response.get("ContentType"),
            "ContentEncoding": response.get("ContentEncoding"),
            "ETag": response.get("ETag"),
            "Metadata": response.get("Metadata") or {},
        }
        info.update({key: response[key] for key in CHECKSUM_FIELDS if response.get(key)})
        return info

    def _open_for_reading(self, path: str, mode: str, details: dict[str, Any] | None) -> Any:
        file = super()._open_for_reading(path, mode, details)
        if details and details.get("ETag"):
            # What s3fs's file does when it asks for the details itself: each
            # read asks for the object seen at open(), never one written since.
            file.read_kw = {**file.read_kw, "IfMatch": details["ETag"]}
        return file

    async def file_details_async(self, path: str) -> dict[str, Any]:
        # The HEAD that s3fs's file would send, asking for S3's checksum as well
        # (only here: on a KMS-encrypted object it needs the key's Decrypt).
        return await self._head(path, ChecksumMode="ENABLED")

    def expected_digest(self, info: dict[str, Any]) -> Digest | None:
        # The CRC32 that S3 computed of the whole object; a multipart upload's
        # ("<crc>-<parts>", type COMPOSITE) is of its parts' checksums.
        crc32 = info.get("ChecksumCRC32")
        if not crc32 or "-" in crc32 or info.get("ChecksumType", "FULL_OBJECT") != "FULL_OBJECT":
            return None
        return Digest("crc32", base64.b64decode(crc32))

    async def list_page_async(
        self, prefix: str, delimiter: str, limit: int, token: str | None
    ) -> ListPage:
        request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "MaxKeys": limit}
        if delimiter:
            request["Delimiter"] = delimiter
        if token:
            request["ContinuationToken"] = token
        response = await self.fs._call_s3("list_objects_v2", **request, **self.fs.req_kw)
        objects = []
        for found in response.get("Contents") or []:
            key = found["Key"]  # which _fill_info() prefixes with the bucket
            found["type"] = "file"
            self.fs._fill_info(found, self.bucket, versions=False)  # as s3fs's listings
            objects.append((key, found))
        folders = [item["Prefix"] for item in response.get("CommonPrefixes") or []]
        truncated = response.get("IsTruncated")
        return ListPage(
            objects, folders, response.get("NextContinuationToken") if truncated else None
        )

    def created_time(self, path: str) -> datetime.datetime:
        raise NotImplementedError(NO_CREATION_TIME)

    def created_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        raise NotImplementedError(NO_CREATION_TIME)

    def modified_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        modified = info.get("LastModified")
        return as_utc(modified) if isinstance(modified, datetime.datetime) else None

    def describe_error(self, error: Exception) -> tuple[type[OSError], str] | None:
        # s3fs turns the server's answers into OSErrors; what is left comes
        # from botocore before any answer: credentials, connection, settings.
        from botocore.exceptions import (
            BotoCoreError,
            ConnectTimeoutError,
            FlexibleChecksumError,
            NoCredentialsError,
            PartialCredentialsError,
            ReadTimeoutError,
        )

        if isinstance(error, FlexibleChecksumError):
            # botocore's check of the checksum S3 sent with a GET.
            return OSError, CORRUPTED
        if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
            return PermissionError, "no usable AWS credentials were found."
        if isinstance(error, (ConnectTimeoutError, ReadTimeoutError, TimeoutError)):
            return TimeoutError, TIMED_OUT
        if isinstance(error, BotoCoreError):
            return OSError, f"the S3 request failed ({type(error).__name__})."
        return None

    def stored_parameters(self, path: str) -> dict[str, Any]:
        head = self.run_on_loop(
            self.fs._call_s3, "head_object", Bucket=self.bucket, Key=self.key(path)
        )
        # A HEAD answer gives no ACL: that one is not kept.
        fields = {name: field for name, field in S3_FIELDS.items() if name != "acl"}
        parameters = stored(fields, head)
        if head.get("ServerSideEncryption") == "aws:kms":
            parameters["encryption"] = head["SSEKMSKeyId"]
        elif head.get("ServerSideEncryption") == "AES256":
            parameters["encryption"] = "AES256"
        return parameters

    def checksums(self, info: dict[str, Any]) -> dict[str, str]:
        # The MD5 that write_with_md5() stored: only a HEAD gives it, never a listing.
        stored = (info.get("Metadata") or {}).get(MD5_METADATA)
        if stored:
            return {"md5": stored}
        etag = str(info.get("ETag") or "").strip('"')
        # A multipart upload's ETag ("<hash>-<parts>") is not the MD5 of the content.
        return {"md5": etag} if etag and "-" not in etag else {}

    def same_filesystem(self, other: Backend) -> bool:
        # One endpoint and one set of credentials copy on the server, across buckets.
        keys = ("endpoint_url", "region", "anon", "key", "secret", "token", "s3_options")
        return isinstance(other, S3Backend) and all(
            self.mount.options[key] == other.mount.options[key] for key in keys
        )

    def copy_within(
        self,
        other: Backend,
        source: str,
        destination: str,
        parameters: Mapping[str, Any] | None = None,
    ) -> bool:
        if not self.same_filesystem(other):
            return False
        return self.run_on_loop(self._copy_object, other, source, destination, parameters)

    async def copy_within_async(
        self,
        other: Backend,
        source: str,
        destination: str,
        parameters: Mapping[str, Any] | None = None,
    ) -> bool:
        if not self.same_filesystem(other):
            return False
        return await self._copy_object(other, source, destination, parameters)

    async def _copy_object(
        self,
        other: Backend,
        source: str,
        destination: str,
        given: Mapping[str, Any] | None,
    ) -> bool:
        assert isinstance(other, S3Backend)
        # One CopyObject request: s3fs's cp_file first asks for the size (a HEAD)
        # to choose a multipart copy, which only objects over 5 GiB need.
        # The copy keeps the source's headers and metadata, unless the
        # destination mount has object parameters for the name: those replace them.
        parameters = other.object_parameters(destination, given)
        replace = other.sdk_parameters(destination, parameters) if parameters else {}
        if replace:
            replace["MetadataDirective"] = "REPLACE"
        try:
            await self.fs._call_s3(
                "copy_object",
                Bucket=other.bucket,
                Key=other.key(destination),
                CopySource={"Bucket": self.bucket, "Key": self.key(source)},
                **replace,
            )
        except (FileNotFoundError, PermissionError):
            raise
        except OSError:
            # Refused as too large for one request: the multipart copy.
            await self.fs._cp_file(source, destination)
        return True

    def write(
        self,
        path: str,
        chunks: Iterable[bytes],
        overwrite: bool,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        chunks = iter(chunks)
        head = list(itertools.islice(chunks, 2))
        if len(head) < 2 and overwrite:
            # One chunk (a small file, as transfers send them): one PutObject,
            # without the writer's extra hops to s3fs's event loop.
            data = head[0] if head else b""
            self.run_on_loop(self.pipe_async, path, data, False, parameters)
            return
        self._write_in_parts(path, itertools.chain(head, chunks), overwrite, parameters)

    def _write_in_parts(
        self,
        path: str,
        chunks: Iterable[bytes],
        overwrite: bool,
        parameters: Mapping[str, Any] | None,
    ) -> None:
        # The async API's writer, fed from this thread: while it reads the next
        # part, up to UPLOAD_PARTS earlier ones are being uploaded (s3fs's file
        # sends one at a time). One PutObject if it all fits in a block.
        parameters = self.object_parameters(path, parameters)
        writer = aio.PartWriter(self, path, overwrite, parameters, in_flight=UPLOAD_PARTS)
        try:
            for chunk in chunks:
                self.run_on_loop(writer.write, chunk)
        except BaseException:
            self.run_on_loop(writer.abort)
            raise
        self.run_on_loop(writer.close)

    def read(self, path: str) -> bytes:
        return self.run_on_loop(self.read_async, path)

    async def read_async(self, path: str) -> bytes:
        # One GET: with concurrency, s3fs first asks for the size (a HEAD).
        return bytes(await self.fs._cat_file(path, max_concurrency=1))

    async def read_range_async(self, path: str, start: int, end: int) -> bytes:
        return bytes(await self.fs._cat_file(path, start=start, end=end, max_concurrency=1))

    def read_chunks(self, path: str) -> Generator[bytes, None, None]:
        # One GET of the whole object, read a block ahead of the caller: a
        # ranged GET per block costs a request each (and moto a copy of the
        # whole object each: docs/benchmarks.rst, WL2).
        details = self.run_on_loop(self.file_details_async, path)
        check = checked.check_for(self, path, details)
        stream = ObjectStream(self, path, details)
        offset = 0
        try:
            ahead = stream.prefetch()
            while data := ahead.result():
                ahead = stream.prefetch()
                if check is not None:
                    check.feed(offset, data)
                offset += len(data)
                yield data
            if offset != int(details["size"]):
                raise OSError(message(self, path, CHANGED))
        finally:
            self.run_on_loop(stream.close)

    async def body_async(self, path: str, details: Mapping[str, Any], start: int = 0) -> Any:
        """Return the body of a GET of ``path`` from byte ``start``, refused if it is no
        longer the object ``details`` (its HEAD) describe."""
        request = {"IfMatch": details["ETag"]} if details.get("ETag") else {}
        if start:
            request["Range"] = f"bytes={start}-"
        try:
            response = await self.fs._call_s3(
                "get_object", Bucket=self.bucket, Key=self.key(path), **request
            )
        except OSError as error:
            if _precondition_failed(error):
                raise OSError(message(self, path, CHANGED)) from None
            raise
        return response["Body"]

    async def pipe_async(
        self,
        path: str,
        data: bytes,
        exclusive: bool,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        mode = "create" if exclusive else "overwrite"
        options = self.write_options(path, parameters)
        await self.fs._pipe_file(path, data, mode=mode, **options)

    def leftovers(self, older_than: datetime.timedelta) -> Iterator[Leftover]:
        # Multipart uploads a client never completed nor aborted: their parts
        # are stored, and billed, until someone aborts them.
        cutoff = datetime.datetime.now(datetime.timezone.utc) - older_than
        root = self.key(self.mount_root)
        markers: dict[str, str] = {}
        while True:
            page = self.fs.call_s3(
                "list_multipart_uploads",
                Bucket=self.bucket,
                Prefix=f"{root}/" if root else "",
                **markers,
            )
            for upload in page.get("Uploads", []):
                started = as_utc(upload["Initiated"])
                if started < cutoff:
                    name = self.relative_name(f"{self.bucket}/{upload['Key']}")
                    handle = (upload["Key"], upload["UploadId"])
                    yield Leftover("multipart upload", name, started, None, handle)
            if not page.get("IsTruncated"):
                return
            markers = {
                "KeyMarker": page["NextKeyMarker"],
                "UploadIdMarker": page["NextUploadIdMarker"],
            }

    def remove_leftover(self, leftover: Leftover) -> None:
        key, upload_id = leftover.handle
        with contextlib.suppress(FileNotFoundError):
            self.fs.call_s3(
                "abort_multipart_upload", Bucket=self.bucket, Key=key, UploadId=upload_id
            )

    def multipart_writer(
        self,
        path: str,
        overwrite: bool,
        parameters: Mapping[str, Any] | None = None,
        in_flight: int = 1,
    ) -> MultipartUpload:
        options = self.write_options(path, parameters)
        return MultipartUpload(self, path, overwrite, options, in_flight)

    def sdk_parameters(self, path: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
        options = {"ContentType": content_type(path)}
        options.update(
            {S3_FIELDS[key]: value for key, value in parameters.items() if key in S3_FIELDS}
        )
        encryption = parameters.get("encryption")
        if encryption == "AES256":
            options["ServerSideEncryption"] = "AES256"
        elif encryption:
            # Anything else names a KMS key (an id, an ARN or an alias).
            options.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=encryption)
        return options

    def can_sign(self) -> bool:
        return not self.mount.options["anon"]

    def signed_url(self, path: str, expiry: int, disposition: str | None = None) -> str:
        # botocore signs locally: no request is made.
        response = {"ResponseContentDisposition": disposition} if disposition else {}
        return self.fs.url(path, expires=expiry, **response)

    def upload_target(
        self,
        path: str,
        *,
        expiry: int,
        max_size: int,
        content_type: str,
        parameters: Mapping[str, Any],
    ) -> dict[str, Any] | None:
        if not self.can_sign():
            return None
        fields = post_fields(parameters, content_type)
        # S3 refuses a form field the policy does not name: each one is pinned
        # to its value; botocore adds the bucket and the exact key.
        conditions: list[Any] = [{field: value} for field, value in fields.items()]
        conditions.append(["content-length-range", 0, max_size])
        post = self.run_on_loop(self._presigned_post, path, fields, conditions, expiry)
        return {"method": "POST", "url": post["url"], "fields": post["fields"]}

    async def _presigned_post(
        self, path: str, fields: dict[str, str], conditions: list[Any], expiry: int
    ) -> dict[str, Any]:
        # botocore signs the policy locally: no request is made.
        await self.fs.set_session()
        client = await self.fs.get_s3(self.bucket)
        return await client.generate_presigned_post(
            Bucket=self.bucket,
            Key=self.key(path),
            Fields=fields,
            Conditions=conditions,
            ExpiresIn=expiry,
        )

    def stored_type(self, info: dict[str, Any]) -> str | None:
        return info.get("ContentType")

    def cors_rule(self, origins: list[str]) -> Any | None:
        rule = {
            "AllowedOrigins": list(origins),
            "AllowedMethods": ["POST"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag", "Location"],
            "MaxAgeSeconds": 3600,
        }
        return {"CORSRules": [rule]}

    def apply_cors(self, origins: list[str]) -> None:
        self.fs.call_s3(
            "put_bucket_cors", Bucket=self.bucket, CORSConfiguration=self.cors_rule(origins)
        )

    def public_url(self, key: str) -> str:
        options = self.mount.options
        if options["endpoint_url"]:
            return f"{options['endpoint_url'].rstrip('/')}/{self.bucket}/{quote(key)}"
        region = f".{options['region']}" if options["region"] else ""
        return f"https://{self.bucket}.s3{region}.amazonaws.com/{quote(key)}"


#: The object parameters that are fields of a browser's POST upload, by field name.
#: POST has no Content-Language field: that parameter is not stored.
POST_FIELDS = {
    "cache_control": "Cache-Control",
    "content_disposition": "Content-Disposition",
    "content_encoding": "Content-Encoding",
    "acl": "acl",
    "storage_class": "x-amz-storage-class",
}


def post_fields(parameters: Mapping[str, Any], content_type: str) -> dict[str, str]:
    """Return the form fields of a POST upload that store ``parameters``."""
    fields = {
        POST_FIELDS[key]: str(value) for key, value in parameters.items() if key in POST_FIELDS
    }
    fields["Content-Type"] = content_type
    for key, value in (parameters.get("metadata") or {}).items():
        fields[f"x-amz-meta-{key}"] = str(value)
    encryption = parameters.get("encryption")
    if encryption == "AES256":
        fields["x-amz-server-side-encryption"] = "AES256"
    elif encryption:
        fields["x-amz-server-side-encryption"] = "aws:kms"
        fields["x-amz-server-side-encryption-aws-kms-key-id"] = str(encryption)
    return fields


def _broken_stream() -> tuple[type[BaseException], ...]:
    """The errors of a body that stopped coming: s3fs retries the same ones."""
    from aiohttp import ClientError
    from botocore.exceptions import ResponseStreamingError
    from s3fs.core import S3_RETRYABLE_ERRORS

    return (*S3_RETRYABLE_ERRORS, ClientError, ResponseStreamingError, ConnectionError)


def _precondition_failed(error: OSError) -> bool:
    """Return True if s3fs's ``error`` is S3's 412 (s3fs gives 400s the same errno)."""
    answer = getattr(error.__cause__, "response", None) or {}
    code = answer.get("Error", {}).get("Code")
    status = answer.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("PreconditionFailed", "412") or status == 412


class ObjectStream:
    """One GET of an S3 object read in blocks on s3fs's loop, for ``read_chunks()``.

    A connection that breaks midway is replaced by a ranged GET from the first
    byte not received, ``If-Match`` the same ETag, up to the mount's retries.
    """

    def __init__(self, backend: S3Backend, path: str, details: Mapping[str, Any]) -> None:
        self.backend, self.path, self.details = backend, path, details
        self.body: Any = None
        self.received = 0
        self.reading: asyncio.Future[bytes] | None = None

    def prefetch(self) -> concurrent.futures.Future[bytes]:
        """Start reading the next block; the future gives it (b"" at the end)."""
        return asyncio.run_coroutine_threadsafe(self._read(), self.backend.fs.loop)

    async def _read(self) -> bytes:
        self.reading = asyncio.current_task()
        broken, attempt = _broken_stream(), 1
        while True:
            try:
                return await self._next_block()
            except broken as error:
                self._drop()
                if attempt >= self.backend.fs.retries:  # attempts, in s3fs's terms
                    reason = "the connection broke before the end of the file."
                    raise OSError(message(self.backend, self.path, reason)) from error
                attempt += 1

    async def _next_block(self) -> bytes:
        if self.body is None:
            backend = self.backend
            self.body = await backend.body_async(self.path, self.details, self.received)
        data = await aio.read_block(self.body, self.backend.block_size)
        self.received += len(data)
        return data

    async def close(self) -> None:
        """Stop the read under way, if any, and release the connection."""
        if self.reading is not None and not self.reading.done():
            self.reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reading
        self._drop()

    def _drop(self) -> None:
        if self.body is not None:
            body, self.body = self.body, None
            with contextlib.suppress(Exception):
                body.close()


class MultipartUpload:
    """A multipart upload driven by coroutines on s3fs's loop, in parts of ``block_size``.

    Up to ``in_flight`` parts are uploaded at once, which hides the round trip
    of each. Nothing is visible before CompleteMultipartUpload; any failure
    aborts the upload, so no part is left behind to be paid for.
    """

    def __init__(
        self,
        backend: S3Backend,
        path: str,
        overwrite: bool,
        options: dict[str, Any],
        in_flight: int = 1,
    ) -> None:
        self.backend, self.path, self.overwrite = backend, path, overwrite
        self.in_flight = in_flight
        #: CreateMultipartUpload's object parameters (``S3Backend.write_options()``).
        self.options = options
        self.key = backend.key(path)
        self.buffer = aio.Chunks()
        self.parts: list[dict[str, Any]] = []
        self.numbers = itertools.count(1)
        self.sending: set[asyncio.Future[None]] = set()
        self.upload_id: str | None = None
        #: Set by ``abort()``: a write still under way (fsspec's sync() does not
        #: cancel it when the waiting thread is interrupted) starts nothing more.
        self.aborted = False
        #: s3fs's block size where ``s3_options`` raise it: 10,000 parts of it
        #: are the largest object.
        self.part_size = max(backend.block_size, backend.fs.default_block_size)

    async def _s3(self, method: str, **kwargs: Any) -> dict[str, Any]:
        fs = await aio.filesystem(self.backend)
        call = fs._call_s3(method, Bucket=self.backend.bucket, Key=self.key, **kwargs)
        return await aio.on_loop(fs.loop, call)

    async def write(self, data: bytes) -> None:
        self.buffer.add(data)
        while self.buffer.size >= self.part_size:
            await self._guarded(self._send(self.buffer.take(self.part_size)))

    async def _send(self, data: bytes) -> None:
        """Start uploading ``data`` as the next part, once fewer than ``in_flight`` are out."""
        if self.aborted:
            return
        if self.upload_id is None:
            answer = await self._s3("create_multipart_upload", **self.options)
            self.upload_id = answer["UploadId"]
            if self.aborted:  # meanwhile: this upload is one abort() did not see
                await self.abort()
                return
        while len(self.sending) >= self.in_flight:
            await self._sent(asyncio.FIRST_COMPLETED)
        self.sending.add(asyncio.ensure_future(self._upload(next(self.numbers), data)))

    async def _upload(self, number: int, data: bytes) -> None:
        answer = await self._s3(
            "upload_part", UploadId=self.upload_id, PartNumber=number, Body=data
        )
        self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    async def _sent(self, when: str) -> None:
        """Wait for parts being uploaded (the first or all, by ``when``); raise any failure."""
        done, pending = await asyncio.wait(self.sending, return_when=when)
        if not self.aborted:
            self.sending = pending
        # Each failure retrieved, the first raised: asyncio logs the others otherwise.
        failures = [error for part in done if not part.cancelled() and (error := part.exception())]
        if failures:
            raise failures[0]

    async def _guarded(self, step: Awaitable[None]) -> None:
        try:
            await step
        except BaseException:
            await self.abort()
            raise

    async def close(self) -> None:
        await self._guarded(self._complete())

    async def _complete(self) -> None:
        if self.buffer.size or self.upload_id is None:
            await self._send(self.buffer.take())
        if self.sending:
            await self._sent(asyncio.ALL_COMPLETED)
        # As "xb" in s3fs: the server refuses the commit if the key was taken.
        condition = {} if self.overwrite else {"IfNoneMatch": "*"}
        parts = {"Parts": sorted(self.parts, key=lambda part: part["PartNumber"])}
        await self._s3(
            "complete_multipart_upload", UploadId=self.upload_id, MultipartUpload=parts, **condition
        )

    async def abort(self) -> None:
        self.aborted = True
        self.buffer = aio.Chunks()
        sending, self.sending = self.sending, set()
        for part in sending:
            part.cancel()
        await asyncio.gather(*sending, return_exceptions=True)
        if self.upload_id is not None:
            upload_id, self.upload_id = self.upload_id, None
            with contextlib.suppress(Exception):
                await self._s3("abort_multipart_upload", UploadId=upload_id)
