"""A table-less model: the admin browser's entry on the index and its permissions."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StorageMount(models.Model):
    """Stands for the mounts of ``STORAGE_MOUNTS`` in the admin; it has no table."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("mount")
        verbose_name_plural = _("mounts")
        # Stored in the database as they are: plain strings, not translated.
        permissions = [
            ("view_files", "Can browse and download files"),
            ("add_files", "Can upload files and create folders"),
            ("change_files", "Can rename and move files and folders"),
            ("delete_files", "Can delete files and folders"),
            ("switch_tenant", "Can browse the files of any tenant"),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
