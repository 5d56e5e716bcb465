"""Directory listings for the browser: filter, sort (folders first), paginate, breadcrumbs."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import QueryDict
from django.utils.translation import gettext as _

from genro_storage_django.backends.base import Entry

PER_PAGE = 100
ORDER_FIELDS = ("name", "size", "modified")

_SORT_KEYS: dict[str, Callable[[Entry], Any]] = {
    "name": lambda entry: (entry.name.casefold(), entry.name),
    "size": lambda entry: (entry.size or 0, entry.name.casefold()),
    # Naive and aware datetimes do not compare: compare timestamps.
    "modified": lambda entry: (
        entry.modified.timestamp() if entry.modified else float("-inf"),
        entry.name.casefold(),
    ),
}


@dataclass(frozen=True)
class Order:
    """The column a listing is sorted by, and its direction."""

    field: str = "name"
    descending: bool = False

    @classmethod
    def parse(cls, value: str | None) -> Order:
        """Return the order of a ``?o=`` value such as ``-size``; by name if unknown."""
        value = value or ""
        descending = value.startswith("-")
        field = value.lstrip("-")
        if field not in ORDER_FIELDS:
            return cls()
        return cls(field, descending)

    def __str__(self) -> str:
        return f"-{self.field}" if self.descending else self.field


def filter_entries(entries: list[Entry], query: str) -> list[Entry]:
    """Keep the entries whose name contains ``query``, ignoring case."""
    needle = query.strip().casefold()
    if not needle:
        return entries
    return [entry for entry in entries if needle in entry.name.casefold()]


def sort_entries(entries: list[Entry], order: Order) -> list[Entry]:
    """Return folders then files, each group sorted by ``order``."""
    key = _SORT_KEYS[order.field]
    folders = sorted((e for e in entries if e.is_dir), key=key, reverse=order.descending)
    files = sorted((e for e in entries if not e.is_dir), key=key, reverse=order.descending)
    return folders + files


def paginate(entries: list[Entry], page_number: str | None) -> Page:
    """Return the requested page of ``entries``; the last or first page if out of range."""
    return Paginator(entries, PER_PAGE).get_page(page_number)


def sort_links(query: QueryDict, order: Order) -> dict[str, dict[str, Any]]:
    """Return, per column, the query string that sorts by it and its current state."""
    links = {}
    for field in ORDER_FIELDS:
        params = query.copy()
        params.pop("p", None)
        current = order.field == field
        params["o"] = f"-{field}" if current and not order.descending else field
        links[field] = {
            "query": params.urlencode(),
            "sorted": current,
            "descending": current and order.descending,
        }
    return links


def page_query(query: QueryDict, number: int) -> str:
    """Return ``query`` with the page number set to ``number``."""
    params = query.copy()
    params["p"] = str(number)
    return params.urlencode()


def with_param(query: QueryDict, key: str, value: str) -> str:
    """Return ``query`` with ``key`` set to ``value``."""
    params = query.copy()
    params[key] = value
    return params.urlencode()


def view_links(query: QueryDict) -> dict[str, str]:
    """Return the query strings of the list view and of the grid view of a folder page."""
    params = query.copy()
    params.pop("view", None)
    return {"list": params.urlencode(), "grid": with_param(query, "view", "grid")}


def breadcrumbs(path: str) -> list[tuple[str, str]]:
    """Return ``(label, path)`` pairs from the mount root down to ``path``."""
    crumbs = [(_("Root"), "")]
    parts = path.split("/") if path else []
    for index, part in enumerate(parts):
        crumbs.append((part, "/".join(parts[: index + 1])))
    return crumbs


def join(directory: str, name: str) -> str:
    """Return the mount name of ``name`` inside ``directory`` (the root is ``""``)."""
    return posixpath.join(directory, name) if directory else name


def parent(name: str) -> str:
    """Return the directory holding ``name`` (``""`` for the root)."""
    return posixpath.dirname(name)
