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
from genro_storage_django.admin import listing, preview, tenancy
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
    return {
        "entry": entry,
        "url": url_for(request, "browse" if entry.is_dir else "file", mount, name),
        "download_url": None if entry.is_dir else url_for(request, "download", mount, name),
        "rename_url": url_for(request, "rename", mount, name),
        "delete_url": url_for(request, "delete", mount, name),
    }


def _list(request: HttpRequest, storage: MountStorage, path: str) -> list[Entry]:
    try:
        return storage.scandir(path)
    except NoTenant:
        raise  # a refusal (403), not a listing that failed
    except (OSError, ImproperlyConfigured) as error:
        if path and isinstance(error, NotADirectoryError):
            return []  # a file: browse() sends the user to its page
        # The reason may name hosts or keys of the mount's settings: log it only.
        logger.exception("Listing %r of mount %r failed", path, storage.mount.name)
        messages.error(request, _("This folder could not be listed."))
        return []


def browse(model_admin: BrowserAdmin, request: HttpRequest, mount: str, path: str) -> HttpResponse:
    """Show one page of a directory: folders first, sortable, filtered by name."""
    storage = mount_storage(mount)
    permitted = require(request.user, storage, "view")
    path = clean_name(path)
    listed = _list(request, storage, path)
    # A listing with entries is a folder: only an empty one costs another request.
    if path and not listed and not storage.isdir(path):
        if storage.exists(path):
            return HttpResponseRedirect(url_for(request, "file", mount, path))
        raise Http404("No such folder.")
    query = request.GET.get("q", "")
    order = listing.Order.parse(request.GET.get("o"))
    entries = listing.filter_entries(listed, query)
    page = listing.paginate(listing.sort_entries(entries, order), request.GET.get("p"))
    pages = [
        (
            number,
            # Page numbers are ints; the only other item is the ellipsis.
            listing.page_query(request.GET, number) if isinstance(number, int) else None,
        )
        for number in page.paginator.get_elided_page_range(page.number)
    ]
    return render(
        model_admin,
        request,
        "directory.html",
        title=path.rsplit("/", 1)[-1] if path else storage.mount.name,
        rows=[_row(request, mount, path, entry) for entry in page],
        page=page,
        pages=pages,
        query=query,
        sort=listing.sort_links(request.GET, order),
        upload_form=UploadForm(),
        folder_form=FolderForm(),
        upload_url=url_for(request, "upload", mount, path),
        mkdir_url=url_for(request, "mkdir", mount, path),
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
