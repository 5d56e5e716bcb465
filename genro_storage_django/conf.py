"""Turn ``settings.STORAGE_MOUNTS`` into validated, typed mount definitions.

The setting is a dict of mount definitions by name, or a list of definitions
that each carry a ``"name"`` (docs/settings.rst shows both). Every problem is
collected as a ``Problem``; ``checks.py`` reports them through Django's
system checks, and using an invalid mount raises ``InvalidMount``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

from genro_storage_django import child_mounts, validation
from genro_storage_django.backends import BACKENDS, backend_class
from genro_storage_django.exceptions import InvalidMount, MountNotFound
from genro_storage_django.i18n import lazy_message
from genro_storage_django.schema import (
    COMMON_OPTIONS,
    Mount,
    Option,
    OptionValues,
    Problem,
)

__all__ = ["COMMON_OPTIONS", "Mount", "get_config", "get_mount", "mount_names", "parse_mounts"]


@dataclass
class MountsConfig:
    mounts: dict[str, Mount] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    invalid: set[str] = field(default_factory=set)


def option_schema(mount_type: str) -> dict[str, Option]:
    """Return every option a mount of ``mount_type`` accepts."""
    return {**COMMON_OPTIONS, **backend_class(mount_type).options}


def parse_mount(name: str, raw: Any) -> tuple[Mount | None, list[Problem]]:
    """Validate one mount definition; return the mount (None if invalid) and its problems."""
    if not isinstance(raw, Mapping):
        message = lazy_message(
            gettext_noop("Mount %(mount)s must be a dict of options, not %(actual)s."),
            mount=repr(name),
            actual=type(raw).__name__,
        )
        return None, [Problem("E002", message, mount=name)]
    problems = validation.name_problems(name)
    mount_type, type_problem = _mount_type(name, raw)
    if type_problem:
        return None, [*problems, type_problem]
    schema = option_schema(mount_type)
    problems += validation.unknown_keys(name, mount_type, raw, schema)
    values, value_problems = validation.values(name, mount_type, raw, schema)
    problems += value_problems
    if not problems:
        problems += backend_class(mount_type).validate(name, values)
        problems += validation.common_problems(name, mount_type, values)
    problems += _read_only(name, mount_type, raw, values)
    if any(not problem.warning for problem in problems):
        return None, problems
    return _mount(name, mount_type, values, schema), problems


def _mount_type(name: str, raw: Mapping[str, Any]) -> tuple[str, Problem | None]:
    mount_type = raw.get("type")
    types = ", ".join(BACKENDS)
    if mount_type is None:
        message = validation.missing_key(name, "type")
        hint = lazy_message(gettext_noop("Set 'type' to one of: %(types)s."), types=types)
        return "", Problem("E005", message, hint=hint, mount=name)
    if not isinstance(mount_type, str) or mount_type not in BACKENDS:
        message = lazy_message(
            gettext_noop("Mount %(mount)s has an unknown type %(type)s."),
            mount=repr(name),
            type=repr(mount_type),
        )
        hint = lazy_message(gettext_noop("Use one of: %(types)s."), types=types)
        return "", Problem("E004", message, hint=hint, mount=name)
    return mount_type, None


def _read_only(
    name: str, mount_type: str, raw: Mapping[str, Any], values: dict[str, Any]
) -> list[Problem]:
    """Force ``readonly`` on types that cannot write; warn if the setting said otherwise."""
    if not backend_class(mount_type).read_only or values["permissions"] == "readonly":
        return []
    values["permissions"] = "readonly"
    if "permissions" not in raw:
        return []
    message = lazy_message(
        gettext_noop(
            "Mount %(mount)s: %(type)s mounts are read-only; permissions %(permissions)s "
            "is ignored."
        ),
        mount=repr(name),
        type=repr(mount_type),
        permissions=repr(raw["permissions"]),
    )
    hint = lazy_message(gettext_noop("Remove 'permissions' or set it to 'readonly'."))
    return [Problem("W001", message, hint=hint, mount=name, warning=True)]


def _mount(name: str, mount_type: str, values: dict[str, Any], schema: dict[str, Option]) -> Mount:
    # A common key that the type declares too (http's base_url) stays among
    # the options as well: a child mount keeps its family's options.
    own = backend_class(mount_type).options
    del values["type"]
    common = {
        key: values[key] if key in own else values.pop(key)
        for key in COMMON_OPTIONS
        if key != "type"
    }
    secret = frozenset(key for key, option in schema.items() if option.secret)
    return Mount(name=name, type=mount_type, options=OptionValues(values, secret), **common)


def _named_definitions(raw: Any) -> tuple[list[tuple[str, Any]], list[Problem]]:
    if isinstance(raw, Mapping):
        return [(str(name), definition) for name, definition in raw.items()], []
    if not isinstance(raw, (list, tuple)):
        return [], [
            Problem(
                "E001",
                lazy_message(
                    gettext_noop("STORAGE_MOUNTS must be a dict or a list, not %(actual)s."),
                    actual=type(raw).__name__,
                ),
            )
        ]
    pairs: list[tuple[str, Any]] = []
    problems: list[Problem] = []
    for index, definition in enumerate(raw):
        name = definition.get("name") if isinstance(definition, Mapping) else None
        if not isinstance(name, str) or not name:
            problems.append(
                Problem(
                    "E002",
                    lazy_message(
                        gettext_noop("STORAGE_MOUNTS[%(index)s] must be a dict with a 'name' key."),
                        index=index,
                    ),
                    hint=lazy_message(
                        gettext_noop("List items look like {'name': 'media', 'type': ..., ...}.")
                    ),
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
    children: dict[str, Any] = {}
    for name, definition in pairs:
        if name in seen:
            config.problems.append(
                Problem(
                    "E010",
                    lazy_message(
                        gettext_noop("Mount %(mount)s is defined more than once."),
                        mount=repr(name),
                    ),
                    hint=lazy_message(gettext_noop("Give every mount a distinct name.")),
                    mount=name,
                )
            )
            config.invalid.add(name)
            config.mounts.pop(name, None)
            continue
        seen.add(name)
        if child_mounts.is_child(definition):
            children[name] = definition
            continue
        mount, problems = parse_mount(name, definition)
        config.problems.extend(problems)
        if mount is None:
            config.invalid.add(name)
        else:
            config.mounts[name] = mount
    _add_children(config, children, [name for name, _ in pairs])
    return config


def _add_children(config: MountsConfig, children: dict[str, Any], order: list[str]) -> None:
    valid, problems = child_mounts.resolve(children, config.mounts, config.invalid)
    config.problems.extend(problems)
    config.invalid.update(name for name in children if name not in valid)
    # Definition order, as without children.
    mounts = {**config.mounts, **valid}
    config.mounts = {name: mounts[name] for name in dict.fromkeys(order) if name in mounts}


@cache
def get_config() -> MountsConfig:
    """Return the parsed setting; cached until ``STORAGE_MOUNTS`` changes."""
    return parse_mounts(getattr(settings, "STORAGE_MOUNTS", {}))


def get_mount(name: str) -> Mount:
    """Return the mount called ``name``, or raise ``MountNotFound`` / ``InvalidMount``."""
    config = get_config()
    if name in config.invalid:
        reasons = " ".join(str(p.msg) for p in config.problems if p.mount == name and not p.warning)
        details = gettext("Run 'manage.py check' for details.")
        raise InvalidMount(f"{reasons} {details}")
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
