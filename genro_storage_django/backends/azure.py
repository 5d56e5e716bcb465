"""``azure`` mounts: an Azure Blob Storage container, through adlfs."""

from __future__ import annotations

import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from genro_storage_django.backends.base import as_utc
from genro_storage_django.backends.objectstore import (
    OBJECT_STORE_OPTIONS,
    ObjectStoreBackend,
)
from genro_storage_django.content_types import content_type
from genro_storage_django.schema import Option, Problem

if TYPE_CHECKING:
    from adlfs import AzureBlobFileSystem


class AzureBackend(ObjectStoreBackend):
    type_name = "azure"
    requires = ("adlfs",)
    bucket_option = "container"
    version_marker = "?versionid="
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
    }

    @classmethod
    def validate(cls, mount_name: str, options: dict[str, Any]) -> list[Problem]:
        problems = super().validate(mount_name, options)
        if not options["account_name"] and not options["connection_string"]:
            problems.append(
                Problem(
                    "E021",
                    f"Mount {mount_name!r} needs 'account_name' or 'connection_string'.",
                    hint="Set 'account_name' (with 'account_key', 'sas_token' or 'anon'), "
                    "or a 'connection_string'.",
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
        return AzureBlobFileSystem(
            **credentials,
            # Another process may change the container at any time: never
            # answer from a listing made earlier.
            use_listings_cache=False,
            skip_instance_cache=True,
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

    def first_key(self, prefix: str) -> str | None:
        return self.run_on_loop(self._first_key, prefix)

    async def _first_key(self, prefix: str) -> str | None:
        async with self.fs.service_client.get_container_client(self.bucket) as container:
            pages = container.list_blobs(name_starts_with=prefix, results_per_page=1).by_page()
            async for page in pages:
                async for blob in page:
                    return blob.name
                return None
        return None

    def modified_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        modified = info.get("last_modified")
        return as_utc(modified) if isinstance(modified, datetime.datetime) else None

    def describe_error(self, error: Exception) -> tuple[type[OSError], str] | None:
        from azure.core.exceptions import (
            AzureError,
            ClientAuthenticationError,
            HttpResponseError,
            ResourceExistsError,
            ResourceNotFoundError,
        )

        status = getattr(error, "status_code", None)
        answered = f" (HTTP {status})" if status else ""
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

    def write_options(self, path: str) -> dict[str, Any]:
        return {"content_settings": {"content_type": content_type(path)}}

    def can_sign(self) -> bool:
        from azure.core.utils import parse_connection_string

        options = self.mount.options
        if options["connection_string"]:
            return "accountkey" in parse_connection_string(options["connection_string"])
        return bool(options["account_key"])

    def signed_url(self, path: str, expiry: int) -> str:
        # A SAS made from the account key is computed locally: no request.
        return self.fs.url(path, expires=expiry)

    def public_url(self, key: str) -> str:
        return f"{self.account_url}/{self.bucket}/{quote(key)}"
