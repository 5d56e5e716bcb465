"""Every field uses the "thirdparty" mount; each test defines it with ``override_settings``.

``get_storage()`` runs once, at import: the storage reads the mount's settings
when it is used, so the same field follows every redefinition of the mount.

django-cleanup (installed last in ``tests/settings.py``) deletes the files of
deleted instances and replaced files once the transaction commits, for every
model except ``KeptDocument``, which opts out with django-cleanup's own
``cleanup.ignore`` decorator: its files stay, as with Django alone.
"""

from django.db import models
from django_cleanup import cleanup

from genro_storage_django import get_storage
from genro_storage_django.storage import storage_class


def thirdparty_storage():
    """The storage of the "thirdparty" mount, given to a field as a callable."""
    return get_storage("thirdparty")


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


class Portrait(models.Model):
    """Two image fields, each with its own width and height fields."""

    front = models.ImageField(
        storage=get_storage("thirdparty"),
        upload_to="portraits/",
        width_field="front_width",
        height_field="front_height",
        blank=True,
    )
    front_width = models.PositiveIntegerField(null=True, blank=True)
    front_height = models.PositiveIntegerField(null=True, blank=True)
    side = models.ImageField(
        storage=get_storage("thirdparty"),
        upload_to="portraits/",
        width_field="side_width",
        height_field="side_height",
        blank=True,
    )
    side_width = models.PositiveIntegerField(null=True, blank=True)
    side_height = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.front.name} {self.side.name}"


class Document(models.Model):
    file = models.FileField(storage=get_storage("thirdparty"), upload_to="documents/")

    def __str__(self) -> str:
        return self.file.name


@cleanup.ignore
class KeptDocument(models.Model):
    """A document whose files django-cleanup leaves alone."""

    file = models.FileField(storage=get_storage("thirdparty"), upload_to="kept/", blank=True)

    def __str__(self) -> str:
        return self.file.name


class Letterhead(models.Model):
    """A file field with a default name (django-cleanup never deletes a default)."""

    file = models.FileField(
        storage=get_storage("thirdparty"),
        upload_to="letterheads/",
        default="letterheads/default.txt",
    )

    def __str__(self) -> str:
        return self.file.name


class Dossier(models.Model):
    """Storages given as callables: a function, and the mount's own class."""

    by_function = models.FileField(storage=thirdparty_storage, upload_to="dossiers/", blank=True)
    by_class = models.FileField(
        storage=storage_class("thirdparty"), upload_to="dossiers/", blank=True
    )

    def __str__(self) -> str:
        return f"{self.by_function.name} {self.by_class.name}"
