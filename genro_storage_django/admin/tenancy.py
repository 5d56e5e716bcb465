"""Which tenant the browser shows: the request's own, or the one a permitted user chose.

Staff with the ``genro_storage_django.switch_tenant`` permission pick a
tenant on the mount list; it is kept in their session and applies to every
per-tenant mount until they pick another or clear it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.utils.translation import gettext as _

from genro_storage_django.admin.rendering import BrowserAdmin, mounts_url
from genro_storage_django.tenants import current_tenant, tenant

PERMISSION = "genro_storage_django.switch_tenant"
SESSION_KEY = "genro_storage_django.tenant"


def may_switch(request: HttpRequest) -> bool:
    """Return True if the user may browse the files of any tenant."""
    return bool(request.user.has_perm(PERMISSION))  # type: ignore[union-attr]


@contextlib.contextmanager
def browsing_tenant(request: HttpRequest) -> Iterator[None]:
    """Make the tenant the user chose current for the request, if they may choose one."""
    chosen = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if chosen is None or not may_switch(request):
        yield
        return
    with tenant(chosen):
        yield


def switcher(request: HttpRequest) -> dict[str, Any] | None:
    """Return the context of the tenant form of the mount list, or None if not permitted."""
    if not may_switch(request):
        return None
    return {"current": current_tenant(), "chosen": request.session.get(SESSION_KEY)}


def switch_tenant(model_admin: BrowserAdmin, request: HttpRequest) -> HttpResponse:
    """Keep the tenant of the form (blank: none) in the session, then show the mount list."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not may_switch(request):
        raise PermissionDenied
    chosen = request.POST.get("tenant", "").strip()
    if chosen:
        request.session[SESSION_KEY] = chosen
        messages.success(
            request, _("You now browse the files of tenant “%(tenant)s”.") % {"tenant": chosen}
        )
    else:
        request.session.pop(SESSION_KEY, None)
        messages.success(request, _("You now browse the files of your own tenant."))
    return HttpResponseRedirect(mounts_url(request))
