"""Direct uploads: the browser sends the bytes to the store, Django only signs and checks.

``MountStorage.upload_target()`` returns what a browser needs to store one
file itself: a presigned POST (s3), a signed PUT (gcs, azure) or, on mounts
that cannot sign, a PUT to this app's ``direct_upload`` view authorised by a
``django.core.signing`` token, as a presigned URL is. With it comes a
*ticket*: the form posts it back, and ``verify()`` checks the stored object
before the name is accepted, since some stores (and every emulator) enforce
less than the signature says.

``grant()`` lets a page hand out targets: its token, in the page, names the
prefix, the size and the types allowed; the ``upload_target`` view turns it
into a target for one file.
"""

from __future__ import annotations

import fnmatch
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.core import signing
from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from genro_storage_django.content_types import content_type as guess_type
from genro_storage_django.names import clean_name

if TYPE_CHECKING:
    from genro_storage_django.backends.base import Backend
    from genro_storage_django.schema import Mount


class MountStorage(Protocol):
    """What this module uses of a ``genro_storage_django.storage.MountStorage``.

    (Not imported: the storage imports this module.)
    """

    @property
    def mount(self) -> Mount: ...

    @property
    def backend(self) -> Backend: ...

    @property
    def file_overwrite(self) -> bool: ...

    def exists(self, name: str) -> bool: ...

    def get_available_name(self, name: str, max_length: int | None = None) -> str: ...

    def get_object_parameters(self, name: str) -> dict[str, Any]: ...

    def _require(self, operation: str, name: str) -> None: ...


S = TypeVar("S", bound=MountStorage)


class Body(Protocol):
    """What the upload view streams from: a request, a file."""

    def read(self, size: int) -> bytes: ...


GRANT_SALT = "genro_storage_django.direct_uploads.grant"
TICKET_SALT = "genro_storage_django.direct_uploads.ticket"
UPLOAD_SALT = "genro_storage_django.direct_uploads.upload"
#: Seconds a ticket stays claimable after its target expired: the form is
#: posted after the upload ends.
CLAIM_WINDOW = 3600
#: Seconds of clock difference allowed between this machine and the store.
CLOCK_SKEW = 5
#: Bytes read from the request at a time by the upload view.
CHUNK_SIZE = 1024 * 1024
DEFAULT_EXPIRY = 3600

MESSAGES = {
    "expired": _("The upload link has expired: upload the file again."),
    "too_large": _("The file is larger than the %(limit)s bytes allowed."),
    "content_type": _("Files of type “%(type)s” are not allowed here."),
    "outside": _("The file was not uploaded where this form stores files."),
    "missing": _("The uploaded file was not found: upload it again."),
    "replayed": _("This upload was already used: upload the file again."),
    "forged": _("The upload could not be verified."),
    "read_only": _("This storage does not accept uploads."),
    "exists": _("A file with this name already exists."),
}


class UploadRefused(ValueError):
    """An upload (or its claim) refused; the message is safe to show and holds no secret."""

    def __init__(self, code: str, **values: Any) -> None:
        self.code = code
        # Translated when raised: in the language of the request being answered.
        super().__init__(str(MESSAGES[code]) % values)


def grant(
    storage: MountStorage,
    *,
    prefix: str,
    max_size: int,
    content_types: Sequence[str] | None,
    expires_in: int | None = None,
) -> str:
    """Return a token that lets a browser ask the ``upload_target`` view for targets.

    The targets lie under ``prefix`` of ``storage``'s mount, for files of at
    most ``max_size`` bytes of one of ``content_types`` (None: any; ``image/*``
    patterns allowed), for ``expires_in`` seconds (the mount's ``url_expiry``).
    It holds no secret: put it in the page.
    """
    payload = {
        "m": storage.mount.name,
        "p": prefix,
        "s": max_size,
        "t": list(content_types) if content_types is not None else None,
        "e": time.time() + _expiry(storage, expires_in),
    }
    return signing.dumps(payload, salt=GRANT_SALT)


