"""Child mounts: a folder of another mount, under its own name and narrower permissions.

::

    STORAGE_MOUNTS = {
        "data": {...},  # any mount
        "public": {"type": "child", "parent": "data", "path": "public", "permissions": "readonly"},
        "reports": {"path": "data:reports"},  # genro-storage's shorthand for the same
    }

A child is a ``Mount`` of its family's type and options (the root mount's
bucket, credentials, …) whose names lie below ``subpath``; its storage shares
the parent's filesystem. Children of children work; permissions may narrow
along the chain, never widen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import SuspiciousFileOperation
from django.utils.translation import gettext_noop

from genro_storage_django import validation
from genro_storage_django.i18n import lazy_message
from genro_storage_django.names import clean_name
from genro_storage_django.schema import COMMON_OPTIONS, PERMISSIONS, Mount, Option, Problem

CHILD = "child"
#: A child's own keys, besides the common ones (a child has no type-specific options).
CHILD_OPTIONS: dict[str, Option] = {
    "parent": Option((str,), required=True),
    "path": Option((str,), required=True),
}
SCHEMA = {**COMMON_OPTIONS, **CHILD_OPTIONS}
#: Common keys that a child takes from its parent when it does not set them.
INHERITED = ("object_parameters", "serve_offload")


def is_child(raw: Any) -> bool:
    """Return True if the definition ``raw`` describes a child mount (either form)."""
    if not isinstance(raw, Mapping):
        return False
    if "type" in raw:
        return raw["type"] == CHILD
    path = raw.get("path")
    return isinstance(path, str) and ":" in path


def resolve(
    children: dict[str, Mapping[str, Any]], mounts: dict[str, Mount], invalid: set[str]
) -> tuple[dict[str, Mount], list[Problem]]:
    """Return the valid child mounts of ``children`` and the problems of all of them.

    ``mounts`` are the valid mounts that are not children, ``invalid`` the names
    of the definitions already refused.
    """
    resolver = _Resolver(children, mounts, invalid)
    for name in children:
        resolver.mount(name, ())
    return resolver.resolved, resolver.problems


class _Resolver:
    def __init__(
        self, children: dict[str, Mapping[str, Any]], mounts: dict[str, Mount], invalid: set[str]
    ) -> None:
        self.children = children
        self.mounts = mounts
        self.invalid = invalid
        self.resolved: dict[str, Mount] = {}
        self.refused: set[str] = set()
        self.problems: list[Problem] = []

    def mount(self, name: str, trail: tuple[str, ...]) -> Mount | None:
        """Return the child ``name`` resolved (its parents first), or None if it is refused."""
        if name in self.resolved or name in self.refused:
            return self.resolved.get(name)
        values = self._values(name)
        if values is None:
            self._refuse(name)
            return None
        parent_name = values["parent"]
        if parent_name in (*trail, name):
            cycle = " -> ".join(repr(mount) for mount in (*trail, name, parent_name))
            message = lazy_message(
                gettext_noop("Mounts %(cycle)s are each other's parents."), cycle=cycle
            )
            hint = lazy_message(gettext_noop("A chain of parents must end at a mount."))
            self._refuse(name, Problem("E025", message, hint=hint, mount=name))
            return None
        parent = self._parent(name, parent_name, (*trail, name))
        if parent is None:
            self._refuse(name)
            return None
        return self._build(name, values, parent)

    def _values(self, name: str) -> dict[str, Any] | None:
        raw = dict(self.children[name])
        if "type" not in raw:
            raw["parent"], _, raw["path"] = str(raw.pop("path")).partition(":")
        raw.pop("type", None)
        problems = validation.name_problems(name)
        problems += validation.unknown_keys(name, CHILD, raw, SCHEMA)
        values, value_problems = validation.values(name, CHILD, {"type": CHILD, **raw}, SCHEMA)
        problems += value_problems or self._subpath_problems(name, values)
        self.problems += problems
        if problems:
            return None
        values["inherit_permissions"] = "permissions" not in raw
        return values

    def _subpath_problems(self, name: str, values: dict[str, Any]) -> list[Problem]:
        try:
            values["path"] = clean_name(values["path"])
        except SuspiciousFileOperation:
            values["path"] = ""
        if values["path"]:
            return []
        message = lazy_message(
            gettext_noop("Mount %(mount)s: 'path' must name a folder inside its parent."),
            mount=repr(name),
        )
        hint = lazy_message(gettext_noop("Give a relative folder such as 'public', without '..'."))
        return [Problem("E024", message, hint=hint, mount=name)]

    def _parent(self, name: str, parent_name: str, trail: tuple[str, ...]) -> Mount | None:
        if parent_name in self.mounts:
            return self.mounts[parent_name]
        if parent_name in self.children:
            parent = self.mount(parent_name, trail)
            if parent is not None:
                return parent
            message = gettext_noop("Mount %(mount)s: its parent %(parent)s is invalid.")
        elif parent_name in self.invalid:
            message = gettext_noop("Mount %(mount)s: its parent %(parent)s is invalid.")
        else:
            message = gettext_noop("Mount %(mount)s: its parent %(parent)s is not defined.")
        self.problems.append(
            Problem(
                "E023",
                lazy_message(message, mount=repr(name), parent=repr(parent_name)),
                hint=lazy_message(
                    gettext_noop("Define the parent mount, or fix the problems reported for it.")
                ),
                mount=name,
            )
        )
        return None

    def _build(self, name: str, values: dict[str, Any], parent: Mount) -> Mount | None:
        permissions = parent.permissions if values["inherit_permissions"] else values["permissions"]
        if PERMISSIONS.index(permissions) > PERMISSIONS.index(parent.permissions):
            message = lazy_message(
                gettext_noop(
                    "Mount %(mount)s: permissions %(permissions)s are wider than its parent "
                    "%(parent)s's (%(parent_permissions)s)."
                ),
                mount=repr(name),
                permissions=repr(permissions),
                parent=repr(parent.name),
                parent_permissions=repr(parent.permissions),
            )
            hint = lazy_message(gettext_noop("A child may narrow permissions only."))
            self._refuse(name, Problem("E026", message, hint=hint, mount=name))
            return None
        subpath = f"{parent.subpath}/{values['path']}" if parent.subpath else values["path"]
        # A child writes as its family does unless it says otherwise.
        own = {key: values[key] for key in INHERITED if values[key] is not None}
        problems = validation.common_problems(name, parent.type, {**values, **own})
        if problems:
            self.problems += problems
            self.refused.add(name)
            return None
        child = dataclasses.replace(
            parent,
            name=name,
            permissions=permissions,
            file_overwrite=values["file_overwrite"],
            base_url=values["base_url"],
            serve=values["serve"],
            parent=parent.name,
            subpath=subpath,
            **own,
            **self._tenant(values, parent),
        )
        self.resolved[name] = child
        return child

    @staticmethod
    def _tenant(values: dict[str, Any], parent: Mount) -> dict[str, Any]:
        """A child's own ``tenant`` settings, or else its parent's."""
        if not values["tenant"]:
            return {}
        keys = ("tenant", "tenant_depth", "tenant_allow_empty")
        return {key: values[key] for key in keys}

    def _refuse(self, name: str, problem: Problem | None = None) -> None:
        """Refuse the child ``name``, for ``problem`` if it is a new one."""
        if problem is not None:
            self.problems.append(problem)
        self.refused.add(name)
