"""Every item a folder page pages through, at once: "Select all N items" across its pages.

As in Django's admin change list, the page then posts ``select_across=1``
with its filter (``q``, and ``r`` for a search of all subfolders) instead of
names; the folder is the one of the URL. The page's list is never trusted:
the server lists the folder again as the page did (``folders.list_folder``,
so an object store's cached listing, cleared by every write of the browser),
or searches below it, and every name found goes through ``clean_name`` as a
posted one does. The bulk view checks the user and the mount, as for names.

A confirmation page posts back the ``digest`` of the names it listed: if the
folder changed in between, the action is not run on names nobody saw.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.http import HttpRequest

from genro_storage_django.admin import folders, listing, tree
from genro_storage_django.admin.selection import Item
from genro_storage_django.names import clean_name
from genro_storage_django.storage import MountStorage


@dataclass(frozen=True)
class Across:
    """The filter of the folder page whose items were all selected."""

    query: str = ""
    recursive: bool = False

    @classmethod
    def posted(cls, request: HttpRequest) -> Across | None:
        """Return the selection across pages posted with ``request``, or None for named items."""
        if request.POST.get("select_across") != "1":
            return None
        query = request.POST.get("q", "")
        return cls(query, bool(query.strip()) and request.POST.get("r") == "1")

    def items(self, storage: MountStorage, directory: str) -> list[Item]:
        """Return the items the page of ``directory`` pages through, outermost ones only."""
        if self.recursive:
            entries = tree.search(storage, directory, self.query)
        else:
            listed = folders.list_folder(storage, directory).entries
            entries = listing.filter_entries(listed, self.query)
        return outermost(
            [Item(clean_name(listing.join(directory, e.name)), e.is_dir) for e in entries]
        )


def outermost(items: list[Item]) -> list[Item]:
    """Drop the items below another selected folder: deleting the folder covers them."""
    selected = {item.name for item in items if item.is_dir}
    return [item for item in items if not any(a in selected for a in _ancestors(item.name))]


def _ancestors(name: str) -> list[str]:
    parts = name.split("/")
    return ["/".join(parts[:end]) for end in range(1, len(parts))]


def digest(items: list[Item]) -> str:
    """Return a fingerprint of the names and kinds of ``items``, in their order."""
    hashed = hashlib.sha256()
    for item in items:
        hashed.update(f"{item.name}\0{int(item.is_dir)}\0".encode())
    return hashed.hexdigest()
