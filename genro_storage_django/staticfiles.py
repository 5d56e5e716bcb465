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

from typing import Any, ClassVar

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
    """Static files on a mount with hashed names and a manifest (``ManifestStaticFilesStorage``).

    The manifest is read on first use rather than when the storage is made:
    ``collectstatic``, which replaces it unread, and the system checks, which
    build the storage, cost no request for it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._deferring = True
        try:
            super().__init__(*args, **kwargs)
        finally:
            self._deferring = False
        # Forget the placeholders that ManifestFilesMixin.__init__ stored.
        self.__dict__.pop("_hashed_files", None)
        self.__dict__.pop("_manifest_hash", None)

    # django-stubs types load_manifest() as a dict and read_manifest() as never None.
    def load_manifest(self) -> Any:
        if self._deferring:
            return {}, ""
        return super().load_manifest()

    def read_manifest(self) -> str | None:  # type: ignore[override]
        if self.manifest_storage is not self:
            return super().read_manifest()
        try:
            # One GET: opening the file would first ask for its size (a HEAD).
            return self.backend.read(self._path(self.manifest_name)).decode()
        except FileNotFoundError:
            return None

    @property
    def hashed_files(self) -> dict[str, str]:
        if "_hashed_files" not in self.__dict__:
            self._load()
        return self.__dict__["_hashed_files"]

    @hashed_files.setter
    def hashed_files(self, value: dict[str, str]) -> None:
        self.__dict__["_hashed_files"] = value

    @property
    def manifest_hash(self) -> str:
        if "_manifest_hash" not in self.__dict__:
            self._load()
        return self.__dict__["_manifest_hash"]

    @manifest_hash.setter
    def manifest_hash(self, value: str) -> None:
        self.__dict__["_manifest_hash"] = value

    def _load(self) -> None:
        hashed_files, manifest_hash = self.load_manifest()
        self.__dict__.setdefault("_hashed_files", hashed_files)
        self.__dict__.setdefault("_manifest_hash", manifest_hash)
