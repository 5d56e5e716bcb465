"""The browser's views. Each takes the ``StorageAdmin`` first; ``StorageAdmin.get_urls``
wraps them in ``admin_view`` (active staff only, CSRF) and turns a refusal of the
mount into ``PermissionDenied``.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from genro_storage_django.admin import listing, preview
from genro_storage_django.admin.access import (
    Allowed,
    allowed,
    mount_storage,
    require,
    user_can,
    visible_mounts,
)
from genro_storage_django.admin.forms import FolderForm, RenameForm, UploadForm
from genro_storage_django.backends.base import Entry
from genro_storage_django.names import clean_name
from genro_storage_django.storage import MountStorage, get_storage
from genro_storage_django.views import guess_content_type

if TYPE_CHECKING:
    from genro_storage_django.admin.options import StorageAdmin

logger = logging.getLogger(__name__)

URL_PREFIX = "admin:genro_storage_django_storagemount"
TEMPLATE_DIR = "genro_storage_django/admin"


def post_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer 405 to anything but POST (``require_POST`` for views taking the admin first)."""

    @wraps(view)
    def wrapper(model_admin: StorageAdmin, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return view(model_admin, request, *args, **kwargs)

    return wrapper


def url_for(view: str, mount: str, path: str = "") -> str:
    """Return the URL of browser ``view`` for ``path`` in ``mount``."""
    return reverse(f"{URL_PREFIX}_{view}", kwargs={"mount": mount, "path": path})


def _render(
    model_admin: StorageAdmin, request: HttpRequest, template: str, **context: Any
) -> TemplateResponse:
    opts = model_admin.opts
    full = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "mounts_url": reverse(f"{URL_PREFIX}_changelist"),
        **context,
    }
    return TemplateResponse(request, f"{TEMPLATE_DIR}/{template}", full)


def _mount_context(storage: MountStorage, path: str, permitted: Allowed) -> dict[str, Any]:
    mount = storage.mount.name
    return {
        "mount": storage.mount,
        "path": path,
        "allowed": permitted,
        "crumbs": [
            (label, url_for("browse", mount, crumb)) for label, crumb in listing.breadcrumbs(path)
        ],
    }


def _done(request: HttpRequest, location: str) -> HttpResponse:
    # The upload script posts with XMLHttpRequest and navigates itself, so the
    # messages are shown by that page instead of being used up by a redirect.
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return JsonResponse({"location": location})
    return HttpResponseRedirect(location)


def mount_list(model_admin: StorageAdmin, request: HttpRequest) -> HttpResponse:
    """List the mounts the user may browse, with their type and permissions."""
    if not user_can(request.user, "view"):
        raise PermissionDenied
    rows = []
    for name in visible_mounts():
        storage = get_storage(name)
        rows.append(
            {
                "mount": storage.mount,
                "url": url_for("browse", name),
                "allowed": allowed(request.user, storage),
            }
        )
    return _render(model_admin, request, "mounts.html", title=_("Storage mounts"), rows=rows)


def _row(mount: str, directory: str, entry: Entry) -> dict[str, Any]:
    name = listing.join(directory, entry.name)
    return {
        "entry": entry,
        "url": url_for("browse" if entry.is_dir else "file", mount, name),
        "download_url": None if entry.is_dir else url_for("download", mount, name),
        "rename_url": url_for("rename", mount, name),
        "delete_url": url_for("delete", mount, name),
    }


def _list(request: HttpRequest, storage: MountStorage, path: str) -> list[Entry]:
    try:
        return storage.scandir(path)
    except (OSError, ImproperlyConfigured):
        # The reason may name hosts or keys of the mount's settings: log it only.
        logger.exception("Listing %r of mount %r failed", path, storage.mount.name)
        messages.error(request, _("This folder could not be listed."))
        return []


def browse(model_admin: StorageAdmin, request: HttpRequest, mount: str, path: str) -> HttpResponse:
    """Show one page of a directory: folders first, sortable, filtered by name."""
    storage = mount_storage(mount)
    permitted = require(request.user, storage, "view")
    path = clean_name(path)
    if path and not storage.isdir(path):
        if storage.exists(path):
            return HttpResponseRedirect(url_for("file", mount, path))
        raise Http404("No such folder.")
    query = request.GET.get("q", "")
    order = listing.Order.parse(request.GET.get("o"))
    entries = listing.filter_entries(_list(request, storage, path), query)
    page = listing.paginate(listing.sort_entries(entries, order), request.GET.get("p"))
    pages = [
        (
            number,
            # Page numbers are ints; the only other item is the ellipsis.
            listing.page_query(request.GET, number) if isinstance(number, int) else None,
        )
        for number in page.paginator.get_elided_page_range(page.number)
    ]
    return _render(
        model_admin,
        request,
        "directory.html",
        title=path.rsplit("/", 1)[-1] if path else storage.mount.name,
        rows=[_row(mount, path, entry) for entry in page],
        page=page,
        pages=pages,
        query=query,
        sort=listing.sort_links(request.GET, order),
        upload_form=UploadForm(),
        folder_form=FolderForm(),
        upload_url=url_for("upload", mount, path),
        mkdir_url=url_for("mkdir", mount, path),
        **_mount_context(storage, path, permitted),
    )


def detail(model_admin: StorageAdmin, request: HttpRequest, mount: str, path: str) -> HttpResponse:
    """Show a file's size, time, type and URL, with a preview of images and text."""
    storage = mount_storage(mount)
    permitted = require(request.user, storage, "view")
    name = clean_name(path)
    if not name or storage.isdir(name):
        return HttpResponseRedirect(url_for("browse", mount, name))
    try:
        details = preview.file_details(storage, name)
    except FileNotFoundError:
        raise Http404("No such file.") from None
    return _render(
        model_admin,
        request,
        "detail.html",
        title=posixpath.basename(name),
        file=details,
        download_url=url_for("download", mount, name),
        rename_url=url_for("rename", mount, name),
        delete_url=url_for("delete", mount, name),
        **_mount_context(storage, name, permitted),
    )


