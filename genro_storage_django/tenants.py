"""Per-tenant mounts: a mount whose root, for each operation, is the current tenant's folder.

::

    STORAGE_MOUNTS = {
        "uploads": {..., "tenant": "genro_storage_django.tenants.current_tenant"},
    }
    STORAGE_TENANT_FROM_REQUEST = "myapp.tenants.from_request"  # request -> "acme" or None
    MIDDLEWARE = [..., "genro_storage_django.tenants.TenantMiddleware"]

    with tenant("acme"):  # in code, tasks and management commands
        get_storage("uploads").save("a.txt", ...)  # -> <root>/acme/a.txt

The mount's ``tenant`` option names a callable that returns the current
tenant's folder. ``current_tenant`` reads a context variable that
``tenant()`` and ``TenantMiddleware`` set, so threads and asyncio tasks each
see their own. With no tenant set, every operation raises ``NoTenant``: a
per-tenant mount never falls back to its shared root.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.utils.module_loading import import_string

from genro_storage_django.exceptions import NoTenant
from genro_storage_django.names import clean_name
from genro_storage_django.schema import Mount

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "genro_storage_django_tenant", default=None
)


def current_tenant() -> str | None:
    """Return the tenant set by ``tenant()`` or ``TenantMiddleware`` here, or None."""
    return _current.get()


@contextlib.contextmanager
def tenant(name: str | None) -> Iterator[None]:
    """Make ``name`` the current tenant inside the block (None: no tenant)."""
    token = _current.set(name)
    try:
        yield
    finally:
        _current.reset(token)


def folder(mount: Mount) -> str:
    """Return the current tenant's folder of the per-tenant ``mount``, validated.

    Raise ``NoTenant`` if no tenant is set, ``SuspiciousFileOperation`` if the
    callable's answer is not a short relative folder.
    """
    value = _callable(str(mount.tenant))()
    if value is None:
        raise NoTenant(mount.name)
    name = clean_name(str(value))
    if name != str(value).strip("/") or name.count("/") >= mount.tenant_depth:
        raise SuspiciousFileOperation(
            f"Mount {mount.name!r}: the tenant {value!r} is not a folder name of at most "
            f"{mount.tenant_depth} level(s)."
        )
    if not name and not mount.tenant_allow_empty:
        raise NoTenant(mount.name)
    return name


@functools.cache
def _callable(path: str) -> Callable[[], str | None]:
    # Imported once, not on every operation of the mount.
    return import_string(path)


class TenantMiddleware:
    """Set the current tenant of each request from ``STORAGE_TENANT_FROM_REQUEST``.

    That setting names a callable taking the request and returning the
    tenant's folder, or None for none. Works under WSGI and ASGI.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[..., Any]) -> None:
        self.get_response = get_response
        self.from_request = import_string(settings.STORAGE_TENANT_FROM_REQUEST)
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        with tenant(self.from_request(request)):
            return self.get_response(request)

    async def __acall__(self, request: Any) -> Any:
        with tenant(self.from_request(request)):
            return await self.get_response(request)
