"""Turn ``settings.STORAGE_MOUNTS`` into validated, typed mount definitions.

Both forms of the setting are accepted::

    STORAGE_MOUNTS = {"media": {"type": "local", "path": "/srv/media"}}
    STORAGE_MOUNTS = [{"name": "media", "type": "local", "path": "/srv/media"}]

Every problem is collected as a ``Problem``; ``checks.py`` reports them through
Django's system checks, and using an invalid mount raises ``InvalidMount``.
"""

from __future__ import annotations

import builtins
import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings

from genro_storage_django.backends import BACKENDS, backend_class
from genro_storage_django.backends.base import Option
from genro_storage_django.exceptions import InvalidMount, MountNotFound

if TYPE_CHECKING:
    from genro_storage_django.backends.base import Backend

PERMISSIONS = ("readonly", "readwrite", "delete")
MOUNT_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")

# Options every mount accepts, whatever its type.
COMMON_OPTIONS: dict[str, Option] = {
    "type": Option((str,), required=True),
    "permissions": Option((str,), default="delete", choices=PERMISSIONS),
    "file_overwrite": Option((bool,), default=False),
    "base_url": Option((str,)),
    "serve": Option((bool,), default=False),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with ``STORAGE_MOUNTS``, ready to become a system check message."""

    id: str
    msg: str
    hint: str | None = None
    mount: str | None = None
    warning: bool = False


class Options(dict[str, Any]):
    """The options of a mount; its repr hides the values of secret options.

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
    serve: bool = False

    def __repr__(self) -> str:
        # Options may hold credentials: never show them.
        return f"<Mount {self.name!r} type={self.type!r} permissions={self.permissions!r}>"

    @property
    def backend_class(self) -> builtins.type[Backend]:  # ``type`` is a field here
        return backend_class(self.type)

    @property
    def can_write(self) -> bool:
        return self.permissions in ("readwrite", "delete")

    @property
    def can_delete(self) -> bool:
        return self.permissions == "delete"


@dataclass
class MountsConfig:
    mounts: dict[str, Mount] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    invalid: set[str] = field(default_factory=set)


def option_schema(mount_type: str) -> dict[str, Option]:
    """Return every option a mount of ``mount_type`` accepts."""
    return {**COMMON_OPTIONS, **backend_class(mount_type).options}


def _type_names(types: tuple[type, ...]) -> str:
    names = {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        dict: "a dict",
        os.PathLike: "a path",
        float: "a number",
    }
    return " or ".join(names.get(t, t.__name__) for t in types)


def _check_value(name: str, key: str, value: Any, option: Option) -> Problem | None:
    types = option.types
    # bool is an int subclass; an int option must not accept True.
    wrong_type = not isinstance(value, types) or (isinstance(value, bool) and bool not in types)
    if value is not None and wrong_type:
        return Problem(
            "E007",
            f"Mount {name!r}: {key!r} must be {_type_names(types)}, not {type(value).__name__}.",
            mount=name,
        )
    if option.choices and value not in option.choices:
        choices = ", ".join(repr(choice) for choice in option.choices)
        return Problem(
            "E008",
            f"Mount {name!r}: {key!r} must be one of {choices}, not {value!r}.",
            mount=name,
        )
    return None


def parse_mount(name: str, raw: Any) -> tuple[Mount | None, list[Problem]]:
    """Validate one mount definition; return the mount (None if invalid) and its problems."""
    if not isinstance(raw, Mapping):
        return None, [
            Problem(
                "E002",
                f"Mount {name!r} must be a dict of options, not {type(raw).__name__}.",
                mount=name,
            )
        ]
    problems: list[Problem] = []
    if not MOUNT_NAME_RE.match(name):
        problems.append(
            Problem(
                "E003",
                f"Mount name {name!r} is not valid.",
                hint="Use letters, digits, '_', '-' and '.' (used in URLs and class names).",
                mount=name,
            )
        )
    mount_type = raw.get("type")
    if mount_type is None:
        return None, [
            *problems,
            Problem(
                "E005",
                f"Mount {name!r} is missing the required key 'type'.",
                hint=f"Set 'type' to one of: {', '.join(BACKENDS)}.",
                mount=name,
            ),
        ]
    if not isinstance(mount_type, str) or mount_type not in BACKENDS:
        return None, [
            *problems,
            Problem(
                "E004",
                f"Mount {name!r} has an unknown type {mount_type!r}.",
                hint=f"Use one of: {', '.join(BACKENDS)}.",
                mount=name,
            ),
        ]

    schema = option_schema(mount_type)
    for key in raw:
        if key not in schema and key != "name":
            close = difflib.get_close_matches(str(key), list(schema), n=1)
            hint = (
                f"Did you mean {close[0]!r}?"
                if close
                else (f"Valid keys for {mount_type!r} mounts: {', '.join(sorted(schema))}.")
            )
            problems.append(
                Problem(
                    "E006", f"Mount {name!r} has an unknown key {key!r}.", hint=hint, mount=name
                )
            )
    values: dict[str, Any] = {}
    for key, option in schema.items():
        if key not in raw or raw[key] is None:
            if option.required:
                problems.append(
                    Problem(
                        "E005",
                        f"Mount {name!r} is missing the required key {key!r}.",
                        hint=f"{mount_type!r} mounts need {key!r}.",
                        mount=name,
                    )
                )
            values[key] = option.default
            continue
        problem = _check_value(name, key, raw[key], option)
        if problem:
            problems.append(problem)
        value = raw[key]
        values[key] = os.fspath(value) if isinstance(value, os.PathLike) else value

    klass = backend_class(mount_type)
    if not problems:
        problems.extend(klass.validate(name, values))
    if klass.read_only and values["permissions"] != "readonly":
        if "permissions" in raw:
            problems.append(
                Problem(
                    "W001",
                    f"Mount {name!r}: {mount_type!r} mounts are read-only; "
                    f"permissions {values['permissions']!r} is ignored.",
                    hint="Remove 'permissions' or set it to 'readonly'.",
                    mount=name,
                    warning=True,
                )
            )
        values["permissions"] = "readonly"
    if any(not p.warning for p in problems):
        return None, problems
    common = {key: values.pop(key) for key in COMMON_OPTIONS}
    del common["type"]
    secret = frozenset(key for key, option in schema.items() if option.secret)
    options = Options(values, secret)
    return Mount(name=name, type=mount_type, options=options, **common), problems


def _named_definitions(raw: Any) -> tuple[list[tuple[str, Any]], list[Problem]]:
    if isinstance(raw, Mapping):
        return [(str(name), definition) for name, definition in raw.items()], []
    if not isinstance(raw, (list, tuple)):
        return [], [
            Problem("E001", f"STORAGE_MOUNTS must be a dict or a list, not {type(raw).__name__}.")
        ]
    pairs: list[tuple[str, Any]] = []
    problems: list[Problem] = []
    for index, definition in enumerate(raw):
        name = definition.get("name") if isinstance(definition, Mapping) else None
        if not isinstance(name, str) or not name:
            problems.append(
                Problem(
                    "E002",
                    f"STORAGE_MOUNTS[{index}] must be a dict with a 'name' key.",
                    hint="List items look like {'name': 'media', 'type': 'local', 'path': ...}.",
                )
            )
            continue
        pairs.append((name, definition))
    return pairs, problems


def parse_mounts(raw: Any) -> MountsConfig:
    """Validate the whole ``STORAGE_MOUNTS`` value."""
    config = MountsConfig()
    pairs, config.problems = _named_definitions(raw)
    seen: set[str] = set()
    for name, definition in pairs:
        if name in seen:
            config.problems.append(
                Problem(
                    "E010",
                    f"Mount {name!r} is defined more than once.",
                    hint="Give every mount a distinct name.",
                    mount=name,
                )
            )
            config.invalid.add(name)
            config.mounts.pop(name, None)
            continue
        seen.add(name)
        mount, problems = parse_mount(name, definition)
        config.problems.extend(problems)
        if mount is None:
            config.invalid.add(name)
        else:
            config.mounts[name] = mount
    return config


@cache
def get_config() -> MountsConfig:
    """Return the parsed setting; cached until ``STORAGE_MOUNTS`` changes."""
    return parse_mounts(getattr(settings, "STORAGE_MOUNTS", {}))


def get_mount(name: str) -> Mount:
    """Return the mount called ``name``, or raise ``MountNotFound`` / ``InvalidMount``."""
    config = get_config()
    if name in config.invalid:
        reasons = " ".join(p.msg for p in config.problems if p.mount == name and not p.warning)
        raise InvalidMount(f"{reasons} Run 'manage.py check' for details.")
    try:
        return config.mounts[name]
    except KeyError:
        raise MountNotFound(name, [*config.mounts, *config.invalid]) from None


def mount_names() -> list[str]:
    """Return the names of the valid mounts, in definition order."""
    return list(get_config().mounts)


def reset_config(*, setting: str, **kwargs: Any) -> None:
    """Drop the parsed setting when ``STORAGE_MOUNTS`` changes (tests, override_settings)."""
    if setting == "STORAGE_MOUNTS":
        get_config.cache_clear()
