"""Backend adapters: one small class per mount type, mapping settings to an fsspec filesystem."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from genro_storage_django.backends.base import Backend

# Mount type -> adapter class. Like fsspec's ``known_implementations``, the
# adapters are imported only when a mount of that type is used or checked.
BACKENDS: dict[str, str] = {
    "local": "genro_storage_django.backends.local.LocalBackend",
    "memory": "genro_storage_django.backends.memory.MemoryBackend",
    "s3": "genro_storage_django.backends.s3.S3Backend",
    "gcs": "genro_storage_django.backends.gcs.GCSBackend",
    "azure": "genro_storage_django.backends.azure.AzureBackend",
    "http": "genro_storage_django.backends.http.HTTPBackend",
    "sftp": "genro_storage_django.backends.sftp.SFTPBackend",
    "ftp": "genro_storage_django.backends.ftp.FTPBackend",
    "webdav": "genro_storage_django.backends.webdav.WebDAVBackend",
    "zip": "genro_storage_django.backends.archive.ZipBackend",
    "tar": "genro_storage_django.backends.archive.TarBackend",
}


def backend_class(mount_type: str) -> type[Backend]:
    """Return the adapter class for ``mount_type``; ``KeyError`` if the type is unknown."""
    return import_string(BACKENDS[mount_type])
