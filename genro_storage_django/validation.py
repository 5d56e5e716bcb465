"""Checks of one mount definition's keys and values against a schema of ``Option``s."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from typing import Any

from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop

from genro_storage_django import object_parameters, serving
from genro_storage_django.backends import backend_class
from genro_storage_django.i18n import lazy_message
from genro_storage_django.schema import MOUNT_NAME_RE, Option, Problem


def type_names(types: tuple[type, ...]) -> str:
    names = {
        str: gettext_noop("a string"),
        bool: gettext_noop("a boolean"),
        int: gettext_noop("an integer"),
        dict: gettext_noop("a dict"),
        os.PathLike: gettext_noop("a path"),
        float: gettext_noop("a number"),
    }
    return gettext(" or ").join(gettext(names[t]) if t in names else t.__name__ for t in types)


# Filled into a lazy message: named in the language the message is shown in.
_lazy_type_names = lazy(type_names, str)


def missing_key(name: str, key: str) -> str:
    message = gettext_noop("Mount %(mount)s is missing the required key %(key)s.")
    return lazy_message(message, mount=repr(name), key=repr(key))


def check_value(name: str, key: str, value: Any, option: Option) -> Problem | None:
    types = option.types
    # bool is an int subclass; an int option must not accept True.
    wrong_type = not isinstance(value, types) or (isinstance(value, bool) and bool not in types)
    if value is not None and wrong_type:
        return Problem(
            "E007",
            lazy_message(
                gettext_noop("Mount %(mount)s: %(key)s must be %(types)s, not %(actual)s."),
                mount=repr(name),
                key=repr(key),
                types=_lazy_type_names(types),
                actual=type(value).__name__,
            ),
            mount=name,
        )
    if option.choices and value not in option.choices:
        choices = ", ".join(repr(choice) for choice in option.choices)
        return Problem(
            "E008",
            lazy_message(
                gettext_noop("Mount %(mount)s: %(key)s must be one of %(choices)s, not %(value)s."),
                mount=repr(name),
                key=repr(key),
                choices=choices,
                value=repr(value),
            ),
            mount=name,
        )
    return None


def name_problems(name: str) -> list[Problem]:
    if MOUNT_NAME_RE.match(name):
        return []
    hint = lazy_message(
        gettext_noop("Use letters, digits, '_', '-' and '.' (used in URLs and class names).")
    )
    message = lazy_message(gettext_noop("Mount name %(mount)s is not valid."), mount=repr(name))
    return [Problem("E003", message, hint=hint, mount=name)]


def unknown_keys(
    name: str, mount_type: str, raw: Mapping[str, Any], schema: dict[str, Option]
) -> list[Problem]:
    problems = []
    for key in raw:
        if key in schema or key == "name":
            continue
        close = difflib.get_close_matches(str(key), list(schema), n=1)
        if close:
            hint = lazy_message(gettext_noop("Did you mean %(key)s?"), key=repr(close[0]))
        else:
            hint = lazy_message(
                gettext_noop("Valid keys for %(type)s mounts: %(keys)s."),
                type=repr(mount_type),
                keys=", ".join(sorted(schema)),
            )
        message = lazy_message(
            gettext_noop("Mount %(mount)s has an unknown key %(key)s."),
            mount=repr(name),
            key=repr(key),
        )
        problems.append(Problem("E006", message, hint=hint, mount=name))
    return problems


def values(
    name: str, mount_type: str, raw: Mapping[str, Any], schema: dict[str, Option]
) -> tuple[dict[str, Any], list[Problem]]:
    """Return every key's value (defaults filled in) and the problems of the given ones."""
    found: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, option in schema.items():
        value = raw.get(key)
        if value is None:
            if option.required:
                message = missing_key(name, key)
                hint = lazy_message(
                    gettext_noop("%(type)s mounts need %(key)s."),
                    type=repr(mount_type),
                    key=repr(key),
                )
                problems.append(Problem("E005", message, hint=hint, mount=name))
            found[key] = option.default
            continue
        problem = check_value(name, key, value, option)
        if problem:
            problems.append(problem)
        found[key] = os.fspath(value) if isinstance(value, os.PathLike) else value
    return found, problems


def common_problems(name: str, mount_type: str, values: Mapping[str, Any]) -> list[Problem]:
    """Return the problems of the common keys whose meaning depends on the mount type."""
    backend = backend_class(mount_type)
    found = object_parameters.problems(
        name,
        mount_type,
        values.get("object_parameters"),
        backend.parameters,
        backend.parameter_choices,
    )
    return found + serving.problems(name, values, backend.keeps_local_files())
