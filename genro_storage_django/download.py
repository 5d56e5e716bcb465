"""Signed download links: ``MountStorage.url_for()``.

An object store signs the link itself (S3 ``response-content-disposition``,
GCS ``response-content-disposition``, an Azure SAS with ``rscd``), so the
store's answer carries the Content-Disposition asked for. A mount without such
signatures but with ``serve`` gets a link to the serve view signed with
``django.core.signing``: it opens the file to whoever holds it until it
expires, as a presigned URL does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.http import content_disposition_header

from genro_storage_django import serving
from genro_storage_django.names import clean_name

if TYPE_CHECKING:
    from genro_storage_django.backends.base import Backend


def disposition(download_name: str | None, inline: bool | None) -> str | None:
    """Return the Content-Disposition asked for by ``url_for()``'s arguments, or None."""
    if download_name is None and inline is None:
        return None
    if download_name is None:
        return "inline" if inline else "attachment"
    return content_disposition_header(not inline, download_name)


def url_for(
    backend: Backend,
    name: str,
    expires_in: int | None,
    download_name: str | None,
    inline: bool | None,
) -> str:
    """``MountStorage.url_for()``."""
    name = clean_name(name)
    mount = backend.mount
    expiry = expires_in if expires_in is not None else int(mount.options.get("url_expiry") or 3600)
    if expiry <= 0:
        raise ValueError("expires_in must be a positive number of seconds.")
    header = disposition(download_name, inline)
    signed = backend.download_url(backend.full_path(name), expiry, header)
    if signed:
        return signed
    if not mount.serve:
        raise ValueError(
            f"Mount {mount.name!r} cannot make signed URLs: its credentials cannot sign "
            "(or it has a custom_domain), and it has no 'serve' to sign for."
        )
    token = serving.sign(mount.name, name, expiry, header)
    view = reverse("genro_storage_django:serve", kwargs={"mount": mount.name, "path": name})
    return f"{view}?{urlencode({serving.TOKEN: token})}"
