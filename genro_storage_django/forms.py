"""``DirectUploadField``: a file field whose bytes go from the browser straight to the mount.

The widget renders an ordinary file input and, for its script, a grant
(``direct_uploads.grant()``) and the URL of the ``upload_target`` endpoint.
With JavaScript, choosing a file asks the endpoint for a target, sends the
bytes there (the bucket itself, or the app's upload view on mounts that cannot
sign) with a progress bar, and puts the ticket it got into a hidden input: the
form then posts only the ticket, and ``clean()`` has ``direct_uploads.verify()``
check the object. Without JavaScript the file is posted with the form and
saved under ``upload_to`` with the same limits. Either way the cleaned value is
the file's name, so a model's ``FileField`` stores it without saving any bytes.

A form shown again because of an error elsewhere keeps the file: the widget
then carries the verified name, signed (salt ``KEPT_SALT``) for one target
lifetime, instead of the spent ticket.
"""

from __future__ import annotations

import datetime
import posixpath
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django import forms
from django.core import signing
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.db.models import Model
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from genro_storage_django import direct_uploads
from genro_storage_django.storage import MountStorage

KEPT_SALT = "genro_storage_django.forms.kept"
#: Seconds a kept upload stays valid when the field gives no ``expires_in``.
KEPT_MAX_AGE = 3600

StorageOrCallable = MountStorage | Callable[[], MountStorage]


class Ticket(str):
    """The ticket the script got for a direct upload, as posted back."""


class Kept(str):
    """A verified name, signed, posted again after the form showed an error."""

    #: The name it carries, when this process signed it (for the widget to show).
    name = ""


def prefix_of(upload_to: str, now: datetime.datetime | None = None) -> str:
    """Return the folder ``upload_to`` names today, with a trailing "/" (or "")."""
    folder = (now or datetime.datetime.now()).strftime(upload_to).strip("/")
    return f"{folder}/" if folder else ""


def fixed_prefix(upload_to: str) -> str:
    """Return the folder of ``upload_to`` that no date directive changes: what ``clean()`` checks.

    "documents/%Y/" gives "documents/": a form posted just after midnight on
    New Year's Eve still passes.
    """
    head = upload_to.split("%", 1)[0]
    return prefix_of(head.rsplit("/", 1)[0] if "%" in upload_to else head)


class DirectUploadWidget(forms.FileInput):
    """A file input, the hidden ticket input and the data its script needs.

    The script (``direct_upload.js``) finds the widget by ``data-storage-direct-upload``.
    """

    template_name = "genro_storage_django/forms/direct_upload.html"
    ticket_suffix = "_ticket"
    kept_suffix = "_kept"

    class Media:
        js = ["genro_storage_django/direct_upload.js"]

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        #: Set by ``DirectUploadField``: returns a fresh grant at each rendering.
        self.grant: Callable[[], str] | None = None

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, None if isinstance(value, str) else value, attrs)
        if isinstance(value, Kept):  # the file is chosen already: none is required
            context["widget"]["attrs"].pop("required", None)
        current = value.name if isinstance(value, FieldFile) and value else None
        context["widget"].update(
            {
                "grant": self.grant() if self.grant else "",
                "target_url": reverse("genro_storage_django:upload_target"),
                "ticket_name": name + self.ticket_suffix,
                "kept_name": name + self.kept_suffix,
                "kept": value if isinstance(value, Kept) else "",
                "kept_label": value.name if isinstance(value, Kept) else "",
                "current": current,
            }
        )
        return context

    def value_from_datadict(
        self, data: Mapping[str, Any], files: MultiValueDict[str, Any], name: str
    ) -> Any:
        ticket = data.get(name + self.ticket_suffix)
        if ticket:
            return Ticket(ticket)
        upload = files.get(name)
        if upload:
            return upload
        kept = data.get(name + self.kept_suffix)
        return Kept(kept) if kept else None

    def value_omitted_from_data(
        self, data: Mapping[str, Any], files: MultiValueDict[str, Any], name: str
    ) -> bool:
        return all(
            key not in source
            for key, source in (
                (name, files),
                (name + self.ticket_suffix, data),
                (name + self.kept_suffix, data),
            )
        )


