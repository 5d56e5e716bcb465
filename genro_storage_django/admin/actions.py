"""The browser's state-changing views: upload, new folder, rename or move, delete.

Each checks its own permission first; the storage refuses again whatever the
mount does not allow (see ``StorageAdmin._wrap``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from genro_storage_django.admin import cache, listing, preview
from genro_storage_django.admin.access import mount_storage, require
from genro_storage_django.admin.forms import FolderForm, RenameForm, UploadForm
from genro_storage_django.admin.rendering import BrowserAdmin, mount_context, render, url_for
from genro_storage_django.names import clean_name
from genro_storage_django.storage import MountStorage


def post_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer 405 to anything but POST (``require_POST`` for views taking the admin first)."""

    @wraps(view)
    def wrapper(model_admin: BrowserAdmin, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return view(model_admin, request, *args, **kwargs)

    return wrapper


def _done(request: HttpRequest, location: str) -> HttpResponse:
    # The upload script posts with XMLHttpRequest and navigates itself, so the
    # messages are shown by that page instead of being used up by a redirect.
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return JsonResponse({"location": location})
    return HttpResponseRedirect(location)


def upload_folder(request: HttpRequest, directory: str) -> str:
    """Return the folder an upload goes to: ``directory``, or below it as ``relative_path`` says.

    The drop zone posts each file of a dropped folder with its path inside it.
    """
    relative = request.POST.get("relative_path", "")
    if not relative:
        return directory
    return clean_name(listing.join(directory, clean_name(posixpath.dirname(relative))))


@post_only
def upload(model_admin: BrowserAdmin, request: HttpRequest, mount: str, path: str) -> HttpResponse:
    """Save the posted files into directory ``path``; existing names get a new one."""
    storage = mount_storage(mount)
    require(request.user, storage, "add")
    directory = clean_name(path)
    folder = upload_folder(request, directory)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose at least one file to upload."))
        return _done(request, url_for(request, "browse", mount, directory))
    saved = [
        storage.save(listing.join(folder, upload.name), upload)
        for upload in form.cleaned_data["files"]
    ]
    cache.changed(storage)
    if request.POST.get("quiet") == "1":  # one file of many: the page shows the progress
        return _done(request, url_for(request, "browse", mount, directory))
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
    return _done(request, url_for(request, "browse", mount, directory))


@post_only
def mkdir(model_admin: BrowserAdmin, request: HttpRequest, mount: str, path: str) -> HttpResponse:
    """Create a folder inside directory ``path``."""
    storage = mount_storage(mount)
    require(request.user, storage, "add")
    directory = clean_name(path)
    form = FolderForm(request.POST)
    location = url_for(request, "browse", mount, directory)
    if not form.is_valid():
        messages.error(request, _("Enter a name for the new folder."))
        return HttpResponseRedirect(location)
    name = clean_name(listing.join(directory, form.cleaned_data["name"]))
    if name == directory or storage.exists(name):
        messages.error(request, _("“%(name)s” already exists.") % {"name": name})
        return HttpResponseRedirect(location)
    storage.makedirs(name)
    cache.changed(storage)
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
        # The backend makes the parent folders the new name needs.
        return storage.move(name, new_name)
    except FileExistsError:
        form.add_error("new_name", _("“%(name)s” already exists.") % {"name": new_name})
    return None


def rename(model_admin: BrowserAdmin, request: HttpRequest, mount: str, path: str) -> HttpResponse:
    """Rename or move a file or a folder within its mount."""
    storage = mount_storage(mount)
    permitted = require(request.user, storage, "change")
    name, is_dir = _existing(storage, path)
    form = RenameForm(request.POST or None, initial={"new_name": name})
    if request.method == "POST" and form.is_valid():
        new_name = _move(storage, form, name, is_dir)
        cache.changed(storage)
        if new_name is not None:
            messages.success(
                request, _("Renamed “%(old)s” to “%(new)s”.") % {"old": name, "new": new_name}
            )
            return HttpResponseRedirect(url_for(request, "browse", mount, listing.parent(new_name)))
    return render(
        model_admin,
        request,
        "rename.html",
        title=_("Rename “%(name)s”") % {"name": posixpath.basename(name)},
        form=form,
        is_dir=is_dir,
        action_url=url_for(request, "rename", mount, name),
        cancel_url=url_for(request, "browse" if is_dir else "file", mount, name),
        extra_crumb=True,
        **mount_context(request, storage, name, permitted),
    )


def delete(model_admin: BrowserAdmin, request: HttpRequest, mount: str, path: str) -> HttpResponse:
    """Confirm, then delete a file, or a folder with everything in it."""
    storage = mount_storage(mount)
    permitted = require(request.user, storage, "delete")
    name, is_dir = _existing(storage, path)
    location = url_for(request, "browse", mount, listing.parent(name))
    if request.method == "POST":
        if is_dir:
            storage.delete_tree(name)
        else:
            storage.delete(name)
        cache.changed(storage)
        messages.success(request, _("Deleted “%(name)s”.") % {"name": name})
        return HttpResponseRedirect(location)
    contents, truncated = preview.folder_contents(storage, name) if is_dir else ([], False)
    return render(
        model_admin,
        request,
        "delete.html",
        title=_("Are you sure?"),
        name=name,
        is_dir=is_dir,
        contents=contents,
        truncated=truncated,
        action_url=url_for(request, "delete", mount, name),
        cancel_url=url_for(request, "browse" if is_dir else "file", mount, name),
        extra_crumb=True,
        **mount_context(request, storage, name, permitted),
    )
