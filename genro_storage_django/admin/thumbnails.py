"""Thumbnails of raster images for the grid view, made with Pillow on first view and kept.

A thumbnail is named after the mount, the file's path, size and modification
time, so a changed file gets a new one. Thumbnails are kept on the mount
``STORAGE_ADMIN_THUMBNAIL_MOUNT`` names, else in the local folder
``STORAGE_ADMIN_THUMBNAIL_DIR`` (default: ``genro-storage-django-thumbnails``
in the system's temporary folder). Images larger than
``STORAGE_ADMIN_THUMBNAIL_MAX_SOURCE_SIZE`` bytes (default 20 MB), SVG and
every other non-raster type get none; without Pillow no image gets one.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage
from django.http import Http404, HttpRequest, HttpResponse

from genro_storage_django import content_types
from genro_storage_django.admin import preview
from genro_storage_django.admin.access import mount_storage, require
from genro_storage_django.admin.rendering import BrowserAdmin
from genro_storage_django.names import clean_name
from genro_storage_django.storage import MountStorage, get_storage

#: The longer side of a thumbnail, in pixels (``STORAGE_ADMIN_THUMBNAIL_SIZE``).
SIZE = 200
MAX_SOURCE_SIZE = 20 * 1024 * 1024
#: Pixels an image may have before Pillow is not even asked to decode it.
MAX_PIXELS = 50_000_000


def max_source_size() -> int:
    return int(getattr(settings, "STORAGE_ADMIN_THUMBNAIL_MAX_SOURCE_SIZE", MAX_SOURCE_SIZE))


def pillow_available() -> bool:
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True


def may_have_thumbnail(name: str, size: int | None) -> bool:
    """Return True if the file ``name`` of ``size`` bytes gets a thumbnail."""
    return (
        preview.is_image(content_types.content_type(name))
        and size is not None
        and size <= max_source_size()
    )


def thumbnail_storage() -> Storage:
    """Return the storage thumbnails are kept on."""
    mount = getattr(settings, "STORAGE_ADMIN_THUMBNAIL_MOUNT", None)
    if mount:
        return get_storage(mount)
    default = os.path.join(tempfile.gettempdir(), "genro-storage-django-thumbnails")
    return FileSystemStorage(location=getattr(settings, "STORAGE_ADMIN_THUMBNAIL_DIR", default))


def thumbnail_name(storage: MountStorage, name: str, size: int, modified: object) -> str:
    """Return the name of the thumbnail of ``name`` as it is now."""
    side = getattr(settings, "STORAGE_ADMIN_THUMBNAIL_SIZE", SIZE)
    source = f"{storage.mount.name}\0{storage.backend.full_path(name)}\0{size}\0{modified}\0{side}"
    digest = hashlib.sha256(source.encode()).hexdigest()
    return f"{digest[:2]}/{digest}.png"


def make_thumbnail(storage: MountStorage, name: str) -> bytes | None:
    """Return a PNG thumbnail of image ``name``, or None if Pillow cannot read it."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    side = int(getattr(settings, "STORAGE_ADMIN_THUMBNAIL_SIZE", SIZE))
    with storage.open(name, "rb") as handle:
        try:
            opened = Image.open(handle)
            if opened.width * opened.height > MAX_PIXELS:
                return None
            opened.draft("RGB", (side, side))  # JPEG: decode at a fraction of the size
            image = ImageOps.exif_transpose(opened)
            image.thumbnail((side, side))
        except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
            return None
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def thumbnail(
    model_admin: BrowserAdmin, request: HttpRequest, mount: str, path: str
) -> HttpResponse:
    """Answer the PNG thumbnail of a raster image, making and keeping it on first view."""
    storage = mount_storage(mount)
    require(request.user, storage, "view")
    name = clean_name(path)
    try:
        size = storage.size(name) if name else None
    except (FileNotFoundError, IsADirectoryError):
        raise Http404("No such file.") from None
    if not name or not may_have_thumbnail(name, size) or not pillow_available():
        raise Http404("No thumbnail for this file.")
    assert size is not None
    kept = thumbnail_storage()
    key = thumbnail_name(storage, name, size, preview.modified_time(storage, name))
    try:
        with kept.open(key, "rb") as handle:
            data = handle.read()
    except OSError:  # not made yet
        made = make_thumbnail(storage, name)
        if made is None:
            raise Http404("This image cannot be read.") from None
        data = made
        if not kept.exists(key):
            kept.save(key, ContentFile(data))
    response = HttpResponse(data, content_type="image/png")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
