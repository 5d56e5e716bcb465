"""Bulk actions on the files and folders selected on a folder page.

One POST endpoint per mount: ``action`` says what to do with the posted
``names``, or on every item of the folder page (``select_across``, see
``across.py``). ``zip`` answers with the archive at once; ``delete``, ``move``
and ``copy`` first show a page that lists the selection (and asks where to),
and act when that page is posted back with ``confirm``. Each request checks
the user's permission on the mount of the URL (and, for a copy, on the target
mount) and each name again (``selection.selected``).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from genro_storage_django.admin import across, cache, preview, selection, zipstream
from genro_storage_django.admin.access import (
    Allowed,
    allowed,
    mount_storage,
    require,
    visible_mounts,
)
from genro_storage_django.admin.actions import post_only
from genro_storage_django.admin.listing import join
from genro_storage_django.admin.rendering import BrowserAdmin, mount_context, render, url_for
from genro_storage_django.admin.selection import Item
from genro_storage_django.names import clean_name
from genro_storage_django.storage import MountStorage, get_storage
from genro_storage_django.transfer import copy as transfer_copy

#: Browser action -> the permission (``access.PERMISSIONS``) it needs on the mount.
ACTIONS = {"download": "view", "delete": "delete", "move": "change", "copy": "view"}
#: The largest copy made while the page waits (``STORAGE_ADMIN_COPY_MAX_FILES`` / ``_BYTES``).
COPY_MAX_FILES = 1000
COPY_MAX_BYTES = 256 * 1024 * 1024
#: A confirmation page names at most this many items, then says how many more.
SHOWN = 100


class _Bulk:
    """What every bulk handler needs: the request, the mount, the folder and the items."""

    def __init__(
        self,
        model_admin: BrowserAdmin,
        request: HttpRequest,
        storage: MountStorage,
        directory: str,
        items: list[Item],
        permitted: Allowed,
        selected_across: across.Across | None,
    ) -> None:
        self.model_admin, self.request, self.storage = model_admin, request, storage
        self.directory, self.items, self.permitted = directory, items, permitted
        self.across = selected_across
        self.mount = storage.mount.name
        self.back = url_for(request, "browse", self.mount, directory)
        self.digest = across.digest(items) if selected_across else ""

    @cached_property
    def confirmed(self) -> bool:
        """Return True if the confirmation page was posted back, and still lists the selection."""
        if "confirm" not in self.request.POST:
            return False
        if self.across is None or self.request.POST.get("digest") == self.digest:
            return True
        messages.warning(
            self.request, _("The folder changed since this list was shown: check it again.")
        )
        return False

    @property
    def shown(self) -> list[Item]:
        """Return the items the confirmation page names."""
        return self.items[:SHOWN]

    def confirm_page(self, action: str, title: str, **context: Any) -> HttpResponse:
        rows = context.pop("rows", None) or [{"item": item} for item in self.shown]
        return render(
            self.model_admin,
            self.request,
            "bulk.html",
            title=title,
            action=action,
            items=[] if self.across else self.items,
            count=len(self.items),
            more=len(self.items) - len(rows),
            across=self.across,
            digest=self.digest,
            rows=rows,
            action_url=url_for(self.request, "bulk", self.mount, self.directory),
            cancel_url=self.back,
            extra_crumb=True,
            **context,
            **mount_context(self.request, self.storage, self.directory, self.permitted),
        )

    def done(self) -> HttpResponse:
        return HttpResponseRedirect(self.back)


@post_only
def bulk(model_admin: BrowserAdmin, request: HttpRequest, mount: str, path: str) -> HttpResponse:
    """Run the posted ``action`` on the posted ``names`` of ``mount``, or on all the page lists."""
    storage = mount_storage(mount)
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        return HttpResponseBadRequest("Unknown action.")
    permitted = require(request.user, storage, ACTIONS[action])
    directory = clean_name(path)
    selected_across = across.Across.posted(request)
    missing: list[str] = []
    if selected_across is not None:
        items = selected_across.items(storage, directory)
    else:
        items, missing = selection.selected(request, storage)
    for name in missing:
        messages.warning(request, _("“%(name)s” does not exist.") % {"name": name})
    context = _Bulk(model_admin, request, storage, directory, items, permitted, selected_across)
    if not items:
        messages.error(request, _("Select at least one file or folder."))
        return context.done()
    handler = {"download": _zip, "delete": _delete, "move": _move, "copy": _copy}[action]
    return handler(context)


def _zip(bulk: _Bulk) -> HttpResponse:
    deflate = getattr(settings, "STORAGE_ADMIN_ZIP_DEFLATE", False)
    members = selection.members(bulk.storage, bulk.items, bulk.directory)
    response = StreamingHttpResponse(
        zipstream.stream_zip(bulk.storage, members, deflate=deflate),
        content_type="application/zip",
    )
    base = bulk.directory.rsplit("/", 1)[-1] if bulk.directory else bulk.mount
    response["Content-Disposition"] = content_disposition_header(True, f"{base}.zip")
    response["X-Content-Type-Options"] = "nosniff"
    return response  # type: ignore[return-value]


def _delete(bulk: _Bulk) -> HttpResponse:
    if not bulk.confirmed:
        rows = []
        for item in bulk.shown:
            contents, truncated = (
                preview.folder_contents(bulk.storage, item.name) if item.is_dir else ([], False)
            )
            empty = item.is_dir and not contents
            rows.append(
                {"item": item, "contents": contents, "truncated": truncated, "empty": empty}
            )
        return bulk.confirm_page("delete", _("Are you sure?"), rows=rows)
    for item in bulk.items:
        if item.is_dir:
            bulk.storage.delete_tree(item.name)
        else:
            bulk.storage.delete(item.name)
    cache.changed(bulk.storage)
    count = len(bulk.items)
    messages.success(
        bulk.request,
        ngettext("Deleted %(count)d item.", "Deleted %(count)d items.", count) % {"count": count},
    )
    return bulk.done()


def _move(bulk: _Bulk) -> HttpResponse:
    request = bulk.request
    if not bulk.confirmed:
        return bulk.confirm_page("move", _("Move to a folder"), target=bulk.directory)
    target = clean_name(request.POST.get("target", ""))
    if target and not bulk.storage.isdir(target) and bulk.storage.exists(target):
        messages.error(request, _("“%(name)s” is a file, not a folder.") % {"name": target})
        return bulk.confirm_page("move", _("Move to a folder"), target=target)
    moved = 0
    for item in bulk.items:
        error = _move_one(bulk.storage, item, target)
        if error:
            messages.error(request, error)
        else:
            moved += 1
    cache.changed(bulk.storage)
    if moved:
        messages.success(
            request,
            ngettext(
                "Moved %(count)d item to “%(target)s”.",
                "Moved %(count)d items to “%(target)s”.",
                moved,
            )
            % {"count": moved, "target": target or "/"},
        )
    return bulk.done()


def _move_one(storage: MountStorage, item: Item, target: str) -> str | None:
    """Move ``item`` into folder ``target``; return why it could not be, or None."""
    new_name = join(target, item.basename)
    if new_name == item.name:
        return _("“%(name)s” is in that folder already.") % {"name": item.name}
    if item.is_dir and (target == item.name or target.startswith(f"{item.name}/")):
        return _("A folder cannot be moved inside itself.")
    try:
        storage.move(item.name, new_name)
    except FileExistsError:
        return _("“%(name)s” already exists.") % {"name": new_name}
    return None


def copy_targets(request: HttpRequest, source: str) -> list[str]:
    """Return the visible mounts other than ``source`` where the user may add files."""
    return [
        name
        for name in visible_mounts()
        if name != source and allowed(request.user, get_storage(name)).add
    ]


def _limits() -> tuple[int, int]:
    return (
        int(getattr(settings, "STORAGE_ADMIN_COPY_MAX_FILES", COPY_MAX_FILES)),
        int(getattr(settings, "STORAGE_ADMIN_COPY_MAX_BYTES", COPY_MAX_BYTES)),
    )


def _copy(bulk: _Bulk) -> HttpResponse:
    request = bulk.request
    targets = copy_targets(request, bulk.mount)
    context = {"targets": targets, "target": "", "target_mount": request.POST.get("target_mount")}
    if not bulk.confirmed:
        return bulk.confirm_page("copy", _("Copy to another mount"), **context)
    target_storage = mount_storage(request.POST.get("target_mount", ""))
    require(request.user, target_storage, "add")
    folder = clean_name(request.POST.get("target", ""))
    max_files, max_bytes = _limits()
    files, size = selection.measure(bulk.storage, bulk.items, max_files)
    if files > max_files or size > max_bytes:
        return bulk.confirm_page(
            "copy",
            _("Copy to another mount"),
            too_large=True,
            max_files=max_files,
            max_bytes=max_bytes,
            **{**context, "target": folder},
        )
    copied = skipped = 0
    for item in bulk.items:
        destination = join(folder, item.basename) if item.is_dir else folder
        suffix = "/" if destination else ""
        try:
            result = transfer_copy(
                f"{bulk.mount}:{item.name}",
                f"{target_storage.mount.name}:{destination}{suffix}",
                skip="exists",
            )
        except (ValueError, FileNotFoundError) as error:
            messages.error(request, str(error))
            continue
        copied += len(result.by_action("copy"))
        skipped += len(result.by_action("skip"))
        for failure in result.failed:
            messages.error(
                request,
                _("“%(name)s” was not copied: %(reason)s")
                % {"name": failure.name, "reason": failure.reason},
            )
    cache.changed(target_storage)
    messages.success(request, _copied_line(copied, skipped, target_storage.mount.name))
    return bulk.done()


def _copied_line(copied: int, skipped: int, mount: str) -> str:
    # Two counts, each with its own plural: two messages.
    line = ngettext(
        "Copied %(count)d file to “%(mount)s”", "Copied %(count)d files to “%(mount)s”", copied
    ) % {"count": copied, "mount": mount}
    there = ngettext(
        "; %(count)d was there already.", "; %(count)d were there already.", skipped
    ) % {"count": skipped}
    return line + there
