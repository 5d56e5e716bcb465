"""Storages for ``STORAGES["staticfiles"]`` on a mount, as ``StaticFilesStorage`` is on a disk.

::

    STORAGES = {
        "staticfiles": {
            "BACKEND": "genro_storage_django.staticfiles.MountManifestStaticStorage",
            "OPTIONS": {"mount": "static"},
        },
    }

Both give unsigned URLs: a signature would end up inside every hashed CSS file
and change its hash with every run. Both replace a file of the same name in
place, as ``collectstatic`` expects.
"""

from __future__ import annotations

from typing import ClassVar

from django.contrib.staticfiles.storage import ManifestFilesMixin

from genro_storage_django.storage import MountStorage


class MountStaticStorage(MountStorage):
    """Static files on a mount, with unsigned URLs."""

    signed_urls: ClassVar[bool] = False

    @property
    def file_overwrite(self) -> bool:
        return True


# django-stubs types HashedFilesMixin.url(name, force) apart from Storage.url(name).
class MountManifestStaticStorage(ManifestFilesMixin, MountStaticStorage):  # type: ignore[misc]
    """Static files on a mount with hashed names and a manifest (``ManifestStaticFilesStorage``)."""
