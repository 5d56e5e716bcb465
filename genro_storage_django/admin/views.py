"""The browser's read-only views: the mount list, a directory, a file, a download.

Each view takes the ``StorageAdmin`` first; ``StorageAdmin.get_urls`` wraps
them in ``admin_view`` (active staff only, CSRF) and turns a refusal of the
mount into ``PermissionDenied``. The views that change files are in
``actions.py``; what both render with is in ``rendering.py``.
"""

from __future__ import annotations

import logging
import posixpath
from typing import Any

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.paginator import Page
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.utils.translation import gettext as _

from genro_storage_django import content_types
from genro_storage_django.admin import (
    cache,
    direct,
    folders,
    listing,
    preview,
    tenancy,
    thumbnails,
    tree,
)
from genro_storage_django.admin.access import (
    allowed,
    mount_storage,
    require,
    user_can,
    visible_mounts,
)
from genro_storage_django.admin.forms import FolderForm, UploadForm
from genro_storage_django.admin.rendering import (
    BrowserAdmin,
    mount_context,
    render,
    tenant_url,
    url_for,
)
from genro_storage_django.backends.base import Entry
from genro_storage_django.exceptions import NoTenant
from genro_storage_django.names import clean_name
from genro_storage_django.storage import MountStorage, get_storage

logger = logging.getLogger(__name__)


def mount_list(model_admin: BrowserAdmin, request: HttpRequest) -> HttpResponse:
    """List the mounts the user may browse, with their type and permissions."""
    if not user_can(request.user, "view"):
        raise PermissionDenied
    rows = []
    per_tenant = False
    for name in visible_mounts():
        storage = get_storage(name)
        per_tenant = per_tenant or bool(storage.mount.tenant)
        rows.append(
            {
                "mount": storage.mount,
                "url": url_for(request, "browse", name),
                "allowed": allowed(request.user, storage),
            }
        )
    return render(
        model_admin,
        request,
        "mounts.html",
        title=_("Storage mounts"),
        rows=rows,
        tenant_switch=tenancy.switcher(request) if per_tenant else None,
        tenant_url=tenant_url(request),
    )


def _row(request: HttpRequest, mount: str, directory: str, entry: Entry) -> dict[str, Any]:
    name = listing.join(directory, entry.name)
    is_file = not entry.is_dir
    return {
        "entry": entry,
        "name": name,
        # The grid's placeholder for files without a thumbnail: "PDF", "TXT"…
        "extension": posixpath.splitext(entry.name)[1][1:5].upper(),
        "url": url_for(request, "browse" if entry.is_dir else "file", mount, name),
        "download_url": url_for(request, "download", mount, name) if is_file else None,
        "rename_url": url_for(request, "rename", mount, name),
        "delete_url": url_for(request, "delete", mount, name),
        "thumbnail_url": (
            url_for(request, "thumbnail", mount, name)
            if is_file and thumbnails.may_have_thumbnail(name, entry.size)
            else None
        ),
    }


def _list(
    request: HttpRequest, storage: MountStorage, path: str, need: int | None
) -> folders.Listing:
    try:
        return folders.list_folder(storage, path, need)
    except NoTenant:
        raise  # a refusal (403), not a listing that failed
    except (OSError, ImproperlyConfigured) as error:
        if path and isinstance(error, NotADirectoryError):
            return folders.Listing()  # a file: browse() sends the user to its page
        # The reason may name hosts or keys of the mount's settings: log it only.
        logger.exception("Listing %r of mount %r failed", path, storage.mount.name)
        messages.error(request, _("This folder could not be listed."))
        return folders.Listing()


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def _entries(
    request: HttpRequest, storage: MountStorage, path: str, order: listing.Order
) -> tuple[list[Entry], folders.Listing | None, bool]:
    """Return the entries to page through, the folder's listing, and whether it was searched.

    Sorted by name on a large object-store folder, the entries stay in the
    store's key order and only the list pages up to the page shown are fetched.
    """
    query = request.GET.get("q", "")
    if query.strip() and request.GET.get("r") == "1":
        found = tree.search(storage, path, query)
        return listing.sort_entries(found, order), None, True
    by_key = order == listing.Order() and not query
    need = _page_number(request.GET.get("p")) * listing.PER_PAGE + 1 if by_key else None
    listed = _list(request, storage, path, need)
    if listed.keyed and order.field == "name" and not query:
        entries = listed.entries[::-1] if order.descending else listed.entries
        return entries, listed, False
    entries = listing.filter_entries(listed.entries, query)
    return listing.sort_entries(entries, order), listed, False


