"""``http`` mounts: files published by a web server, read-only."""

from __future__ import annotations

from genro_storage_django.backends.base import Backend, Option


class HTTPBackend(Backend):
    type_name = "http"
    extra = "http"
    requires = ("aiohttp",)
    read_only = True
    options = {"base_url": Option((str,), required=True)}
