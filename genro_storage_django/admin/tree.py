"""Everything below a folder, for search, ZIP downloads and copy estimates.

Object stores are walked with one recursive listing (``backend.find()``, fsspec's
``find``): a bucket lists every key under a prefix without a request per
folder, and has no empty folders to miss. Other mounts are walked folder by
folder with ``storage.scandir()``, which also yields the folders.
"""

from __future__ import annotations

import fnmatch
from collections import deque
from collections.abc import Iterator

from genro_storage_django.admin.listing import join
from genro_storage_django.backends.base import Entry
from genro_storage_django.backends.objectstore import ObjectStoreBackend
from genro_storage_django.storage import MountStorage

_GLOB_CHARACTERS = frozenset("*?[")


def walk(storage: MountStorage, path: str) -> Iterator[Entry]:
    """Yield the files (and, off object stores, the folders) below folder ``path``.

    Each entry's name is relative to ``path``, with ``/`` separators.
    """
    if isinstance(storage.backend, ObjectStoreBackend):
        backend = storage.backend
        for name, info in backend.find(backend.full_path(path)):
            modified = backend.modified_from_info(info)
            yield Entry(name, False, info.get("size"), modified)
        return
    pending = deque([""])
    while pending:
        relative = pending.popleft()
        for entry in storage.scandir(join(path, relative)):
            name = join(relative, entry.name)
            yield Entry(name, entry.is_dir, entry.size, entry.modified)
            if entry.is_dir:
                pending.append(name)


def matcher(query: str) -> tuple[str, bool]:
    """Return the case-folded ``query`` and whether it is a glob pattern (``*``, ``?``, ``[``)."""
    needle = query.strip().casefold()
    return needle, bool(_GLOB_CHARACTERS & set(needle))


def search(storage: MountStorage, path: str, query: str) -> list[Entry]:
    """Return the entries below ``path`` whose last name part matches ``query``, ignoring case.

    A query with ``*``, ``?`` or ``[`` is a glob pattern on the whole last
    part (``*.png``); any other is a piece of it (``report``).
    """
    needle, glob = matcher(query)
    if not needle:
        return []
    found = []
    for entry in walk(storage, path):
        last = entry.name.rsplit("/", 1)[-1].casefold()
        if fnmatch.fnmatchcase(last, needle) if glob else needle in last:
            found.append(entry)
    return found