def download(
    model_admin: StorageAdmin, request: HttpRequest, mount: str, path: str
) -> HttpResponseBase:
    """Stream a file through the storage; ``?inline=1`` shows raster images in place."""
    storage = mount_storage(mount)
    require(request.user, storage, "view")
    name = clean_name(path)
    if not name or storage.isdir(name):
        raise Http404("Folders cannot be downloaded.")
    content_type = guess_content_type(name)
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


@post_only
def upload(model_admin: StorageAdmin, request: HttpRequest, mount: str, path: str) -> HttpResponse:
    """Save the posted files into directory ``path``; existing names get a new one."""
    storage = mount_storage(mount)
    require(request.user, storage, "add")
    directory = clean_name(path)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose at least one file to upload."))
        return _done(request, url_for("browse", mount, directory))
    saved = [
        storage.save(listing.join(directory, upload.name), upload)
        for upload in form.cleaned_data["files"]
    ]
    names = ", ".join(posixpath.basename(name) for name in saved)
    messages.success(
        request,
        ngettext(
            "Uploaded %(count)d file: %(names)s.",
            "Uploaded %(count)d files: %(names)s.",
            len(saved),
        )
        % {"count": len(saved), "names": names},
    )
    return _done(request, url_for("browse", mount, directory))


@post_only
def mkdir(model_admin: StorageAdmin, request: HttpRequest, mount: str, path: str) -> HttpResponse:
    """Create a folder inside directory ``path``."""
    storage = mount_storage(mount)
    require(request.user, storage, "add")
    directory = clean_name(path)
    form = FolderForm(request.POST)
    location = url_for("browse", mount, directory)
    if not form.is_valid():
        messages.error(request, _("Enter a name for the new folder."))
        return HttpResponseRedirect(location)
    name = clean_name(listing.join(directory, form.cleaned_data["name"]))
    if name == directory or storage.exists(name):
        messages.error(request, _("“%(name)s” already exists.") % {"name": name})
        return HttpResponseRedirect(location)
    storage.makedirs(name)
    messages.success(request, _("Created the folder “%(name)s”.") % {"name": name})
    return HttpResponseRedirect(location)


def _existing(storage: MountStorage, path: str) -> tuple[str, bool]:
    """Return the clean name of an existing file or folder (not the root) and if it is a folder."""
    name = clean_name(path)
    if not name:
        raise Http404("The root of a mount cannot be changed.")
    is_dir = storage.isdir(name)
    if not is_dir and not storage.exists(name):
        raise Http404("No such file.")
    return name, is_dir


def _move(storage: MountStorage, form: RenameForm, name: str, is_dir: bool) -> str | None:
    """Move ``name`` as the valid ``form`` asks; return the new name, or None after a form error."""
    new_name = clean_name(form.cleaned_data["new_name"])
    if not new_name or new_name == name:
        form.add_error("new_name", _("Enter a different name."))
        return None
    if is_dir and new_name.startswith(f"{name}/"):
        form.add_error("new_name", _("A folder cannot be moved inside itself."))
        return None
    try:
        if listing.parent(new_name):
            # Some filesystems (local) cannot move into a folder that is not there yet.
            storage.makedirs(listing.parent(new_name))
        return storage.move(name, new_name)
    except FileExistsError:
        form.add_error("new_name", _("“%(name)s” already exists.") % {"name": new_name})
    return None


def rename(model_admin: StorageAdmin, request: HttpRequest, mount: str, path: str) -> HttpResponse:
    """Rename or move a file or a folder within its mount."""
    storage = mount_storage(mount)
    permitted = require(request.user, storage, "change")
    name, is_dir = _existing(storage, path)
    form = RenameForm(request.POST or None, initial={"new_name": name})
    if request.method == "POST" and form.is_valid():
        new_name = _move(storage, form, name, is_dir)
        if new_name is not None:
            messages.success(
                request, _("Renamed “%(old)s” to “%(new)s”.") % {"old": name, "new": new_name}
            )
            return HttpResponseRedirect(url_for("browse", mount, listing.parent(new_name)))
    return _render(
        model_admin,
        request,
        "rename.html",
        title=_("Rename “%(name)s”") % {"name": posixpath.basename(name)},
        form=form,
        is_dir=is_dir,
        action_url=url_for("rename", mount, name),
        cancel_url=url_for("browse" if is_dir else "file", mount, name),
        extra_crumb=True,
        **_mount_context(storage, name, permitted),
    )


def delete(model_admin: StorageAdmin, request: HttpRequest, mount: str, path: str) -> HttpResponse:
    """Confirm, then delete a file, or a folder with everything in it."""
    storage = mount_storage(mount)
    permitted = require(request.user, storage, "delete")
    name, is_dir = _existing(storage, path)
    location = url_for("browse", mount, listing.parent(name))
    if request.method == "POST":
        if is_dir:
            storage.delete_tree(name)
        else:
            storage.delete(name)
        messages.success(request, _("Deleted “%(name)s”.") % {"name": name})
        return HttpResponseRedirect(location)
    contents, truncated = preview.folder_contents(storage, name) if is_dir else ([], False)
    return _render(
        model_admin,
        request,
        "delete.html",
        title=_("Are you sure?"),
        name=name,
        is_dir=is_dir,
        contents=contents,
        truncated=truncated,
        action_url=url_for("delete", mount, name),
        cancel_url=url_for("browse" if is_dir else "file", mount, name),
        extra_crumb=True,
        **_mount_context(storage, name, permitted),
    )
