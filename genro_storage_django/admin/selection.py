"""The files and folders a bulk action was posted for, each checked again on the server.

The page's checkboxes are only a suggestion: every posted name goes through
the storage's name validation (``SuspiciousFileOperation``, a 400, for ``..``,
absolute paths, NUL bytes) and must exist in the mount of the URL; a name
below another selected folder is dropped, as the folder covers it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import SuspiciousFileOperation, SuspiciousOperation
from django.http import HttpRequest

from genro_storage_django import content_types
from genro_storage_django.admin import preview, tree
from genro_storage_django.admin.listing import join
from genro_storage_django.admin.zipstream import Member
from genro_storage_django.names import clean_name
from genro_storage_django.storage import MountStorage

#: Names one bulk request may carry.
MAX_SELECTION = 1000


@dataclass(frozen=True)
class Item:
    """One selected file or folder of a mount."""

    name: str
    is_dir: bool

    @property
    def basename(self) -> str:
        return posixpath.basename(self.name)


def posted_names(request: HttpRequest) -> list[str]:
    """Return the clean, distinct names posted as ``names``, without those below another one."""
    raw = request.POST.getlist("names")
    if len(raw) > MAX_SELECTION:
        raise SuspiciousOperation(f"More than {MAX_SELECTION} names in one request.")
    names: list[str] = []
    for value in raw:
        name = clean_name(value)
        if not name:
            raise SuspiciousFileOperation("The root of a mount cannot be selected.")
        if name not in names:
            names.append(name)
    return [name for name in names if not any(name.startswith(f"{o}/") for o in names)]


def selected(request: HttpRequest, storage: MountStorage) -> tuple[list[Item], list[str]]:
    """Return the posted items that exist in ``storage``, and the names that do not."""
    items: list[Item] = []
    missing: list[str] = []
    for name in posted_names(request):
        is_dir = storage.isdir(name)
        if is_dir or storage.exists(name):
            items.append(Item(name, is_dir))
        else:
            missing.append(name)
    return items, missing


def relative(name: str, directory: str) -> str:
    """Return ``name`` relative to ``directory`` if it is below it, else its last part."""
    if directory and name.startswith(f"{directory}/"):
        return name[len(directory) + 1 :]
    return name if not directory else posixpath.basename(name)


def members(storage: MountStorage, items: list[Item], directory: str) -> Iterator[Member]:
    """Yield the archive members of ``items``, named relative to ``directory``, lazily."""
    for item in items:
        arcname = relative(item.name, directory)
        if not item.is_dir:
            yield Member(
                arcname,
                item.name,
                size=storage.size(item.name),
                modified=preview.modified_time(storage, item.name),
                content_type=content_types.content_type(item.name),
            )
            continue
        yield Member(arcname, item.name, is_dir=True)
        for entry in tree.walk(storage, item.name):
            yield Member(
                join(arcname, entry.name),
                join(item.name, entry.name),
                is_dir=entry.is_dir,
                size=entry.size,
                modified=entry.modified,
                content_type=content_types.content_type(entry.name),
            )


def measure(storage: MountStorage, items: list[Item], max_files: int) -> tuple[int, int]:
    """Return the files and bytes in ``items``; counting stops past ``max_files`` files."""
    files = size = 0
    for item in items:
        entries = tree.walk(storage, item.name) if item.is_dir else [None]
        for entry in entries:
            if entry is None:
                files, size = files + 1, size + storage.size(item.name)
            elif not entry.is_dir:
                files, size = files + 1, size + (entry.size or 0)
            if files > max_files:
                return files, size
    return files, size
