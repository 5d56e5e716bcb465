"""``gcs`` mounts: a Google Cloud Storage bucket, through gcsfs."""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import io
import json
import types
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables

from genro_storage_django.backends import checked
from genro_storage_django.backends.base import NETWORK_OPTIONS, Digest, as_utc, client_timeout
from genro_storage_django.backends.objectstore import OBJECT_STORE_OPTIONS, stored
from genro_storage_django.backends.paged import ListPage, PagedObjectStoreBackend
from genro_storage_django.content_types import content_type
from genro_storage_django.schema import Option

if TYPE_CHECKING:
    from gcsfs import GCSFileSystem

PUBLIC_ENDPOINT = "https://storage.googleapis.com"
# Values of gcsfs's ``token`` that name a way to find credentials, not a key.
GCSFS_METHODS = ("anon", "google_default", "cache", "cloud", "browser")
#: The object parameters that are fields of the JSON API's object resource.
RESOURCE_FIELDS = {
    "cache_control": "cacheControl",
    "content_disposition": "contentDisposition",
    "content_encoding": "contentEncoding",
    "content_language": "contentLanguage",
    "content_type": "contentType",
    "metadata": "metadata",
    "storage_class": "storageClass",
}
PREDEFINED_ACLS = (
    "authenticatedRead",
    "bucketOwnerFullControl",
    "bucketOwnerRead",
    "private",
    "projectPrivate",
    "publicRead",
)
STORAGE_CLASSES = ("STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE")


