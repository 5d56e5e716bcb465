"""What the detail and delete pages show about a file or a folder."""

from __future__ import annotations

import datetime
from collections import deque
from dataclasses import dataclass

from genro_storage_django import content_types
from genro_storage_django.admin.listing import join
from genro_storage_django.storage import MountStorage

# Raster formats only: an SVG shown from the admin's origin could run script.
IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/avif"}
)
TEXT_TYPES = frozenset(
    {"application/json", "application/xml", "application/javascript", "application/x-sh"}
)
#: Files up to this size get a text preview.
TEXT_PREVIEW_MAX_SIZE = 1024 * 1024
TEXT_PREVIEW_BYTES = 16 * 1024
TEXT_PREVIEW_LINES = 40
#: The delete confirmation lists at most this many names of a folder's contents.
DELETE_LIST_LIMIT = 200


@dataclass(frozen=True)
class FileDetails:
    """What the detail page shows about one file."""

    name: str
    size: int
    modified: datetime.datetime | None
    content_type: str
    url: str | None
    is_image: bool
    text: str | None


def public_url(storage: MountStorage, name: str) -> str | None:
    """Return ``storage.url(name)``, or None when the mount has no URL for it."""
    try:
        return storage.url(name)
    except (ValueError, NotImplementedError):
        return None


def modified_time(storage: MountStorage, name: str) -> datetime.datetime | None:
    """Return the modification time of ``name``, or None if the backend records none.

    OSErrors propagate: a vanished file is a 404, a storage that does not
    answer a message (``StorageAdmin._wrap``).
    """
    try:
        return storage.get_modified_time(name)
    except NotImplementedError:
        return None


def is_image(content_type: str) -> bool:
    return content_type in IMAGE_TYPES


def is_text(content_type: str) -> bool:
    return content_type.startswith("text/") or content_type in TEXT_TYPES


def text_preview(storage: MountStorage, name: str) -> str:
    """Return the first lines of ``name`` decoded as UTF-8 (bad bytes replaced)."""
    with storage.open(name, "rb") as handle:
        head = handle.read(TEXT_PREVIEW_BYTES)
    lines = head.decode("utf-8", errors="replace").splitlines()
    return "\n".join(lines[:TEXT_PREVIEW_LINES])


def file_details(storage: MountStorage, name: str) -> FileDetails:
    """Collect the detail page's facts; ``FileNotFoundError`` if ``name`` does not exist."""
    size = storage.size(name)
    content_type = content_types.content_type(name)
    text = None
    if is_text(content_type) and size <= TEXT_PREVIEW_MAX_SIZE:
        text = text_preview(storage, name)
    return FileDetails(
        name=name,
        size=size,
        modified=modified_time(storage, name),
        content_type=content_type,
        url=public_url(storage, name),
        is_image=is_image(content_type),
        text=text,
    )


def folder_contents(storage: MountStorage, name: str) -> tuple[list[str], bool]:
    """Return the names below folder ``name``, breadth first, and whether the list was cut."""
    found: list[str] = []
    pending = deque([name])
    while pending:
        directory = pending.popleft()
        for entry in storage.scandir(directory):
            child = join(directory, entry.name)
            found.append(f"{child}/" if entry.is_dir else child)
            if len(found) >= DELETE_LIST_LIMIT:
                return found, True
            if entry.is_dir:
                pending.append(child)
    return found, False
