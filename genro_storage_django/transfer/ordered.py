"""Recursive listings in key order, streamed: what the copy planner merges.

One order for every backend: names compared as Python strings, which is the
order of their code points, hence of their UTF-8 bytes, which is the order
S3 lists keys in (GCS and Azure Blob list the same way). Local directories are
walked in that order, one directory in memory at a time; an S3 listing is
paginated as it comes; other backends' listings are collected, then sorted
(``forces_sort()`` says which).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from genro_storage_django.transfer.listing import FileStat, Location

if TYPE_CHECKING:
    from genro_storage_django.backends.base import Backend

Listed = tuple[str, FileStat]


class OrderError(RuntimeError):
    """A listing went backwards: the merge of two listings would decide wrongly."""


def ordered_files(location: Location) -> Iterator[Listed]:
    """Yield ``(name, stat)`` for every file below ``location``, in key order."""
    backend = location.backend
    path = location.full_path()
    if _is_local(backend):
        found: Iterable[tuple[str, dict[str, Any]]] = _walk_local(path)
    elif _is_s3(backend):
        found = _pages_of_s3(backend, path)
    else:
        found = sorted(backend.find(path), key=lambda entry: entry[0])
    for name, info in in_key_order(found, str(location)):
        if info.get("size") is None:
            # Some listings (HTTP index pages) give names only: ask for the size.
            info = backend.info(location.full_path(name))
        yield name, FileStat.from_info(backend, info)


def forces_sort(backend: Backend) -> bool:
    """Return True if listing ``backend`` collects every name before the first (a sort)."""
    return not (_is_local(backend) or _is_s3(backend))


def in_key_order(entries: Iterable[tuple[str, Any]], label: str) -> Iterator[tuple[str, Any]]:
    """Yield ``entries`` unchanged; raise ``OrderError`` if a name is not after the previous one."""
    previous = None
    for entry in entries:
        if previous is not None and entry[0] <= previous:
            raise OrderError(f"The listing of {label} is not in key order: {entry[0]!r}.")
        previous = entry[0]
        yield entry


def _is_local(backend: Backend) -> bool:
    return backend.keeps_local_files()


def _is_s3(backend: Backend) -> bool:
    # A version-aware listing holds every version of a key: s3fs's own find() sorts that out.
    return backend.lists_in_key_order and not getattr(backend.fs, "version_aware", True)


# Local disks: each directory sorted as its entries' full paths sort.


def _walk_local(directory: str, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    from genro_storage_django.backends.local import is_temporary

    # Only the directories on the way down are in memory, each as one sorted list.
    for key, entry in _sorted_entries(directory):
        if key.endswith("/"):
            yield from _walk_local(entry.path, f"{prefix}{key}")
        elif not is_temporary(entry.name):
            yield f"{prefix}{entry.name}", _local_info(entry)


def _sorted_entries(directory: str) -> list[tuple[str, os.DirEntry[str]]]:
    # A directory "a" sorts as "a/": after "a-b" and "a.txt", as S3 lists "a/x".
    try:
        with os.scandir(directory) as iterator:
            entries = [(e.name + "/" if e.is_dir() else e.name, e) for e in iterator]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(entries, key=lambda pair: pair[0])


def _local_info(entry: os.DirEntry[str]) -> dict[str, Any]:
    stat = entry.stat()
    return {"name": entry.path, "size": stat.st_size, "type": "file", "mtime": stat.st_mtime}


# S3: one page of ListObjectsV2 at a time, in the order the server keeps keys.


def _pages_of_s3(backend: Backend, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    from genro_storage_django.backends.base import _Translated

    fs = backend.fs
    bucket, _, key = fs._strip_protocol(path).rstrip("/").partition("/")
    prefix = f"{key}/" if key else ""
    pages = _S3Pages(fs, bucket, prefix)
    while True:
        with _Translated(backend, (path,)):
            page = backend.run_on_loop(pages.next)
        if page is None:
            return
        for found in page:
            name = found["Key"][len(prefix) :]
            if name and not name.endswith("/"):  # a folder marker is no file
                found["type"] = "file"
                fs._fill_info(found, bucket, versions=False)  # as s3fs's own listings
                yield name, found


class _S3Pages:
    """The pages of one listing, fetched on the filesystem's event loop one at a time."""

    def __init__(self, fs: Any, bucket: str, prefix: str) -> None:
        self.fs, self.bucket, self.prefix = fs, bucket, prefix
        self.pages: Any = None

    async def next(self) -> list[dict[str, Any]] | None:
        if self.pages is None:
            options = {"Bucket": self.bucket, "Prefix": self.prefix, **self.fs.req_kw}
            self.pages = self.fs._list_pages("list_objects_v2", **options).__aiter__()
        try:
            page = await self.pages.__anext__()
        except StopAsyncIteration:
            return None
        return list(page.get("Contents", []))
