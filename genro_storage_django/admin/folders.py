"""Folder listings for the browser: whole, or on object stores list page by list page, cached.

A bucket lists its keys in key order, a thousand at a time. The default
order of the browser (by name, ascending) therefore needs only the list pages
up to the end of the page shown: the first page of a folder of ten thousand
keys costs one request. Such a large folder (more than one list page) is
shown in the store's key order, folders among the files; sorting it by size
or date, or filtering it, lists everything first.

List pages come from ``Backend.scandir_page()`` on mounts that list in key
order (``Backend.lists_in_key_order``); every other mount is listed with one
``storage.scandir()``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.utils import timezone

from genro_storage_django.admin import cache
from genro_storage_django.backends.base import Entry
from genro_storage_django.storage import MountStorage

#: Keys asked for in one list request (``STORAGE_ADMIN_LIST_KEYS``); S3 and GCS answer 1000 at most.
DEFAULT_LIST_KEYS = 1000


@dataclass(frozen=True)
class Listing:
    """The entries of a folder known so far, and how to list the rest."""

    entries: list[Entry] = field(default_factory=list)
    #: False while list pages remain; ``token`` continues the listing.
    complete: bool = True
    token: str | None = None
    #: More than one list page: shown in the store's key order when sorted by name.
    keyed: bool = False


def list_keys() -> int:
    return int(getattr(settings, "STORAGE_ADMIN_LIST_KEYS", DEFAULT_LIST_KEYS))


def pages_by_key(storage: MountStorage) -> bool:
    """Return True if ``storage`` is listed list page by list page (s3, gcs, azure)."""
    return storage.backend.lists_in_key_order


def list_folder(storage: MountStorage, path: str, need: int | None = None) -> Listing:
    """Return the listing of folder ``path`` holding at least ``need`` entries (None: all).

    Object-store listings come from the cache when it holds enough of them,
    and go back into it extended.
    """
    if not cache.cached_mount(storage):
        return Listing(storage.scandir(path))
    key = cache.listing_key(storage, path)
    known: Listing | None = cache.get(key)
    if known is not None and _enough(known, need):
        return known
    if pages_by_key(storage):
        listing = _extend(storage, path, known or Listing(complete=False), need)
    else:
        listing = Listing(storage.scandir(path))
    cache.put(key, listing)
    return listing


def _enough(listing: Listing, need: int | None) -> bool:
    return listing.complete or (need is not None and len(listing.entries) >= need)


def _extend(storage: MountStorage, path: str, listing: Listing, need: int | None) -> Listing:
    """Fetch list pages after ``listing`` until it holds ``need`` entries or is complete."""
    entries = list(listing.entries)
    token = listing.token
    pages = 0
    while True:
        found, token = list_page(storage, path, token)
        entries.extend(found)
        pages += 1
        if token is None or (need is not None and len(entries) >= need):
            break
    keyed = listing.keyed or pages > 1 or token is not None
    return replace(listing, entries=entries, complete=token is None, token=token, keyed=keyed)


def list_page(
    storage: MountStorage, path: str, token: str | None
) -> tuple[list[Entry], str | None]:
    """Return one list page of folder ``path`` in key order, and the next token."""
    backend = storage.backend
    entries, token = backend.scandir_page(backend.full_path(path), list_keys(), token)
    return [_local_entry(entry) for entry in entries], token


def _local_entry(entry: Entry) -> Entry:
    return replace(entry, modified=_local(entry.modified))


def _local(value: datetime.datetime | None) -> datetime.datetime | None:
    # As MountStorage.scandir(): naive local times when USE_TZ is off.
    if value is None or settings.USE_TZ:
        return value
    return timezone.make_naive(value, timezone.get_default_timezone())
