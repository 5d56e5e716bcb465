"""Exceptions raised by genro_storage_django."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _


class MountNotFound(ImproperlyConfigured):
    """A storage was asked for a mount that ``STORAGE_MOUNTS`` does not define."""

    def __init__(self, mount: str, defined: list[str]) -> None:
        self.mount = mount
        names = ", ".join(repr(name) for name in sorted(defined)) or "none"
        super().__init__(
            f"Storage mount {mount!r} is not defined in STORAGE_MOUNTS (defined mounts: {names})."
        )


class InvalidMount(ImproperlyConfigured):
    """A mount is defined, but its settings are invalid (``manage.py check`` lists why)."""


class MissingExtra(ImproperlyConfigured):
    """A mount type needs an optional dependency that is not installed."""

    def __init__(self, mount_type: str, extra: str, module: str) -> None:
        self.mount_type = mount_type
        self.extra = extra
        super().__init__(
            _("Mounts of type %(type)s need the %(module)s package: %(command)s")
            % {
                "type": repr(mount_type),
                "module": repr(module),
                "command": f'pip install "genro-storage-django[{extra}]"',
            }
        )


class NoTenant(PermissionError):
    """A per-tenant mount was used with no current tenant (it never falls back to its root)."""

    def __init__(self, mount: str) -> None:
        self.mount = mount
        super().__init__(
            f"Mount {mount!r} keeps each tenant's files apart, and no tenant is set: use "
            "'with tenant(...)', TenantMiddleware, or storage_copy --tenant."
        )


class MountPermissionError(PermissionError):
    """An operation was refused by the permissions of the mount."""

    def __init__(self, mount: str, operation: str, name: str = "", permissions: str = "") -> None:
        self.mount = mount
        self.operation = operation
        self.name = name
        target = f" {name!r}" if name else ""
        reason = f" (permissions: {permissions!r})" if permissions else ""
        super().__init__(f"Mount {mount!r} does not allow {operation}{target}{reason}.")
