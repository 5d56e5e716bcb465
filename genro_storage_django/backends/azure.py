"""``azure`` mounts: an Azure Blob Storage container, through adlfs."""

from __future__ import annotations

from genro_storage_django.backends.base import Backend, Option


class AzureBackend(Backend):
    type_name = "azure"
    extra = "azure"
    requires = ("adlfs",)
    options = {
        "container": Option((str,), required=True),
        "account_name": Option((str,), required=True),
        "account_key": Option((str,), secret=True),
        "connection_string": Option((str,), secret=True),
        "sas_token": Option((str,), secret=True),
        "anon": Option((bool,), default=False),
        "prefix": Option((str,), default=""),
        "url_expiry": Option((int,), default=3600),
        "querystring_auth": Option((bool,), default=True),
        "custom_domain": Option((str,)),
    }
