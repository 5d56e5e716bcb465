"""Direct uploads in the browser: large files go from the page straight to the bucket.

On a mount whose backend signs upload targets, the folder page sends each file
above ``STORAGE_ADMIN_DIRECT_UPLOAD_SIZE`` bytes (default 8 MiB) itself: it asks
``upload_target`` for a signed target, sends the bytes there with the same
queue and progress bars, then posts the ticket to ``upload_done``, which checks
the object (``direct_uploads.verify()``) and refreshes the folder's listing.
Both views need the "add" permission, on every request, as ``upload`` does.
Smaller files, and every file of other mounts, are posted to ``upload``.

Settings (read on each use):

``STORAGE_ADMIN_DIRECT_UPLOAD_SIZE``
    Files above this many bytes go direct (default 8 MiB; None turns it off).
``STORAGE_ADMIN_DIRECT_UPLOAD_MAX_SIZE``
    The largest file sent direct (default 5 GB, one S3 POST's limit).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from genro_storage_django import direct_uploads
from genro_storage_django.admin import cache, listing
from genro_storage_django.admin.access import mount_storage, require
from genro_storage_django.admin.actions import post_only, upload_folder
from genro_storage_django.admin.rendering import BrowserAdmin, url_for
from genro_storage_django.names import clean_name
from genro_storage_django.storage import MountStorage

DIRECT_UPLOAD_SIZE = 8 * 1024 * 1024
DIRECT_UPLOAD_MAX_SIZE = 5 * 10**9
_PROBE = ".genro-storage-probe"


def threshold() -> int | None:
    """Return the size above which a file goes direct: ``STORAGE_ADMIN_DIRECT_UPLOAD_SIZE``."""
    value = getattr(settings, "STORAGE_ADMIN_DIRECT_UPLOAD_SIZE", DIRECT_UPLOAD_SIZE)
    return None if value is None else int(value)


def max_size() -> int:
    """Return the largest file sent direct: ``STORAGE_ADMIN_DIRECT_UPLOAD_MAX_SIZE``."""
    return int(getattr(settings, "STORAGE_ADMIN_DIRECT_UPLOAD_MAX_SIZE", DIRECT_UPLOAD_MAX_SIZE))


def signs_uploads(storage: MountStorage) -> bool:
    """Return True if ``storage``'s backend signs upload targets (the bytes leave the site).

    Signing is local (no request): a target for a name never used is asked
    for and thrown away.
    """
    backend = storage.backend
    target = backend.upload_target(
        backend.full_path(_PROBE),
        expiry=60,
        max_size=0,
        content_type="application/octet-stream",
        parameters={},
    )
    return target is not None


def page_context(request: HttpRequest, storage: MountStorage, path: str) -> dict[str, Any]:
    """Return what the folder page needs to send large files direct, or ``{}`` for none."""
    size = threshold()
    if size is None or not storage.mount.can_write or not signs_uploads(storage):
        return {}
    mount = storage.mount.name
    return {
        "direct_size": size,
        "direct_target_url": url_for(request, "upload_target", mount, path),
        "direct_done_url": url_for(request, "upload_done", mount, path),
    }


def _refused(message: str, code: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message, "code": code}, status=status)


@post_only
def upload_target(
    model_admin: BrowserAdmin, request: HttpRequest, mount: str, path: str
) -> HttpResponse:
    """Answer the target of one file into folder ``path`` (or below, per ``relative_path``)."""
    storage = mount_storage(mount)
    require(request.user, storage, "add")
    try:
        size = int(request.POST.get("size", ""))
        folder = upload_folder(request, clean_name(path))
        name = listing.join(folder, storage.get_valid_name(request.POST.get("filename", "")))
    except (ValueError, SuspiciousFileOperation):
        return _refused(_("Invalid file name or size."), "invalid")
    try:
        if size > max_size():
            raise direct_uploads.UploadRefused("too_large", limit=max_size())
        # Signed for this file's size: the store refuses a longer body.
        target = storage.upload_target(
            name, max_size=size, content_type=request.POST.get("content_type") or None
        )
    except direct_uploads.UploadRefused as refused:
        return _refused(str(refused), refused.code)
    return JsonResponse(target)


@post_only
def upload_done(
    model_admin: BrowserAdmin, request: HttpRequest, mount: str, path: str
) -> HttpResponse:
    """Check the file a direct upload's ``ticket`` names; answer the folder's URL."""
    storage = mount_storage(mount)
    require(request.user, storage, "add")
    directory = clean_name(path)
    try:
        direct_uploads.verify(
            storage,
            request.POST.get("ticket", ""),
            prefix=f"{directory}/" if directory else None,
            max_size=max_size(),
        )
    except direct_uploads.UploadRefused as refused:
        return _refused(str(refused), refused.code)
    finally:
        cache.changed(storage)  # a refused file was deleted: the listing changed too
    return JsonResponse({"location": url_for(request, "browse", mount, directory)})
