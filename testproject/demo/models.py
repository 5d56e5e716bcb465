from django.db import models

from genro_storage_django import get_storage


def scratch_storage():
    """A callable storage: resolved when the field is used, not when it is declared."""
    return get_storage("scratch")


class Document(models.Model):
    title = models.CharField(max_length=200)
    file = models.FileField(storage=get_storage("media"), upload_to="documents/%Y/")
    attachment = models.FileField(storage=scratch_storage, upload_to="attachments/", blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.title