def read_grant(storage_of: Callable[[str], S], token: str) -> tuple[S, dict[str, Any]]:
    """Return the storage and the terms of a ``grant()`` token; ``UploadRefused`` if bad.

    ``storage_of`` maps a mount name to its storage (``get_storage``).
    """
    try:
        terms = signing.loads(token, salt=GRANT_SALT)
    except signing.BadSignature:
        raise UploadRefused("forged") from None
    if time.time() > terms["e"]:
        raise UploadRefused("expired")
    return storage_of(terms["m"]), terms


def allowed_type(value: str, content_types: Sequence[str] | None) -> bool:
    """Return True if the Content-Type ``value`` matches one of ``content_types`` (None: any)."""

    def base(text: str) -> str:
        return text.split(";")[0].strip().lower()  # parameters (charset) do not count

    return content_types is None or any(
        fnmatch.fnmatchcase(base(value), base(pattern)) for pattern in content_types
    )


def target(
    storage: MountStorage,
    name: str,
    max_size: int,
    content_type: str | None,
    expires_in: int | None,
) -> dict[str, Any]:
    """``MountStorage.upload_target()``."""
    name = clean_name(name)
    storage._require("write", name)
    if max_size < 0:
        raise ValueError("max_size must be a number of bytes, zero or more.")
    if not storage.file_overwrite:
        name = storage.get_available_name(name)  # as save(): a free name, nothing replaced
    elif not storage.mount.can_delete and storage.exists(name):
        raise UploadRefused("exists")  # the upload would replace a file it may not delete
    parameters = storage.get_object_parameters(name)
    content_type = content_type or parameters.get("content_type") or guess_type(name)
    parameters["content_type"] = content_type
    expiry = _expiry(storage, expires_in)
    issued = time.time()
    terms = {
        "m": storage.mount.name,
        "n": name,
        "s": max_size,
        "t": content_type,
        "i": issued,
        "e": issued + expiry,
        "k": secrets.token_urlsafe(12),
    }
    backend = storage.backend
    signed = backend.upload_target(
        backend.full_path(name),
        expiry=expiry,
        max_size=max_size,
        content_type=content_type,
        parameters=parameters,
    )
    if signed is None:
        token = signing.dumps(terms, salt=UPLOAD_SALT)
        url = reverse("genro_storage_django:direct_upload", kwargs={"token": token})
        signed = {"method": "PUT", "url": url, "headers": {"Content-Type": content_type}}
    return {**signed, "name": name, "ticket": signing.dumps(terms, salt=TICKET_SALT)}


def _expiry(storage: MountStorage, expires_in: int | None) -> int:
    if expires_in is None:
        expires_in = int(storage.mount.options.get("url_expiry") or DEFAULT_EXPIRY)
    expiry = expires_in
    if expiry <= 0:
        raise ValueError("expires_in must be a positive number of seconds.")
    return expiry


def verify(
    storage: MountStorage,
    ticket: str,
    *,
    prefix: str | None = None,
    max_size: int | None = None,
    content_types: Sequence[str] | None = None,
) -> str:
    """Check the uploaded object that ``ticket`` names and return its clean name.

    Raise ``UploadRefused`` otherwise; an object refused for its size, type or
    upload time is deleted, so nothing refused stays behind. A ticket is
    claimed once: a second ``verify()`` is refused as replayed.
    """
    terms = _ticket_terms(storage, ticket)
    name = terms["n"]
    if prefix is not None and not name.startswith(prefix.lstrip("/")):
        raise UploadRefused("outside")
    claim = f"genro_storage_django.upload.{terms['k']}"
    # Before the object checks: those delete what they refuse, and a claimed
    # ticket names a file some form has accepted.
    if cache.get(claim) is not None:
        raise UploadRefused("replayed")
    _check_object(storage, terms, max_size, content_types)
    remaining = terms["e"] + CLAIM_WINDOW - time.time()
    if not cache.add(claim, 1, max(int(remaining), 1)):
        raise UploadRefused("replayed")  # claimed meanwhile by a concurrent post
    return str(name)


