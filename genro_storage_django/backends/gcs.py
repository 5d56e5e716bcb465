"""``gcs`` mounts: a Google Cloud Storage bucket, through gcsfs."""

from __future__ import annotations

import base64
import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables

from genro_storage_django.backends.base import TIMEOUT_OPTIONS, as_utc, client_timeout
from genro_storage_django.backends.objectstore import (
    OBJECT_STORE_OPTIONS,
    ObjectStoreBackend,
)
from genro_storage_django.content_types import content_type
from genro_storage_django.schema import Option

if TYPE_CHECKING:
    from gcsfs import GCSFileSystem

PUBLIC_ENDPOINT = "https://storage.googleapis.com"
# Values of gcsfs's ``token`` that name a way to find credentials, not a key.
GCSFS_METHODS = ("anon", "google_default", "cache", "cloud", "browser")


class GCSBackend(ObjectStoreBackend):
    type_name = "gcs"
    requires = ("gcsfs",)
    options = {
        "bucket": Option((str,), required=True),
        "token": Option((str,), secret=True),
        "project": Option((str,)),
        "endpoint_url": Option((str,)),
        **OBJECT_STORE_OPTIONS,
        # gcsfs retries failed requests itself (up to 6 times, with back-off):
        # the timeouts bound each attempt, and there is no retries option.
        **TIMEOUT_OPTIONS,
    }

    # Django's error pages and mails show a frame's locals: hide the token.
    @method_decorator(sensitive_variables())
    def create_filesystem(self) -> GCSFileSystem:
        from gcsfs import GCSFileSystem

        options = self.mount.options
        try:
            return GCSFileSystem(
                token=options["token"],
                project=options["project"],
                endpoint_url=options["endpoint_url"],
                # Another process may change the bucket at any time: never
                # answer from a listing made earlier.
                use_listings_cache=False,
                skip_instance_cache=True,
                requests_timeout=client_timeout(options),
            )
        except Exception as error:
            # gcsfs takes a token that is not a file for an access token and
            # checks it with Google: its errors quote the token. Drop them.
            raise PermissionError(
                f"Mount {self.mount.name!r}: the GCS credentials ('token') could not be "
                f"loaded ({type(error).__name__})."
            ) from None

    async def first_key_async(self, prefix: str) -> str | None:
        response = await self.fs._call(
            "GET", "b/{}/o", self.bucket, json_out=True, prefix=prefix, maxResults=1
        )
        items = response.get("items") or [{}]
        return items[0].get("name")

    async def info_async(self, path: str) -> dict[str, Any]:
        # One object GET; gcsfs would list the prefix at the same time.
        return dict(await self.fs._get_object(path))

    async def pipe_async(self, path: str, data: bytes, exclusive: bool) -> None:
        mode = "create" if exclusive else "overwrite"
        await self.fs._pipe_file(path, data, mode=mode, **self.write_options(path))

    def created_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        created = info.get("ctime")
        return as_utc(created) if isinstance(created, datetime.datetime) else None

    def modified_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        modified = info.get("mtime")
        return as_utc(modified) if isinstance(modified, datetime.datetime) else None

    def checksums(self, info: dict[str, Any]) -> dict[str, str]:
        # Base64 in the API; composite objects have none.
        md5 = info.get("md5Hash")
        return {"md5": base64.b64decode(md5).hex()} if md5 else {}

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

    def write_options(self, path: str) -> dict[str, Any]:
        return {"content_type": content_type(path)}

    def credentials_sign(self) -> bool:
        # Loading default credentials may ask a metadata server: judge from the
        # setting, where only a service-account key (a file or a dict) signs.
        return self.mount.options["token"] not in (*GCSFS_METHODS, None)

    def can_sign(self) -> bool:
        from google.auth.credentials import Signing

        return isinstance(self.fs.credentials.credentials, Signing)

    def signed_url(self, path: str, expiry: int) -> str:
        # The service account key signs locally: no request is made.
        return self.fs.sign(path, expiration=expiry, version="v4")

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
