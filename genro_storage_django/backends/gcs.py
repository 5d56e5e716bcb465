"""``gcs`` mounts: a Google Cloud Storage bucket, through gcsfs."""

from __future__ import annotations

from genro_storage_django.backends.base import Backend, Option


class GCSBackend(Backend):
    type_name = "gcs"
    extra = "gcs"
    requires = ("gcsfs",)
    options = {
        "bucket": Option((str,), required=True),
        "prefix": Option((str,), default=""),
        "token": Option((str,), secret=True),
        "project": Option((str,)),
        "endpoint_url": Option((str,)),
        "url_expiry": Option((int,), default=3600),
        "querystring_auth": Option((bool,), default=True),
        "custom_domain": Option((str,)),
    }
