"""``StorageAdmin``: puts the file browser on the admin index and routes its URLs."""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.urls import URLPattern, path, re_path
from django.utils.translation import gettext as _

from genro_storage_django.admin import actions, bulk, direct, tenancy, thumbnails, views
from genro_storage_django.admin.access import user_can
from genro_storage_django.admin.rendering import mounts_url
from genro_storage_django.exceptions import MountPermissionError, NoTenant

View = Callable[..., HttpResponseBase]

# A mount name never holds "/"; the path may be empty (the mount's root).
_ROUTES = {
    "browse": (r"browse", views.browse),
    "file": (r"file", views.detail),
    "download": (r"download", views.download),
    "upload": (r"upload", actions.upload),
    "upload_target": (r"upload-target", direct.upload_target),
    "upload_done": (r"upload-done", direct.upload_done),
    "mkdir": (r"mkdir", actions.mkdir),
    "rename": (r"rename", actions.rename),
    "delete": (r"delete", actions.delete),
    "bulk": (r"bulk", bulk.bulk),
    "thumbnail": (r"thumbnail", thumbnails.thumbnail),
}


class StorageAdmin(admin.ModelAdmin):
    """The admin of the table-less ``StorageMount``: the browser instead of a change list."""

    def get_model_perms(self, request: HttpRequest) -> dict[str, bool]:
        # Only "view": the index then links the change list and offers no "Add".
        return {"add": False, "change": False, "delete": False, "view": self._may_browse(request)}

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may_browse(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_browse(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _may_browse(self, request: HttpRequest) -> bool:
        return user_can(request.user, "view")

    def _wrap(self, view: View) -> View:
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            request.current_app = self.admin_site.name
            try:
                with tenancy.browsing_tenant(request):
                    return view(self, request, *args, **kwargs)
            except (MountPermissionError, NoTenant):
                # The mount said no (or this request has no tenant of a per-tenant
                # mount), whatever the view checked first: nothing changed.
                raise PermissionDenied from None
            except OSError as error:
                # The backend failed (server down, timeout): say so, not a 500.
                # Adapter errors name the mount and carry no secret.
                messages.error(
                    request,
                    _("The storage did not answer: %(error)s") % {"error": error},
                )
                return HttpResponseRedirect(mounts_url(request))

        return self.admin_site.admin_view(update_wrapper(wrapper, view))

    def get_urls(self) -> list[URLPattern]:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        urls = [
            path("", self._wrap(views.mount_list), name=f"{prefix}_changelist"),
            path("tenant/", self._wrap(tenancy.switch_tenant), name=f"{prefix}_tenant"),
        ]
        for name, (segment, view) in _ROUTES.items():
            urls.append(
                re_path(
                    rf"^(?P<mount>[^/]+)/{segment}/(?P<path>.*)$",
                    self._wrap(view),
                    name=f"{prefix}_{name}",
                )
            )
        return urls
