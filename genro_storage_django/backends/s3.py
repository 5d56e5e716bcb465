"""``s3`` mounts: an Amazon S3 bucket or an S3-compatible server, through s3fs."""

from __future__ import annotations

from genro_storage_django.backends.base import Backend, Option


class S3Backend(Backend):
    type_name = "s3"
    extra = "s3"
    requires = ("s3fs",)
    options = {
        "bucket": Option((str,), required=True),
        "prefix": Option((str,), default=""),
        "region": Option((str,)),
        "anon": Option((bool,), default=False),
        "endpoint_url": Option((str,)),
        "key": Option((str,), secret=True),
        "secret": Option((str,), secret=True),
        "token": Option((str,), secret=True),
        "s3_options": Option((dict,), default=None, secret=True),
        "url_expiry": Option((int,), default=3600),
        "querystring_auth": Option((bool,), default=True),
        "custom_domain": Option((str,)),
    }
