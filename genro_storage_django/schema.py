"""The terms every module shares: a settings key's schema, a settings problem, a mount.

This module imports nothing of the package, so that ``conf`` (which parses the
setting), the backends (which declare their keys) and the storage can all use
it without importing each other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PERMISSIONS = ("readonly", "readwrite", "delete")
MOUNT_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Option:
    """The schema of one settings key of a mount: accepted types, default, secrecy."""

    types: tuple[type, ...]
    required: bool = False
    default: Any = None
    secret: bool = False
    choices: tuple[Any, ...] = ()


# Options every mount accepts, whatever its type.
COMMON_OPTIONS: dict[str, Option] = {
    "type": Option((str,), required=True),
    "permissions": Option((str,), default="delete", choices=PERMISSIONS),
    "file_overwrite": Option((bool,), default=False),
    "base_url": Option((str,)),
    # True (anyone), "login", "staff", a permission ("app.view_invoice") or the
    # dotted path of a callable (request, mount, name) -> bool: genro_storage_django.serving.
    "serve": Option((bool, str), default=False),
    # {"x_accel_redirect": "/protected/"} or "x_sendfile": the web server sends the bytes.
    "serve_offload": Option((dict, str)),
    # genro_storage_django.object_parameters: headers, metadata, ACL… of written files.
    "object_parameters": Option((dict, str)),
    "tenant": Option((str,)),
    "tenant_depth": Option((int,), default=1),
    "tenant_allow_empty": Option((bool,), default=False),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with ``STORAGE_MOUNTS``, ready to become a system check message.

    ``msg`` and ``hint`` may be lazy strings (``i18n.lazy_message``), translated
    when shown: take ``str()`` of them where a real str is needed.
    """

    id: str
    msg: str
    hint: str | None = None
    mount: str | None = None
    warning: bool = False


class OptionValues(dict[str, Any]):
    """The values of a mount's type-specific options; its repr hides the secret ones.

    Error reports (the mail to ``ADMINS``, logs) print the local variables of
    each frame, and code holds ``mount.options`` in locals.
    """

    def __init__(self, values: Mapping[str, Any], secret: frozenset[str] = frozenset()) -> None:
        super().__init__(values)
        self.secret = secret

    def __repr__(self) -> str:
        return repr(
            {
                key: "********" if key in self.secret and value is not None else value
                for key, value in self.items()
            }
        )


@dataclass(frozen=True, repr=False)
class Mount:
    """A validated mount: its name, type, common options and the type's own options."""

    name: str
    type: str
    options: Mapping[str, Any] = field(default_factory=dict)
    permissions: str = "delete"
    file_overwrite: bool = False
    base_url: str | None = None
    serve: bool | str = False
    serve_offload: Mapping[str, str] | str | None = None
    object_parameters: Mapping[str, Any] | str | None = None
    #: For a child mount: its parent's name, and its folder below the root of
    #: the mount family (``type`` and ``options`` are then the family's).
    parent: str | None = None
    subpath: str = ""
    #: For a per-tenant mount: the dotted path of the callable naming the
    #: current tenant's folder, how many levels it may have, and whether an
    #: empty answer (the shared root) is allowed.
    tenant: str | None = None
    tenant_depth: int = 1
    tenant_allow_empty: bool = False

    def __repr__(self) -> str:
        # Options may hold credentials: never show them.
        return f"<Mount {self.name!r} type={self.type!r} permissions={self.permissions!r}>"

    @property
    def can_write(self) -> bool:
        return self.permissions in ("readwrite", "delete")

    @property
    def can_delete(self) -> bool:
        return self.permissions == "delete"
