"""Look at a mount: list a ``MOUNT:PATH`` (``storage_ls``), add up its sizes (``storage_du``)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

from genro_storage_django.transfer.listing import Location, list_files, missing, stat_file


@dataclass(frozen=True)
class Listed:
    """One line of a listing: ``name`` is relative to the listed location."""

    name: str
    is_dir: bool = False
    size: int | None = None
    modified: datetime.datetime | None = None
    checksums: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Usage:
    """The files below one folder (``""``: the location itself), at any depth."""

    folder: str
    size: int
    files: int


def require_exists(location: Location) -> bool:
    """Return True if ``location`` is a directory, False if a file; else ``FileNotFoundError``."""
    backend = location.backend
    path = location.full_path()
    if backend.isdir(path):
        return True
    if backend.exists(path):
        return False
    raise missing(location)


def list_location(location: Location, recursive: bool = False) -> list[Listed]:
    """Return the entries of ``location`` sorted by name, or the file it names.

    A plain listing gives the immediate children, folders included, from one
    directory listing; it carries no checksums (directory listings have none).
    A recursive one gives every file below, from one recursive listing, with
    the checksums the backend knows (the MD5 of an S3 ETag, GCS ``md5Hash``).
    """
    if not require_exists(location):
        stat = stat_file(location)
        name = location.path.rsplit("/", 1)[-1]
        return [Listed(name, False, stat.size, stat.modified, stat.checksums)]
    if recursive:
        files = list_files(location)
        return [
            Listed(name, False, stat.size, stat.modified, stat.checksums)
            for name, stat in sorted(files.items())
        ]
    entries = location.backend.scandir(location.full_path())
    return [
        Listed(entry.name, entry.is_dir, entry.size, entry.modified)
        for entry in sorted(entries, key=lambda entry: entry.name)
    ]


def disk_usage(location: Location, depth: int | None = None) -> list[Usage]:
    """Return the bytes and files below each folder of ``location``, from one recursive listing.

    Folders deeper than ``depth`` levels (0: the location only) are counted in
    their parents but not listed. Folders come sorted by name, the location
    itself last, as ``du`` prints them.
    """
    if not require_exists(location):
        return [Usage("", stat_file(location).size, 1)]
    totals: dict[str, list[int]] = {"": [0, 0]}
    for name, stat in list_files(location).items():
        folders = name.split("/")[:-1]
        levels = len(folders) if depth is None else min(depth, len(folders))
        for level in range(levels + 1):
            total = totals.setdefault("/".join(folders[:level]), [0, 0])
            total[0] += stat.size
            total[1] += 1
    ordered = sorted(totals, key=lambda folder: (folder == "", folder))
    return [Usage(folder, *totals[folder]) for folder in ordered]