class GCSBackend(PagedObjectStoreBackend):
    type_name = "gcs"
    requires = ("gcsfs",)
    options = {
        "bucket": Option((str,), required=True),
        "token": Option((str,), secret=True),
        "project": Option((str,)),
        "endpoint_url": Option((str,)),
        **OBJECT_STORE_OPTIONS,
        **NETWORK_OPTIONS,
    }

    parameter_choices = {"acl": PREDEFINED_ACLS, "storage_class": STORAGE_CLASSES}

    # Django's error pages and mails show a frame's locals: hide the token.
    @method_decorator(sensitive_variables())
    def create_filesystem(self) -> GCSFileSystem:
        from gcsfs import GCSFileSystem

        options = self.mount.options
        try:
            fs = GCSFileSystem(
                token=options["token"],
                project=options["project"],
                endpoint_url=options["endpoint_url"],
                # Another process may change the bucket at any time: never
                # answer from a listing made earlier.
                use_listings_cache=False,
                skip_instance_cache=True,
                requests_timeout=client_timeout(options),
                # A file keeps its stored bytes when read, as on s3: a gzip
                # Content-Encoding is the reader's to undo (GCS's decompressive
                # transcoding would give other bytes than the size says).
                session_kwargs={"auto_decompress": False},
            )
        except Exception as error:
            # gcsfs takes a token that is not a file for an access token and
            # checks it with Google: its errors quote the token. Drop them.
            raise PermissionError(
                f"Mount {self.mount.name!r}: the GCS credentials ('token') could not be "
                f"loaded ({type(error).__name__})."
            ) from None
        _bound_retries(fs, options["retries"] + 1)
        return fs

    async def first_key_async(self, prefix: str) -> str | None:
        response = await self.fs._call(
            "GET", "b/{}/o", self.bucket, json_out=True, prefix=prefix, maxResults=1
        )
        items = response.get("items") or [{}]
        return items[0].get("name")

    async def list_page_async(
        self, prefix: str, delimiter: str, limit: int, token: str | None
    ) -> ListPage:
        # gcsfs lists whole folders only: one objects list request through its
        # own request method (credentials, retries, errors), each object's
        # details made as its listings make them (_process_object).
        response = await self.fs._call(
            "GET",
            "b/{}/o",
            self.bucket,
            json_out=True,
            prefix=prefix or None,
            delimiter=delimiter or None,
            maxResults=limit,
            pageToken=token,
        )
        items = response.get("items") or []
        folders = response.get("prefixes") or []
        token = response.get("nextPageToken")
        if token and len(items) + len(folders) > limit:
            # GCS counts objects and folders in one run of keys. fake-gcs-server
            # counts the objects only and sends with every page the folders from
            # its start to the end of the listing; its token is the next page's
            # first key, from where it sends them again.
            folders = [folder for folder in folders if folder < token]
        objects = [(item["name"], self.fs._process_object(self.bucket, item)) for item in items]
        return ListPage(objects, folders, token)

    async def info_async(self, path: str) -> dict[str, Any]:
        # One object GET; gcsfs would list the prefix at the same time.
        return dict(await self.fs._get_object(path))

    async def pipe_async(
        self,
        path: str,
        data: bytes,
        exclusive: bool,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        # gcsfs's own uploads send neither the ACL nor the storage class: the
        # JSON API's multipart upload, with every parameter in one request.
        upload = self.write_options(path, parameters)
        # GCS computes the MD5 of the body it received and refuses the upload
        # (HTTP 400) if it differs: a body corrupted on the way is not stored.
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        resource = {"name": self.key(path), **upload["resource"], "md5Hash": md5}
        body = b"".join(
            (
                b"--==0==\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n",
                json.dumps(resource).encode(),
                f"\r\n--==0==\r\nContent-Type: {resource['contentType']}\r\n\r\n".encode(),
                data,
                b"\r\n--==0==--",
            )
        )
        await self.fs._call(
            "POST",
            f"{self.fs._location}/upload/storage/v1/b/{quote(self.bucket)}/o",
            uploadType="multipart",
            headers={"Content-Type": 'multipart/related; boundary="==0=="'},
            data=body,
            json_out=True,
            **upload["query"],
            **({"ifGenerationMatch": "0"} if exclusive else {}),
        )

    def open(self, path: str, mode: str, parameters: Mapping[str, Any] | None = None) -> IO[Any]:
        if not any(flag in mode for flag in "wax"):
            return super().open(path, mode)
        if "b" not in mode:
            # As fsspec opens text files: a binary one, wrapped.
            binary = self.open(path, mode.replace("t", "") + "b", parameters)
            return io.TextIOWrapper(binary, encoding="utf-8")
        upload_file = _upload_file_class()
        return upload_file(self, path, mode, self.object_parameters(path, parameters))

    def created_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        created = info.get("ctime")
        return as_utc(created) if isinstance(created, datetime.datetime) else None

    def modified_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        modified = info.get("mtime")
        return as_utc(modified) if isinstance(modified, datetime.datetime) else None

    def stored_parameters(self, path: str) -> dict[str, Any]:
        # The object's resource holds them all but its ACL (a separate list).
        resource = self.fs.info(path)
        parameters = stored(RESOURCE_FIELDS, resource)
        if resource.get("kmsKeyName"):
            parameters["encryption"] = resource["kmsKeyName"]
        return parameters

    def checksums(self, info: dict[str, Any]) -> dict[str, str]:
        # Base64 in the API; composite objects have none.
        md5 = info.get("md5Hash")
        return {"md5": base64.b64decode(md5).hex()} if md5 else {}

    def expected_digest(self, info: dict[str, Any]) -> Digest | None:
        return _digest(info.get("md5Hash"), info.get("crc32c"))

    def read(self, path: str) -> bytes:
        return self.run_on_loop(self.read_async, path)

    async def read_async(self, path: str) -> bytes:
        # One GET, checked against the hashes GCS sends with the body
        # (X-Goog-Hash, one header per algorithm or one with both).
        headers, data = await self.fs._call("GET", self.fs.url(path))
        found = dict(
            part.strip().split("=", 1)
            for value in headers.getall("X-Goog-Hash", ())
            for part in value.split(",")
            if "=" in part
        )
        checked.verify(self, path, data, _digest(found.get("md5"), found.get("crc32c")))
        return bytes(data)

    def describe_error(self, error: Exception) -> tuple[type[OSError], str] | None:
        from gcsfs.retry import HttpError
        from google.auth.exceptions import GoogleAuthError

        if isinstance(error, GoogleAuthError):
            return PermissionError, "the Google credentials could not be loaded or refreshed."
        if isinstance(error, HttpError):
            status = error.code
            error_class = {401: PermissionError, 403: PermissionError, 404: FileNotFoundError}
            return error_class.get(status, OSError), f"GCS answered HTTP {status}."
        return None

    def sdk_parameters(self, path: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
        resource = {"contentType": content_type(path)}
        resource.update(
            {
                RESOURCE_FIELDS[key]: value
                for key, value in parameters.items()
                if key in RESOURCE_FIELDS
            }
        )
        query = {}
        if parameters.get("acl"):
            query["predefinedAcl"] = parameters["acl"]
        if parameters.get("encryption"):
            query["kmsKeyName"] = parameters["encryption"]
        return {"resource": resource, "query": query}

    def credentials_sign(self) -> bool:
        # Loading default credentials may ask a metadata server: judge from the
        # setting, where only a service-account key (a file or a dict) signs.
        return self.mount.options["token"] not in (*GCSFS_METHODS, None)

    def can_sign(self) -> bool:
        from google.auth.credentials import Signing

        return isinstance(self.fs.credentials.credentials, Signing)

    def signed_url(self, path: str, expiry: int, disposition: str | None = None) -> str:
        # The service account key signs locally: no request is made.
        response = {"response_disposition": disposition} if disposition else {}
        return self.fs.sign(path, expiration=expiry, version="v4", **response)

    def upload_target(
        self,
        path: str,
        *,
        expiry: int,
        max_size: int,
        content_type: str,
        parameters: Mapping[str, Any],
    ) -> dict[str, Any] | None:
        if not (self.credentials_sign() and self.can_sign()):
            return None
        headers = upload_headers(parameters)
        # Signed headers: GCS refuses the PUT unless the browser sends each
        # with this value, and a body outside the length range.
        headers["x-goog-content-length-range"] = f"0,{max_size}"
        if not (self.mount.file_overwrite and self.mount.can_delete):
            headers["x-goog-if-generation-match"] = "0"  # only if no object is there
        url = self.fs.sign(
            path,
            expiration=expiry,
            version="v4",
            method="PUT",
            content_type=content_type,
            headers=dict(headers),  # google-cloud-storage adds Host to the dict it gets
        )
        return {"method": "PUT", "url": url, "headers": {"Content-Type": content_type, **headers}}

    def stored_type(self, info: dict[str, Any]) -> str | None:
        return info.get("contentType")

    def cors_rule(self, origins: list[str]) -> Any | None:
        # No wildcard: every request header an upload may send, by name.
        metadata = [f"x-goog-meta-{key}" for key in metadata_keys(self.mount.object_parameters)]
        rule = {
            "origin": list(origins),
            "method": ["PUT"],
            "responseHeader": [*UPLOAD_HEADERS.values(), *FIXED_HEADERS, *metadata],
            "maxAgeSeconds": 3600,
        }
        return {"cors": [rule]}

    def apply_cors(self, origins: list[str]) -> None:
        self.run_on_loop(
            self.fs._call, "PATCH", "b/{}", self.bucket, json=self.cors_rule(origins), json_out=True
        )

    def public_url(self, key: str) -> str:
        endpoint = self.mount.options["endpoint_url"]
        if endpoint:
            # Emulators and private endpoints serve the JSON API's download
            # form only, not the bucket/key paths of storage.googleapis.com.
            return (
                f"{endpoint.rstrip('/')}/download/storage/v1/b/{self.bucket}"
                f"/o/{quote(key, safe='')}?alt=media"
            )
        return f"{PUBLIC_ENDPOINT}/{self.bucket}/{quote(key)}"


#: The object parameters a signed PUT carries as headers (XML API names).
UPLOAD_HEADERS = {
    "cache_control": "Cache-Control",
    "content_disposition": "Content-Disposition",
    "content_encoding": "Content-Encoding",
    "content_language": "Content-Language",
    "acl": "x-goog-acl",
    "storage_class": "x-goog-storage-class",
    "encryption": "x-goog-encryption-kms-key-name",
}
#: The headers of every signed PUT besides the parameters'.
FIXED_HEADERS = ("Content-Type", "x-goog-content-length-range", "x-goog-if-generation-match")
#: The XML API's canned ACLs, by the JSON API's predefined ACL names (the settings').
XML_ACLS = {
    "authenticatedRead": "authenticated-read",
    "bucketOwnerFullControl": "bucket-owner-full-control",
    "bucketOwnerRead": "bucket-owner-read",
    "private": "private",
    "projectPrivate": "project-private",
    "publicRead": "public-read",
}


def upload_headers(parameters: Mapping[str, Any]) -> dict[str, str]:
    """Return the headers of a signed PUT that store the object ``parameters``."""
    headers = {
        UPLOAD_HEADERS[key]: str(value)
        for key, value in parameters.items()
        if key in UPLOAD_HEADERS
    }
    if "acl" in parameters:
        headers["x-goog-acl"] = XML_ACLS.get(parameters["acl"], parameters["acl"])
    for key, value in (parameters.get("metadata") or {}).items():
        headers[f"x-goog-meta-{key}"] = str(value)
    return headers


def metadata_keys(value: Any) -> list[str]:
    """Return the metadata keys that a mount's ``object_parameters`` setting names.

    A callable's are unknown until called: they need a CORS rule of your own.
    """
    from genro_storage_django.object_parameters import is_pattern_map

    if not isinstance(value, Mapping):
        return []
    groups = value.values() if is_pattern_map(value) else [value]
    return sorted({key for group in groups for key in (group.get("metadata") or {})})


def _digest(md5: str | None, crc32c: str | None) -> Digest | None:
    """Return the digest of GCS's base64 hashes: the MD5, else (composite objects) the CRC32C."""
    if md5:
        return Digest("md5", base64.b64decode(md5))
    if crc32c:
        return Digest("crc32c", base64.b64decode(crc32c))
    return None


def _bound_retries(fs: GCSFileSystem, attempts: int) -> None:
    """Make ``fs`` send each request at most ``attempts`` times."""
    from gcsfs.retry import retry_request

    # gcsfs decorates _request with retry_request(retries=6), 6 attempts with
    # back-off (1 + 2 + 4 + 8 + 16 s), and takes no count: the undecorated
    # function, decorated again for this filesystem only (gcsfs's class and
    # its other instances keep theirs).
    undecorated = getattr(type(fs)._request, "__wrapped__", None)
    if undecorated is not None:
        request = retry_request(undecorated, retries=attempts)
        fs._request = types.MethodType(request, fs)


class _FinalHash:
    """A gcsfs filesystem whose resumable upload's last request carries ``md5``, of
    every byte written (``X-Goog-Hash``): GCS refuses to finish an upload whose
    bytes have another MD5, so a chunk corrupted on the way stores nothing.
    """

    def __init__(self, fs: GCSFileSystem, md5: Any) -> None:
        self._fs, self._md5 = fs, md5

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fs, name)

    def call(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", None) or {})
        # The last chunk (or the empty request that ends an upload) states the
        # total size: "bytes 0-99/100", "bytes */100"; the others end in "/*".
        if headers.get("Content-Range", "/*")[-2:] != "/*":
            digest = base64.b64encode(self._md5.digest()).decode()
            headers["X-Goog-Hash"] = f"md5={digest}"
        return self._fs.call(method, path, *args, headers=headers, **kwargs)


@functools.cache
def _upload_file_class() -> type:
    from fsspec.asyn import sync
    from gcsfs.core import GCSFile

    class UploadFile(GCSFile):
        """A gcsfs file whose uploads carry the object parameters gcsfs does not send,
        and a checksum of the whole object."""

        def __init__(
            self, backend: GCSBackend, path: str, mode: str, parameters: dict[str, Any]
        ) -> None:
            self.backend, self.parameters = backend, parameters
            self.upload = backend.sdk_parameters(path, parameters)
            content = self.upload["resource"]["contentType"]
            block_size = backend.fs.default_block_size
            super().__init__(backend.fs, path, mode, block_size, content_type=content)
            self.md5 = hashlib.md5(usedforsecurity=False)
            self.gcsfs = _FinalHash(backend.fs, self.md5)

        def write(self, data: Any) -> int:
            self.md5.update(data)
            return int(super().write(data))

        def flush(self, force: bool = False) -> None:
            done = self.forced  # type: ignore[has-type]
            started = self.offset is not None  # type: ignore[has-type]
            if force and not started and not self.closed and not done:
                # All of it fits in one block: one multipart upload, where a
                # resumable one would take two requests.
                self.forced = True
                self._simple_upload()
                buffer: io.BytesIO = self.buffer  # type: ignore[has-type]
                self.offset = buffer.seek(0, 2)
                self.buffer = io.BytesIO()
                return
            super().flush(force)

        def _initiate_upload(self) -> None:
            exclusive = {"ifGenerationMatch": "0"} if "x" in self.mode else {}
            headers, _ = sync(
                self.gcsfs.loop,
                self.gcsfs._call,
                "POST",
                f"{self.gcsfs._location}/upload/storage/v1/b/{quote(self.bucket)}/o",
                uploadType="resumable",
                json={"name": self.key, **self.upload["resource"]},
                headers={"X-Upload-Content-Type": self.content_type},
                **self.upload["query"],
                **exclusive,
            )
            self.location = headers["Location"]

        def _simple_upload(self) -> None:
            self.buffer.seek(0)
            exclusive = "x" in self.mode
            data = self.buffer.read()
            sync(
                self.gcsfs.loop,
                self.backend.pipe_async,
                self.path,
                data,
                exclusive,
                self.parameters,
            )

    return UploadFile
