"""Checks of one mount definition's keys and values against a schema of ``Option``s."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from typing import Any

from genro_storage_django import object_parameters, serving
from genro_storage_django.backends import backend_class
from genro_storage_django.schema import MOUNT_NAME_RE, Option, Problem


def type_names(types: tuple[type, ...]) -> str:
    names = {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        dict: "a dict",
        os.PathLike: "a path",
        float: "a number",
    }
    return " or ".join(names.get(t, t.__name__) for t in types)


def check_value(name: str, key: str, value: Any, option: Option) -> Problem | None:
    types = option.types
    # bool is an int subclass; an int option must not accept True.
    wrong_type = not isinstance(value, types) or (isinstance(value, bool) and bool not in types)
    if value is not None and wrong_type:
        return Problem(
            "E007",
            f"Mount {name!r}: {key!r} must be {type_names(types)}, not {type(value).__name__}.",
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


def name_problems(name: str) -> list[Problem]:
    if MOUNT_NAME_RE.match(name):
        return []
    hint = "Use letters, digits, '_', '-' and '.' (used in URLs and class names)."
    return [Problem("E003", f"Mount name {name!r} is not valid.", hint=hint, mount=name)]


def unknown_keys(
    name: str, mount_type: str, raw: Mapping[str, Any], schema: dict[str, Option]
) -> list[Problem]:
    problems = []
    for key in raw:
        if key in schema or key == "name":
            continue
        close = difflib.get_close_matches(str(key), list(schema), n=1)
        valid = f"Valid keys for {mount_type!r} mounts: {', '.join(sorted(schema))}."
        hint = f"Did you mean {close[0]!r}?" if close else valid
        message = f"Mount {name!r} has an unknown key {key!r}."
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
                message = f"Mount {name!r} is missing the required key {key!r}."
                hint = f"{mount_type!r} mounts need {key!r}."
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
