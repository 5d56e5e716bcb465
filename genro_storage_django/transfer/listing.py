"""One recursive listing of a ``MOUNT:PATH``, shared by the copy engine and the inspections."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from genro_storage_django.backends.base import READ_CHUNK, Backend
from genro_storage_django.names import clean_name
from genro_storage_django.storage import MountStorage, get_storage

#: Files up to this size are read in one request and copied as coroutines.
CHUNK_SIZE = READ_CHUNK


@dataclass(frozen=True)
class Location:
    """A ``MOUNT:PATH`` argument: a mount name and a clean path inside it."""

    mount: str
    path: str
    # "MOUNT:dir/" names a directory even before it exists.
    directory: bool = False

    @classmethod
    def parse(cls, text: str) -> Location:
        """Return the location written ``MOUNT:PATH``; ``ValueError`` if it is not one."""
        mount, colon, path = text.partition(":")
        if not colon or not mount:
            message = _("%(text)s is not MOUNT:PATH (for example media:photos/2024).")
            raise ValueError(message % {"text": repr(text)})
        return cls(mount, clean_name(path), path.endswith("/") or not clean_name(path))

    def __str__(self) -> str:
        return f"{self.mount}:{self.path}"

    def join(self, name: str) -> str:
        return clean_name(f"{self.path}/{name}" if self.path else name)

    @property
    def storage(self) -> MountStorage:
        """The mount's storage; ``MountNotFound`` if ``STORAGE_MOUNTS`` lacks it."""
        return get_storage(self.mount)

    @property
    def backend(self) -> Backend:
        return self.storage.backend

    def full_path(self, name: str = "") -> str:
        """Return the fsspec path of ``name``, relative to this location."""
        return self.backend.full_path(self.join(name) if name else self.path)


@dataclass(frozen=True)
class FileStat:
    """What a listing says about one file."""

    size: int
    modified: datetime.datetime | None = None
    checksums: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_info(cls, backend: Backend, info: dict[str, Any]) -> FileStat:
        return cls(
            int(info.get("size") or 0), backend.modified_from_info(info), backend.checksums(info)
        )


@dataclass(frozen=True)
class Item:
    """One file a transfer may copy, with what the two listings say of it."""

    name: str  # relative to the source location: what users see
    source: str  # fsspec paths
    target: str
    stat: FileStat
    target_stat: FileStat | None


def list_files(location: Location) -> dict[str, FileStat]:
    """Return every file below ``location`` by path relative to it, from one recursive listing."""
    backend = location.backend
    found = {}
    for name, info in backend.find(location.full_path()):
        if info.get("size") is None:
            # Some listings (HTTP index pages) give names only: ask for the size.
            info = backend.info(location.full_path(name))
        found[name] = FileStat.from_info(backend, info)
    return found


def stat_file(location: Location) -> FileStat:
    """Return what the backend says about the file at ``location``."""
    backend = location.backend
    return FileStat.from_info(backend, backend.info(location.full_path()))


def same_content(
    first: tuple[Backend, str, FileStat], second: tuple[Backend, str, FileStat]
) -> bool:
    """Return True if two files, each ``(backend, path, stat)``, hold the same bytes.

    Checksums from the listings are compared when both sides have one of the
    same kind; otherwise each side is hashed with an algorithm one side
    already knows (so that only the other is read), else SHA-256.
    """
    known, other = first[2].checksums, second[2].checksums
    common = sorted(set(known) & set(other))
    if common:
        return known[common[0]] == other[common[0]]
    usable = [name for name in (*known, *other) if name in hashlib.algorithms_available]
    algorithm = usable[0] if usable else "sha256"
    return digest(first[0], first[1], known, algorithm) == digest(
        second[0], second[1], other, algorithm
    )


def digest(backend: Backend, path: str, known: Mapping[str, str], algorithm: str) -> str:
    """Return the hex ``algorithm`` digest of ``path``: from ``known``, else by reading it."""
    if algorithm in known:
        return known[algorithm]
    hashed = hashlib.new(algorithm)
    with backend.open(path, "rb") as file:
        while chunk := file.read(CHUNK_SIZE):
            hashed.update(chunk)
    return hashed.hexdigest()


def nested(first: Location, second: Location) -> bool:
    """Return True if one location is inside the other (or both are one) on one filesystem."""
    if not first.backend.same_filesystem(second.backend):
        return False
    paths = [
        location.full_path().replace("\\", "/").rstrip("/") + "/" for location in (first, second)
    ]
    return paths[0].startswith(paths[1]) or paths[1].startswith(paths[0])


def overlap(first: object, second: object) -> ValueError:
    """Return the refusal of two locations that ``nested()`` says overlap."""
    # Translators: two MOUNT:PATH locations; the first may be "--backup-dir MOUNT:PATH".
    message = _("%(first)s and %(second)s overlap: one is in the other.")
    return ValueError(message % {"first": first, "second": second})


def missing(location: Location) -> FileNotFoundError:
    """Return the refusal of a ``location`` where nothing is."""
    return FileNotFoundError(_("%(location)s does not exist.") % {"location": location})