def _partial_page(
    request: HttpRequest, entries: list[Entry], listed: folders.Listing
) -> dict[str, Any]:
    """Return one page of a folder listed only up to it: its number and neighbours."""
    number = _page_number(request.GET.get("p"))
    start = (number - 1) * listing.PER_PAGE
    return {
        "number": number,
        "entries": entries[start : start + listing.PER_PAGE],
        "known": len(entries),
        "previous": listing.page_query(request.GET, number - 1) if number > 1 else None,
        "next": listing.page_query(request.GET, number + 1),
    }


def _across(page: Page | None, partial: dict[str, Any] | None) -> dict[str, int | None] | None:
    """Return what "Select all" offers past this page (None: all is on it).

    A folder listed only up to this page has no count: counting would list it all.
    """
    if partial is not None:
        return {"count": None}
    if page is not None and page.paginator.num_pages > 1:
        return {"count": page.paginator.count}
    return None


def browse(model_admin: BrowserAdmin, request: HttpRequest, mount: str, path: str) -> HttpResponse:
    """Show one page of a directory: folders first, sortable, filtered or searched by name."""
    storage = mount_storage(mount)
    permitted = require(request.user, storage, "view")
    path = clean_name(path)
    if "refresh" in request.GET:
        cache.changed(storage)
        params = request.GET.copy()
        del params["refresh"]
        location = url_for(request, "browse", mount, path)
        return HttpResponseRedirect(f"{location}?{params.urlencode()}" if params else location)
    order = listing.Order.parse(request.GET.get("o"))
    entries, listed, searched = _entries(request, storage, path, order)
    # A listing with entries is a folder: only an empty one costs another request.
    if path and not searched and not entries and not storage.isdir(path):
        if storage.exists(path):
            return HttpResponseRedirect(url_for(request, "file", mount, path))
        raise Http404("No such folder.")
    partial = None
    if listed is not None and not listed.complete:
        partial = _partial_page(request, entries, listed)
        page_entries, page, pages = partial["entries"], None, []
    else:
        page = listing.paginate(entries, request.GET.get("p"))
        page_entries = list(page)
        pages = [
            (
                number,
                # Page numbers are ints; the only other item is the ellipsis.
                listing.page_query(request.GET, number) if isinstance(number, int) else None,
            )
            for number in page.paginator.get_elided_page_range(page.number)
        ]
    grid = request.GET.get("view") == "grid"
    return render(
        model_admin,
        request,
        "directory.html",
        title=path.rsplit("/", 1)[-1] if path else storage.mount.name,
        rows=[_row(request, mount, path, entry) for entry in page_entries],
        page=page,
        pages=pages,
        partial=partial,
        across=_across(page, partial),
        keyed=listed is not None and listed.keyed,
        cached=cache.cached_mount(storage),
        searched=searched,
        query=request.GET.get("q", ""),
        recursive=request.GET.get("r") == "1",
        grid=grid,
        view_links=listing.view_links(request.GET),
        refresh_query=listing.with_param(request.GET, "refresh", "1"),
        sort=listing.sort_links(request.GET, order),
        upload_form=UploadForm(),
        folder_form=FolderForm(),
        upload_url=url_for(request, "upload", mount, path),
        mkdir_url=url_for(request, "mkdir", mount, path),
        bulk_url=url_for(request, "bulk", mount, path),
        **(direct.page_context(request, storage, path) if permitted.add else {}),
        **mount_context(request, storage, path, permitted),
    )


def detail(model_admin: BrowserAdmin, request: HttpRequest, mount: str, path: str) -> HttpResponse:
    """Show a file's size, time, type and URL, with a preview of images and text."""
    storage = mount_storage(mount)
    permitted = require(request.user, storage, "view")
    name = clean_name(path)
    if not name or storage.isdir(name):
        return HttpResponseRedirect(url_for(request, "browse", mount, name))
    try:
        details = preview.file_details(storage, name)
    except FileNotFoundError:
        raise Http404("No such file.") from None
    return render(
        model_admin,
        request,
        "detail.html",
        title=posixpath.basename(name),
        file=details,
        download_url=url_for(request, "download", mount, name),
        rename_url=url_for(request, "rename", mount, name),
        delete_url=url_for(request, "delete", mount, name),
        **mount_context(request, storage, name, permitted),
    )


def download(
    model_admin: BrowserAdmin, request: HttpRequest, mount: str, path: str
) -> HttpResponseBase:
    """Stream a file through the storage; ``?inline=1`` shows raster images in place."""
    storage = mount_storage(mount)
    require(request.user, storage, "view")
    name = clean_name(path)
    if not name or storage.isdir(name):
        raise Http404("Folders cannot be downloaded.")
    content_type = content_types.content_type(name)
    inline = request.GET.get("inline") == "1" and preview.is_image(content_type)
    try:
        handle = storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404("No such file.") from None
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=posixpath.basename(name),
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
