"""Object stores listed one list request at a time, in key order (s3, gcs, azure).

S3, GCS and Azure Blob list keys in key order (UTF-8 bytes), a page per
request, with a token to ask for the next. Each adapter answers one question
in its SDK's terms (``list_page_async``); this class turns it into the
``Backend`` contract's ``scandir_page()`` and ``find()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from genro_storage_django.backends.base import Entry, _key_order
from genro_storage_django.backends.objectstore import ObjectStoreBackend


@dataclass(frozen=True)
class ListPage:
    """One answer to a list request."""

    #: ``(key, info)`` of each object listed, ``info`` as the fsspec class's own listings give it.
    objects: list[tuple[str, dict[str, Any]]]
    #: The key prefixes that stand for folders, each ending in "/" (with a delimiter only).
    folders: list[str]
    #: What asks for the next page; None after the last.
    token: str | None


class PagedObjectStoreBackend(ObjectStoreBackend):
    """An object store whose list requests page through the keys in key order."""

    lists_in_key_order = True
    #: Keys asked for by each list request of ``find()``: the service's largest page.
    find_page_size: ClassVar[int] = 1000

    async def list_page_async(
        self, prefix: str, delimiter: str, limit: int, token: str | None
    ) -> ListPage:
        """Return one page of at most ``limit`` keys starting with ``prefix``, from ``token``
        (None: the first page); with ``delimiter`` "/", the keys below each subfolder are
        given as that folder, without ``delimiter`` every key is."""
        raise NotImplementedError(
            "subclasses of PagedObjectStoreBackend must provide list_page_async()"
        )

    def folder_prefix(self, path: str) -> str:
        """Return the prefix of the keys below directory ``path``: its key and "/"."""
        key = self.key(path)
        return f"{key}/" if key else ""

    def scandir_page(
        self, path: str, limit: int, token: str | None
    ) -> tuple[list[Entry], str | None]:
        prefix = self.folder_prefix(path)
        page = self.run_on_loop(self.list_page_async, prefix, "/", limit, token)
        folders = {folder[len(prefix) :].rstrip("/") for folder in page.folders}
        files = []
        for key, info in page.objects:
            name = key[len(prefix) :]
            if not name or name.endswith("/"):
                continue  # the folder's own marker object
            if info.get("type") == "directory":
                # A marker without "/" (Azure's hdi_isfolder): a folder, as scandir() shows it.
                folders.add(name)
            else:
                files.append(self.entry(name, info))
        entries = [Entry(name, True) for name in folders] + files
        return sorted(entries, key=_key_order), page.token

    def find(self, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        if getattr(self.fs, "version_aware", False):
            # A version-aware listing holds every version of a key: the fsspec
            # class's own find() sorts that out.
            found = (pair for pair in super().find(path) if not _is_marker(*pair))
            yield from sorted(found, key=lambda pair: pair[0])
            return
        prefix = self.folder_prefix(path)
        token = None
        while True:
            # One page in memory at a time: the next is asked for once this one is consumed.
            page = self.run_on_loop(self.list_page_async, prefix, "", self.find_page_size, token)
            for key, info in page.objects:
                name = key[len(prefix) :]
                if not _is_marker(name, info):
                    yield name, info
            if page.token is None:
                return
            token = page.token


def _is_marker(name: str, info: dict[str, Any]) -> bool:
    """Return True if the object ``name`` of fsspec's ``info`` marks a folder: no file."""
    # fsspec keeps the "/" of a marker's key in some names only.
    slashed = name.endswith("/") or str(info.get("name", "")).endswith("/")
    return not name or slashed or info.get("type", "file") != "file"
