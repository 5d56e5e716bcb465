"""What every page of the browser shares: its URLs, its template context, its rendering.

The views (``views.py``) and the actions (``actions.py``) both build on this
module; ``options.py`` routes to them. Links are reversed on the admin site
that serves the request (``request.current_app``, set by
``StorageAdmin._wrap``), as Django's own admin does: a second ``AdminSite``
links to its own pages.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from django.contrib.admin import ModelAdmin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from genro_storage_django.admin import listing
from genro_storage_django.admin.access import Allowed
from genro_storage_django.storage import MountStorage

#: The ``StorageAdmin`` each view takes first, typed as the ``ModelAdmin`` the
#: views use (its ``opts`` and ``admin_site``) so that they need not import ``options``.
BrowserAdmin: TypeAlias = "ModelAdmin[Any]"

URL_PREFIX = "admin:genro_storage_django_storagemount"
TEMPLATE_DIR = "genro_storage_django/admin"


def url_for(request: HttpRequest, view: str, mount: str, path: str = "") -> str:
    """Return the URL of browser ``view`` for ``path`` in ``mount`` on the request's admin site."""
    return reverse(
        f"{URL_PREFIX}_{view}",
        kwargs={"mount": mount, "path": path},
        current_app=request.current_app,
    )


def mounts_url(request: HttpRequest) -> str:
    """Return the URL of the mount list on the request's admin site."""
    return reverse(f"{URL_PREFIX}_changelist", current_app=request.current_app)


def tenant_url(request: HttpRequest) -> str:
    """Return the URL of the tenant switch on the request's admin site."""
    return reverse(f"{URL_PREFIX}_tenant", current_app=request.current_app)


def render(
    model_admin: BrowserAdmin, request: HttpRequest, template: str, **context: Any
) -> TemplateResponse:
    """Render the browser's ``template`` inside the admin's layout."""
    opts = model_admin.opts
    full = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "mounts_url": mounts_url(request),
        **context,
    }
    return TemplateResponse(request, f"{TEMPLATE_DIR}/{template}", full)


def mount_context(
    request: HttpRequest, storage: MountStorage, path: str, permitted: Allowed
) -> dict[str, Any]:
    """Return the context of a page about ``path`` in a mount: the mount, rights, breadcrumbs."""
    mount = storage.mount.name
    return {
        "mount": storage.mount,
        "path": path,
        "allowed": permitted,
        "crumbs": [
            (label, url_for(request, "browse", mount, crumb))
            for label, crumb in listing.breadcrumbs(path)
        ],
    }
