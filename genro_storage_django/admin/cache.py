"""Folder listings of object-store mounts, kept in Django's cache for a short while.

Listing a large bucket prefix costs one request per thousand keys; another
page or another sort of the same folder should cost none. Each mount has a
generation number in the cache, part of every listing's key: every write the
browser makes bumps it, so no listing from before the write is read again.
Changes made elsewhere show after ``STORAGE_ADMIN_LISTING_CACHE_TTL`` seconds,
or at once with the folder's "Refresh" button.

Settings (read on each use):

``STORAGE_ADMIN_CACHE``
    The alias in ``CACHES`` to use (default ``"default"``).
``STORAGE_ADMIN_LISTING_CACHE_TTL``
    Seconds a listing is reused (default 30; 0 turns the cache off).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches

from genro_storage_django.backends.objectstore import ObjectStoreBackend
from genro_storage_django.storage import MountStorage

DEFAULT_TTL = 30
_PREFIX = "genro_storage_django.admin"


def _cache() -> BaseCache:
    return caches[getattr(settings, "STORAGE_ADMIN_CACHE", "default")]


def ttl() -> int:
    """Return the seconds a listing is kept: ``STORAGE_ADMIN_LISTING_CACHE_TTL``."""
    return int(getattr(settings, "STORAGE_ADMIN_LISTING_CACHE_TTL", DEFAULT_TTL))


def cached_mount(storage: MountStorage) -> bool:
    """Return True if listings of ``storage`` are cached: object stores, with a TTL above 0."""
    return ttl() > 0 and isinstance(storage.backend, ObjectStoreBackend)


def _generation_key(storage: MountStorage) -> str:
    return f"{_PREFIX}.generation.{storage.mount.name}"


def _generation(storage: MountStorage) -> int:
    cache = _cache()
    key = _generation_key(storage)
    # Never expires on its own: a lost generation would revive old listings.
    cache.add(key, 0, timeout=None)
    return int(cache.get(key, 0))


def listing_key(storage: MountStorage, path: str, kind: str = "folder") -> str:
    """Return the cache key of the listing ``kind`` of ``path``, for this mount's generation.

    The key holds the fsspec path, so that each tenant of a per-tenant mount
    has listings of its own.
    """
    full = storage.backend.full_path(path)
    digest = hashlib.sha256(f"{kind}\0{full}".encode()).hexdigest()[:32]
    return f"{_PREFIX}.listing.{storage.mount.name}.{_generation(storage)}.{digest}"


def get(key: str) -> Any:
    """Return the value cached under ``key``, or None."""
    return _cache().get(key)


def put(key: str, value: Any) -> None:
    """Keep ``value`` under ``key`` for ``ttl()`` seconds."""
    _cache().set(key, value, timeout=ttl())


def changed(storage: MountStorage) -> None:
    """Forget every cached listing of ``storage``'s mount: call it after each write."""
    if not isinstance(storage.backend, ObjectStoreBackend):
        return
    cache = _cache()
    key = _generation_key(storage)
    cache.add(key, 0, timeout=None)
    try:
        cache.incr(key)
    except ValueError:  # evicted between add() and incr()
        cache.set(key, 1, timeout=None)
