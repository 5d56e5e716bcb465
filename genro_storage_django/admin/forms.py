"""Forms of the admin browser. Names are checked by the storage, not here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that accepts several files and cleans to a list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = [item for item in (data if isinstance(data, (list, tuple)) else [data]) if item]
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class UploadForm(forms.Form):
    # The metaclass moves declared fields off the class: Form.files is untouched.
    files = MultipleFileField(label=_("Files"))  # type: ignore[assignment]


class FolderForm(forms.Form):
    name = forms.CharField(label=_("New folder"), max_length=255, strip=True)


class RenameForm(forms.Form):
    new_name = forms.CharField(
        label=_("New name"),
        max_length=1024,
        strip=True,
        help_text=_("A path inside this mount: change the folders to move it."),
    )