def _ticket_terms(storage: MountStorage, ticket: str) -> dict[str, Any]:
    try:
        terms = signing.loads(ticket, salt=TICKET_SALT)
    except signing.BadSignature:
        raise UploadRefused("forged") from None
    if terms.get("m") != storage.mount.name:
        raise UploadRefused("forged")  # a ticket of another mount
    if time.time() > terms["e"] + CLAIM_WINDOW:
        raise UploadRefused("expired")
    return terms


def _check_object(
    storage: MountStorage,
    terms: dict[str, Any],
    max_size: int | None,
    content_types: Sequence[str] | None,
) -> None:
    backend = storage.backend
    path = backend.full_path(terms["n"])
    try:
        info = backend.info(path)
    except FileNotFoundError:
        raise UploadRefused("missing") from None
    if info.get("type") == "directory":
        raise UploadRefused("missing")
    modified = backend.modified_from_info(info) or backend.modified_time(path)
    if modified.timestamp() < terms["i"] - CLOCK_SKEW:
        # Stored before the target existed: someone else's file, left alone.
        raise UploadRefused("replayed")
    refusal = _refusal(
        backend.stored_type(info) or terms["t"], int(info["size"]), terms, max_size, content_types
    )
    if refusal is None and modified.timestamp() > terms["e"] + CLOCK_SKEW:
        refusal = UploadRefused("expired")  # a store that took it after the expiry
    if refusal is not None:
        backend.delete(path)
        raise refusal


def _refusal(
    stored_type: str,
    size: int,
    terms: dict[str, Any],
    max_size: int | None,
    content_types: Sequence[str] | None,
) -> UploadRefused | None:
    limit = terms["s"] if max_size is None else min(terms["s"], max_size)
    if size > limit:
        return UploadRefused("too_large", limit=limit)
    if not allowed_type(stored_type, [terms["t"]]) or not allowed_type(stored_type, content_types):
        return UploadRefused("content_type", type=stored_type)
    return None


# The app's own upload view (``views.direct_upload``), for mounts that cannot sign.


def upload_terms(token: str) -> dict[str, Any]:
    """Return the terms of an upload view token; ``UploadRefused`` if forged or expired."""
    try:
        terms = signing.loads(token, salt=UPLOAD_SALT)
    except signing.BadSignature:
        raise UploadRefused("forged") from None
    if time.time() > terms["e"]:
        raise UploadRefused("expired")
    return terms


def receive(storage: MountStorage, terms: dict[str, Any], body: Body, length: int) -> None:
    """Stream ``body`` (a request) to the file the ``terms`` name, as the upload view does.

    Raise ``UploadRefused`` ("too_large") past the size limit, before or during
    the transfer, and ``FileExistsError`` if the name is taken (and the mount
    does not overwrite): the file is published only once complete.
    """
    if length > terms["s"]:
        raise UploadRefused("too_large", limit=terms["s"])
    parameters = {**storage.get_object_parameters(terms["n"]), "content_type": terms["t"]}
    backend = storage.backend
    # As the stores' signed requests: replace a file only where the mount
    # overwrites and may delete.
    overwrite = storage.file_overwrite and storage.mount.can_delete
    chunks = _limited(body, terms["s"])
    backend.write(backend.full_path(terms["n"]), chunks, overwrite, parameters)


def _limited(body: Body, limit: int) -> Iterator[bytes]:
    received = 0
    while chunk := body.read(CHUNK_SIZE):
        received += len(chunk)
        if received > limit:
            # Raised inside the write: the backend discards what it holds.
            raise UploadRefused("too_large", limit=limit)
        yield chunk
