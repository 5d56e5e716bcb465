"""Both fields use the "thirdparty" mount; each test defines it with ``override_settings``.

``get_storage()`` runs once, at import: the storage reads the mount's settings
when it is used, so the same field follows every redefinition of the mount.
"""

from django.db import models

from genro_storage_django import get_storage


class Photo(models.Model):
    image = models.ImageField(
        storage=get_storage("thirdparty"),
        upload_to="photos/",
        width_field="width",
        height_field="height",
    )
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return self.image.name


class Document(models.Model):
    file = models.FileField(storage=get_storage("thirdparty"), upload_to="documents/")

    def __str__(self) -> str:
        return self.file.name
