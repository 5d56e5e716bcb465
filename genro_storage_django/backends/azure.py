"""``azure`` mounts: an Azure Blob Storage container, through adlfs."""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from django.utils.translation import gettext_noop

from genro_storage_django.backends import checked
from genro_storage_django.backends.base import (
    NETWORK_OPTIONS,
    TIMED_OUT,
    Digest,
    Leftover,
    as_utc,
)
from genro_storage_django.backends.objectstore import (
    MD5_METADATA,
    OBJECT_STORE_OPTIONS,
    ObjectStoreBackend,
    stored,
)
from genro_storage_django.backends.paged import ListPage, PagedObjectStoreBackend
from genro_storage_django.content_types import content_type
from genro_storage_django.i18n import lazy_message
from genro_storage_django.object_parameters import HEADER_PARAMETERS
from genro_storage_django.schema import Option, Problem

if TYPE_CHECKING:
    from adlfs import AzureBlobFileSystem

#: The object parameters that are fields of the SDK's ``ContentSettings``.
CONTENT_SETTINGS = (
    "cache_control",
    "content_disposition",
    "content_encoding",
    "content_language",
    "content_type",
)
ACCESS_TIERS = ("Hot", "Cool", "Cold", "Archive")


class AzureBackend(PagedObjectStoreBackend):
    type_name = "azure"
    requires = ("adlfs",)
    bucket_option = "container"
    version_marker = "?versionid="
    lists_md5 = False
    find_page_size = 5000
    # Azure has no per-blob ACL: access is the container's, or a SAS.
    parameters = ObjectStoreBackend.parameters - {"acl"}
    parameter_choices = {"storage_class": ACCESS_TIERS}
    options = {
        "container": Option((str,), required=True),
        "account_name": Option((str,)),
        "account_key": Option((str,), secret=True),
        "connection_string": Option((str,), secret=True),
        "sas_token": Option((str,), secret=True),
        "anon": Option((bool,), default=False),
        # The blob service URL, for Azurite and sovereign clouds:
        # "http://127.0.0.1:10000/devstoreaccount1".
        "endpoint_url": Option((str,)),
        **OBJECT_STORE_OPTIONS,
        **NETWORK_OPTIONS,
    }

    @classmethod
    def validate(cls, mount_name: str, options: dict[str, Any]) -> list[Problem]:
        problems = super().validate(mount_name, options)
        if not options["account_name"] and not options["connection_string"]:
            problems.append(
                Problem(
                    "E021",
                    lazy_message(
                        gettext_noop(
                            "Mount %(mount)s needs 'account_name' or 'connection_string'."
                        ),
                        mount=repr(mount_name),
                    ),
                    hint=lazy_message(
                        gettext_noop(
                            "Set 'account_name' (with 'account_key', 'sas_token' or 'anon'), "
                            "or a 'connection_string'."
                        )
                    ),
                    mount=mount_name,
                )
            )
        return problems

    def create_filesystem(self) -> AzureBlobFileSystem:
        from adlfs import AzureBlobFileSystem

        options = self.mount.options
        # adlfs takes these keys under the same names.
        credentials = {
            key: options[key] for key in ("account_name", "account_key", "sas_token", "anon")
        }
        connection_string = options["connection_string"] or self._endpoint_connection_string()
        if connection_string:
            credentials = {"connection_string": connection_string}
        fs = AzureBlobFileSystem(
            **credentials,
            # Another process may change the container at any time: never
            # answer from a listing made earlier.
            use_listings_cache=False,
            skip_instance_cache=True,
            connection_timeout=options["connect_timeout"],
            read_timeout=options["read_timeout"],
        )
        fs.service_client = self._bounded(fs.service_client)
        return fs

    def _bounded(self, client: Any) -> Any:
        # adlfs passes its timeouts to some calls only, and the retries to
        # none: the same client (URL, credential) again, with them for all.
        # A read timeout is not retried: the SDK's next attempt then waits
        # far longer than read_timeout (17 s against Azurite for 1 s).
        options = self.mount.options
        return type(client)(
            account_url=client.url,
            credential=client.credential,
            connection_timeout=options["connect_timeout"],
            read_timeout=options["read_timeout"],
            retry_total=options["retries"],
            retry_connect=options["retries"],
            retry_read=0,
        )

    def _endpoint_connection_string(self) -> str | None:
        # adlfs reaches a custom blob endpoint only through a connection string.
        options = self.mount.options
        if not options["endpoint_url"]:
            return None
        parts = [f"BlobEndpoint={options['endpoint_url'].rstrip('/')}"]
        if options["account_name"]:
            parts.append(f"AccountName={options['account_name']}")
        if options["account_key"]:
            parts.append(f"AccountKey={options['account_key']}")
        elif options["sas_token"]:
            parts.append(f"SharedAccessSignature={options['sas_token'].lstrip('?')}")
        return ";".join(parts)

    @cached_property
    def account_url(self) -> str:
        """The blob service URL: the endpoint, or the account's public one."""
        from azure.core.utils import parse_connection_string

        options = self.mount.options
        if options["endpoint_url"]:
            return options["endpoint_url"].rstrip("/")
        if options["connection_string"]:
            settings = parse_connection_string(options["connection_string"])
            if settings.get("blobendpoint"):
                return settings["blobendpoint"].rstrip("/")
            suffix = settings.get("endpointsuffix", "core.windows.net")
            return f"https://{settings['accountname']}.blob.{suffix}"
        return f"https://{options['account_name']}.blob.core.windows.net"

    async def first_key_async(self, prefix: str) -> str | None:
        async with self.fs.service_client.get_container_client(self.bucket) as container:
            pages = container.list_blobs(name_starts_with=prefix, results_per_page=1).by_page()
            async for page in pages:
                async for blob in page:
                    return blob.name
                return None
        return None

    async def list_page_async(
        self, prefix: str, delimiter: str, limit: int, token: str | None
    ) -> ListPage:
        from azure.storage.blob import BlobProperties

        options: dict[str, Any] = {
            "name_starts_with": prefix or None,
            # adlfs's listings ask for it: folder markers are told by their metadata.
            "include": ["metadata"],
            "results_per_page": limit,
        }
        async with self.fs.service_client.get_container_client(self.bucket) as container:
            listing = (
                container.walk_blobs(delimiter=delimiter, **options)
                if delimiter
                else container.list_blobs(**options)
            )
            pages = listing.by_page(continuation_token=token)
            items = [item async for item in await anext(pages)]  # this page only
        blobs = [item for item in items if isinstance(item, BlobProperties)]
        folders = [item.name for item in items if not isinstance(item, BlobProperties)]
        # Each blob's details made as adlfs's listings make them (no public way).
        infos = await self.fs._details(blobs)
        objects = [(blob.name, info) for blob, info in zip(blobs, infos, strict=True)]
        return ListPage(objects, folders, pages.continuation_token)

    def leftovers(self, older_than: datetime.timedelta) -> Iterator[Leftover]:
        # Blocks staged by an upload that never committed them: a blob only
        # listings of uncommitted blobs show. Azure drops them after a week.
        cutoff = datetime.datetime.now(datetime.timezone.utc) - older_than
        for name, started in self.run_on_loop(self._uncommitted, self.key(self.mount_root)):
            if started < cutoff:
                relative = self.relative_name(f"{self.bucket}/{name}")
                yield Leftover("uncommitted blocks", relative, started, None, name)

    async def _uncommitted(self, root: str) -> list[tuple[str, datetime.datetime]]:
        prefix = f"{root}/" if root else None
        async with self.fs.service_client.get_container_client(self.bucket) as container:
            committed = {blob.name async for blob in container.list_blobs(name_starts_with=prefix)}
            listing = container.list_blobs(name_starts_with=prefix, include=["uncommittedblobs"])
            return [
                (blob.name, as_utc(blob.creation_time))
                async for blob in listing
                if blob.name not in committed
            ]

    def remove_leftover(self, leftover: Leftover) -> None:
        self.run_on_loop(self._drop_blocks, leftover.handle)

    async def _drop_blocks(self, name: str) -> None:
        from azure.core.exceptions import (
            ResourceExistsError,
            ResourceModifiedError,
            ResourceNotFoundError,
        )

        async with self.fs.service_client.get_blob_client(self.bucket, name) as blob:
            try:
                # Committing no block discards the staged ones; the empty blob
                # it leaves for an instant goes at once. The condition keeps a
                # blob committed meanwhile (a write that finished) untouched.
                await blob.commit_block_list([], if_none_match="*")
                await blob.delete_blob()
            except (ResourceNotFoundError, ResourceExistsError, ResourceModifiedError):
                pass

    async def pipe_async(
        self,
        path: str,
        data: bytes,
        exclusive: bool,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        # adlfs's pipe_file sets the metadata itself: the blob client's call.
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import ContentSettings

        options = self.write_options(path, parameters)
        options["content_settings"] = ContentSettings(**options["content_settings"])
        client = self.fs.service_client.get_blob_client(self.bucket, self.key(path))
        async with client as blob:
            try:
                await blob.upload_blob(
                    data, overwrite=not exclusive, validate_content=True, **options
                )
            except ResourceExistsError:
                raise FileExistsError(path) from None

    def open(self, path: str, mode: str, parameters: Mapping[str, Any] | None = None) -> IO[Any]:
        if not any(flag in mode for flag in "wax"):
            return super().open(path, mode)
        options = self.write_options(path, parameters)
        per_request = {key: options.pop(key) for key in REQUEST_OPTIONS if key in options}
        file = self.fs.open(path, mode, **options)
        # adlfs's file sends none of these to the blocks it stages and commits.
        per_request["validate_content"] = True
        # A text mode's file is fsspec's TextIOWrapper around the blob file.
        blob_file = file.buffer if isinstance(file, io.TextIOWrapper) else file
        # Put Block List stores no Content-MD5 of its own: the MD5 of every
        # byte written goes with it, for downloads to check (expected_digest()).
        md5 = hashlib.md5(usedforsecurity=False)
        blob_file.write = _hashing(blob_file.write, md5)
        blob_file.container_client = _Sending(blob_file.container_client, per_request, md5)
        return file

    def created_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        created = info.get("creation_time")
        return as_utc(created) if isinstance(created, datetime.datetime) else None

    def modified_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        modified = info.get("last_modified")
        return as_utc(modified) if isinstance(modified, datetime.datetime) else None

    def stored_parameters(self, path: str) -> dict[str, Any]:
        info = self.fs.info(path)
        settings = info.get("content_settings")
        found = {name: getattr(settings, name, None) for name in HEADER_PARAMETERS}
        found["metadata"] = info.get("metadata")
        return stored({name: name for name in found}, found)

    def checksums(self, info: dict[str, Any]) -> dict[str, str]:
        # Listings carry the metadata: the MD5 write_with_md5() stored, else the
        # Content-MD5 that Azure keeps for blobs put in one request.
        stored = (info.get("metadata") or {}).get(MD5_METADATA)
        if stored:
            return {"md5": stored}
        md5 = getattr(info.get("content_settings"), "content_md5", None)
        return {"md5": bytes(md5).hex()} if md5 else {}

    def expected_digest(self, info: dict[str, Any]) -> Digest | None:
        # The blob's Content-MD5: Azure's own for a Put Blob, the adapter's
        # for its commits of blocks (open()); never the metadata's, where
        # write_with_md5() keeps the source's.
        return _md5(getattr(info.get("content_settings"), "content_md5", None))

    def read(self, path: str) -> bytes:
        return self.run_on_loop(self.read_async, path)

    async def read_async(self, path: str) -> bytes:
        # One download, checked against the blob's Content-MD5 that comes with it.
        async with self.fs.service_client.get_blob_client(self.bucket, self.key(path)) as blob:
            stream = await blob.download_blob(max_concurrency=1)
            data = await stream.readall()
        settings = stream.properties.content_settings
        checked.verify(self, path, data, _md5(settings.content_md5))
        return bytes(data)

    def describe_error(self, error: Exception) -> tuple[type[OSError], str] | None:
        from azure.core.exceptions import (
            AzureError,
            ClientAuthenticationError,
            HttpResponseError,
            ResourceExistsError,
            ResourceNotFoundError,
            ServiceRequestTimeoutError,
            ServiceResponseTimeoutError,
        )

        status = getattr(error, "status_code", None)
        answered = f" (HTTP {status})" if status else ""
        if isinstance(error, (ServiceRequestTimeoutError, ServiceResponseTimeoutError)):
            return TimeoutError, TIMED_OUT
        if isinstance(error, ResourceNotFoundError):
            return FileNotFoundError, f"not found{answered}."
        if isinstance(error, ResourceExistsError):
            return FileExistsError, f"already exists{answered}."
        if isinstance(error, ClientAuthenticationError) or (
            isinstance(error, HttpResponseError) and status == 403
        ):
            return PermissionError, f"Azure refused the credentials{answered}."
        if isinstance(error, AzureError):
            return OSError, f"the Azure request failed ({type(error).__name__}{answered})."
        return None

    def sdk_parameters(self, path: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
        settings = {"content_type": content_type(path)}
        settings.update({key: parameters[key] for key in CONTENT_SETTINGS if key in parameters})
        # adlfs marks every blob it writes as a file; keep that mark.
        options: dict[str, Any] = {
            "content_settings": settings,
            "metadata": {"is_directory": "false", **parameters.get("metadata", {})},
        }
        if parameters.get("encryption"):
            options["encryption_scope"] = parameters["encryption"]
        if parameters.get("storage_class"):
            from azure.storage.blob import StandardBlobTier

            options["standard_blob_tier"] = StandardBlobTier(parameters["storage_class"])
        return options

    def can_sign(self) -> bool:
        from azure.core.utils import parse_connection_string

        options = self.mount.options
        if options["connection_string"]:
            return "accountkey" in parse_connection_string(options["connection_string"])
        return bool(options["account_key"])

    def signed_url(self, path: str, expiry: int, disposition: str | None = None) -> str:
        # A SAS made from the account key is computed locally: no request.
        response = {"content_disposition": disposition} if disposition else {}
        return self.fs.url(path, expires=expiry, **response)

    def public_url(self, key: str) -> str:
        return f"{self.account_url}/{self.bucket}/{quote(key)}"

    def upload_target(
        self,
        path: str,
        *,
        expiry: int,
        max_size: int,
        content_type: str,
        parameters: Mapping[str, Any],
    ) -> dict[str, Any] | None:
        # A SAS cannot limit the size nor the headers sent: verify() checks
        # the stored blob afterwards.
        account = self._signing_account()
        if account is None:
            return None
        key = self.key(path)
        overwrite = self.mount.file_overwrite and self.mount.can_delete
        in_blocks = max_size > BLOCKS_ABOVE
        # Create alone writes a new blob only, never over an existing one; but
        # Put Block and Put Block List need write, so a target for blocks asks
        # for a new blob with If-None-Match only (see docs/uploads.rst).
        sas = self._blob_sas(account, key, expiry, write=overwrite or in_blocks)
        headers = blob_headers(self.sdk_parameters(path, parameters), content_type)
        if not overwrite:
            headers["If-None-Match"] = "*"
        url = f"{self.account_url}/{self.bucket}/{quote(key)}?{sas}"
        target: dict[str, Any] = {"method": "PUT", "url": url, "headers": headers}
        if in_blocks:
            target["blocks"] = blocks(headers, max_size)
        return target

    def _blob_sas(self, account: tuple[str, str], key: str, expiry: int, *, write: bool) -> str:
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        return generate_blob_sas(
            account[0],
            self.bucket,
            key,
            account_key=account[1],
            permission=BlobSasPermissions(create=True, write=write),
            expiry=datetime.datetime.now(datetime.timezone.utc)
            + datetime.timedelta(seconds=expiry),
        )

    def _signing_account(self) -> tuple[str, str] | None:
        from azure.core.utils import parse_connection_string

        options = self.mount.options
        if options["connection_string"]:
            settings = parse_connection_string(options["connection_string"])
            if "accountkey" not in settings:
                return None
            return settings["accountname"], settings["accountkey"]
        if options["account_key"] and options["account_name"]:
            return options["account_name"], options["account_key"]
        return None

    def stored_type(self, info: dict[str, Any]) -> str | None:
        return getattr(info.get("content_settings"), "content_type", None)

    def cors_rule(self, origins: list[str]) -> Any | None:
        return {"Cors": [_cors_rule(origins)]}

    def apply_cors(self, origins: list[str]) -> None:
        from azure.storage.blob import CorsRule

        rule = _cors_rule(origins)
        cors = CorsRule(
            rule["AllowedOrigins"],
            rule["AllowedMethods"],
            allowed_headers=rule["AllowedHeaders"],
            exposed_headers=rule["ExposedHeaders"],
            max_age_in_seconds=rule["MaxAgeInSeconds"],
        )
        # The blob service's rules, for every container of the account.
        self.run_on_loop(self.fs.service_client.set_service_properties, cors=[cors])


def _md5(value: bytes | bytearray | str | None) -> Digest | None:
    # The SDK gives a bytearray, or the header's base64 text on a ranged download.
    if not value:
        return None
    raw = base64.b64decode(value) if isinstance(value, str) else bytes(value)
    return Digest("md5", raw)


def _cors_rule(origins: list[str]) -> dict[str, Any]:
    return {
        "AllowedOrigins": list(origins),
        "AllowedMethods": ["PUT"],
        "AllowedHeaders": ["content-type", "if-none-match", "x-ms-*"],
        "ExposedHeaders": ["etag", "x-ms-*"],
        "MaxAgeInSeconds": 3600,
    }


#: The Put Blob request headers of the ``ContentSettings`` fields.
BLOB_HEADERS = {
    "cache_control": "x-ms-blob-cache-control",
    "content_disposition": "x-ms-blob-content-disposition",
    "content_encoding": "x-ms-blob-content-encoding",
    "content_language": "x-ms-blob-content-language",
}


def blob_headers(options: Mapping[str, Any], content_type: str) -> dict[str, str]:
    """Return the headers of a Put Blob that stores ``options`` (``sdk_parameters()``)."""
    settings = options["content_settings"]
    headers = {"x-ms-blob-type": "BlockBlob", "Content-Type": content_type}
    headers.update({BLOB_HEADERS[key]: settings[key] for key in BLOB_HEADERS if key in settings})
    headers.update({f"x-ms-meta-{key}": str(value) for key, value in options["metadata"].items()})
    if options.get("encryption_scope"):
        headers["x-ms-encryption-scope"] = options["encryption_scope"]
    if options.get("standard_blob_tier"):
        headers["x-ms-access-tier"] = str(options["standard_blob_tier"].value)
    return headers


#: The largest file of one Put Blob (API versions since 2019-12-12). A target
#: for a larger ``max_size`` carries ``blocks``: a file above BLOCK_SIZE is then
#: staged in blocks of that size (a failed one is sent again alone) and
#: committed. Azure's own browser SDK stages 8 MiB blocks too.
BLOCKS_ABOVE = 5000 * 1024 * 1024
BLOCK_SIZE = 8 * 1024 * 1024
#: Azure's limits: blocks per blob, and the size of one block.
MAX_BLOCKS = 50_000
MAX_BLOCK_SIZE = 4000 * 1024 * 1024
#: The headers of a Put Blob that Put Block List takes under another name.
_COMMIT_NAMES = {"Content-Type": "x-ms-blob-content-type"}


def blocks(headers: Mapping[str, str], max_size: int) -> dict[str, Any]:
    """Return how a browser uploads, in blocks, a file that Put Blob ``headers`` would store.

    ``size``: the block size, enough for ``max_size`` in ``MAX_BLOCKS``;
    ``headers``: those of each Put Block (``&comp=block&blockid=...``);
    ``commit_headers``: those of the Put Block List (``&comp=blocklist``),
    which stores the object parameters and the condition of a new blob.
    """
    size = min(max(BLOCK_SIZE, -(-max_size // MAX_BLOCKS)), MAX_BLOCK_SIZE)
    block = {key: value for key, value in headers.items() if key == "x-ms-encryption-scope"}
    commit = {
        _COMMIT_NAMES.get(key, key): value
        for key, value in headers.items()
        if key != "x-ms-blob-type"
    }
    commit["Content-Type"] = "application/xml"
    return {"size": size, "headers": block, "commit_headers": commit}


#: The object parameters of the blob client's upload calls that adlfs's file does not send.
REQUEST_OPTIONS = ("encryption_scope", "standard_blob_tier")
#: Which keywords each call accepts. ``validate_content`` sends the MD5 of the
#: body (Content-MD5), which Azure checks: a block or blob corrupted on the
#: way is refused (HTTP 400), not stored.
_ACCEPTED = {
    "stage_block": ("encryption_scope", "validate_content"),
    "commit_block_list": REQUEST_OPTIONS,
    "upload_blob": (*REQUEST_OPTIONS, "validate_content"),
}


def _hashing(write: Any, md5: Any) -> Any:
    """Return ``write``, a file's method, adding what it writes to ``md5`` first."""

    def hashed(data: Any) -> Any:
        md5.update(data)
        return write(data)

    return hashed


class _Sending:
    """A container (or blob) client whose upload calls send ``options`` as well, and
    whose commit stores ``md5`` (of the whole blob) as its Content-MD5.
    """

    def __init__(self, client: Any, options: dict[str, Any], md5: Any = None) -> None:
        self._client, self._options, self._md5 = client, options, md5

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        accepted = _ACCEPTED.get(name)
        if accepted is None:
            return attribute
        extra = {key: value for key, value in self._options.items() if key in accepted}

        def call(*args: Any, **kwargs: Any) -> Any:
            if extra.get("validate_content") and isinstance(kwargs.get("data"), memoryview):
                # adlfs stages slices of its buffer; the SDK hashes bytes only.
                kwargs["data"] = bytes(kwargs["data"])
            settings = kwargs.get("content_settings")
            if name == "commit_block_list" and self._md5 is not None and settings is not None:
                settings.content_md5 = bytearray(self._md5.digest())
            return attribute(*args, **kwargs, **extra)

        return call

    def get_blob_client(self, *args: Any, **kwargs: Any) -> _Sending:
        blob = self._client.get_blob_client(*args, **kwargs)
        return _Sending(blob, self._options, self._md5)

    async def __aenter__(self) -> _Sending:
        await self._client.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._client.__aexit__(*exc)