class DirectUploadField(forms.FileField):
    """A file uploaded by the browser straight to ``storage``, under ``upload_to``.

    Parameters
    ----------
    storage : the ``MountStorage`` (or a callable returning it) that receives the file.
    upload_to : the folder, ``strftime`` directives allowed ("documents/%Y/").
    max_size : the largest file accepted, in bytes.
    content_types : the Content-Types accepted, ``image/*`` patterns allowed (None: any).
    expires_in : seconds the grant in the page is valid (by default the mount's
        ``url_expiry``); the targets asked for with it last the mount's.

    In a model form, ``for_model_field()`` takes storage and folder from the
    model's field in one line::

        class DocumentForm(forms.ModelForm):
            file = DirectUploadField.for_model_field(Document, "file", max_size=50 * 2**20)
    """

    widget = DirectUploadWidget
    default_error_messages = {
        "too_large": _("The file is larger than %(max_size)s bytes."),
        "content_type": _("Files of type %(content_type)s are not accepted."),
        "kept": _("The uploaded file expired: choose it again."),
    }

    def __init__(
        self,
        *,
        storage: StorageOrCallable,
        upload_to: str = "",
        max_size: int,
        content_types: Sequence[str] | None = None,
        expires_in: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._storage = storage
        self.upload_to = upload_to
        self.max_size = max_size
        self.content_types = list(content_types) if content_types is not None else None
        self.expires_in = expires_in
        # Each posted value (ticket, kept name or upload) -> the name it gave.
        self._kept: dict[Any, str] = {}
        self.widget.grant = self.grant
        if self.content_types and "accept" not in self.widget.attrs:
            self.widget.attrs["accept"] = ",".join(self.content_types)

    def __deepcopy__(self, memo: dict[int, Any]) -> DirectUploadField:
        result = super().__deepcopy__(memo)
        result._kept = {}
        result.widget.grant = result.grant
        return result

    @classmethod
    def for_model_field(
        cls, model: type[Model], field_name: str, **kwargs: Any
    ) -> DirectUploadField:
        """Return the field for ``model``'s ``FileField`` ``field_name``.

        Storage, folder (when ``upload_to`` is a string), label, help text,
        ``required`` and ``max_length`` come from the model field; ``kwargs``
        (``max_size`` at least) add to or replace them. A callable
        ``upload_to`` needs an instance, which a form field does not have:
        pass ``upload_to=`` then, or the files go to the mount's root.
        """
        model_field = model._meta.get_field(field_name)
        storage = getattr(model_field, "storage", None)
        if not isinstance(model_field, models.FileField) or not isinstance(storage, MountStorage):
            raise ImproperlyConfigured(
                f"{model.__name__}.{field_name} does not store on a mount: direct "
                "uploads need a FileField whose storage is a MountStorage."
            )
        upload_to = model_field.upload_to
        defaults = {
            "storage": storage,
            "upload_to": upload_to if isinstance(upload_to, str) else "",
            "required": not model_field.blank,
            "label": capfirst(model_field.verbose_name),
            "help_text": model_field.help_text,
            "max_length": model_field.max_length,
        }
        return cls(**{**defaults, **kwargs})

    @property
    def storage(self) -> MountStorage:
        return self._storage if isinstance(self._storage, MountStorage) else self._storage()

    def grant(self) -> str:
        """Return a new grant for this field's folder, size and types, for the widget."""
        return direct_uploads.grant(
            self.storage,
            prefix=prefix_of(self.upload_to),
            max_size=self.max_size,
            content_types=self.content_types,
            expires_in=self.expires_in,
        )

    def to_python(self, data: Any) -> Any:
        if isinstance(data, Ticket):
            return self._verified(data)
        if isinstance(data, Kept):
            return self._unsigned(data)
        if isinstance(data, UploadedFile):
            super().to_python(data)  # the checks of an empty or nameless file
            return self._saved(data)
        return super().to_python(data)

    def bound_data(self, data: Any, initial: Any) -> Any:
        # Shown again after an error elsewhere: carry the name, signed, not the
        # spent ticket or the posted file, so that the file needs no second upload.
        try:
            name = self._kept.get(data)
        except TypeError:  # unhashable: nothing this field cleaned
            name = None
        return self._signed(name) if name else super().bound_data(data, initial)

    def _verified(self, ticket: Ticket) -> str:
        try:
            name = direct_uploads.verify(
                self.storage,
                ticket,
                prefix=fixed_prefix(self.upload_to),
                max_size=self.max_size,
                content_types=self.content_types,
            )
        except direct_uploads.UploadRefused as refused:
            raise ValidationError(str(refused), code=refused.code) from None
        self._check_length(name)
        self._kept[ticket] = name
        return name

    def _saved(self, upload: UploadedFile) -> str:
        """Check and save a file posted with the form (no JavaScript); return its name."""
        if upload.size is not None and upload.size > self.max_size:
            raise ValidationError(
                self.error_messages["too_large"], code="too_large", params=self._params()
            )
        content_type = (upload.content_type or "").split(";", 1)[0].strip().lower()
        if not direct_uploads.allowed_type(content_type, self.content_types):
            raise ValidationError(
                self.error_messages["content_type"],
                code="content_type",
                params={"content_type": content_type or gettext("unknown")},
            )
        storage = self.storage
        wished = prefix_of(self.upload_to) + posixpath.basename(upload.name or "")
        name = storage.generate_filename(wished)
        name = storage.save(name, upload, max_length=self.max_length)
        self._kept[upload] = name
        return name

    def _check_length(self, name: str) -> None:
        if self.max_length is not None and len(name) > self.max_length:
            params = {"max": self.max_length, "length": len(name)}
            raise ValidationError(
                self.error_messages["max_length"], code="max_length", params=params
            )

    def _signed(self, name: str) -> Kept:
        payload = {"m": self.storage.mount.name, "n": name}
        kept = Kept(signing.dumps(payload, salt=KEPT_SALT, compress=True))
        kept.name = name
        return kept

    def _unsigned(self, kept: Kept) -> str:
        try:
            payload = signing.loads(kept, salt=KEPT_SALT, max_age=self.expires_in or KEPT_MAX_AGE)
        except signing.BadSignature:
            raise ValidationError(self.error_messages["kept"], code="kept") from None
        name = payload.get("n", "")
        if payload.get("m") != self.storage.mount.name or not name.startswith(
            fixed_prefix(self.upload_to)
        ):
            raise ValidationError(self.error_messages["kept"], code="kept")
        self._kept[kept] = name
        return name

    def _params(self) -> dict[str, Any]:
        return {"max_size": self.max_size}
