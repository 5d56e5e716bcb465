"""Object parameters: the headers, metadata and storage settings a mount gives each file it writes.

One vocabulary for every mount type, set by the ``object_parameters`` key of a
mount::

    "object_parameters": {"cache_control": "max-age=86400"}           # every file
    "object_parameters": {                                             # first match wins
        "*.css.gz": {"content_encoding": "gzip", "content_type": "text/css"},
        "*": {"cache_control": "max-age=86400"},
    }
    "object_parameters": "myproject.storage.parameters_for"            # (name) -> dict

Each backend adapter says which names it honours (``Backend.parameters``) and
maps them to its SDK; nothing else knows an SDK's field names. This module
only validates the setting and answers "which parameters for this name".
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

from django.utils.module_loading import import_string
from django.utils.translation import gettext_noop

from genro_storage_django.i18n import lazy_message
from genro_storage_django.schema import Problem

#: Every parameter name, with the type of its value.
PARAMETERS: dict[str, type] = {
    "cache_control": str,
    "content_disposition": str,
    "content_encoding": str,
    "content_language": str,
    "content_type": str,
    "metadata": dict,
    "acl": str,
    "encryption": str,
    "storage_class": str,
}
#: What a response carries: a mount that stores no headers honours these
#: through the serve view.
HEADER_PARAMETERS = frozenset(
    ("cache_control", "content_disposition", "content_encoding", "content_language", "content_type")
)
#: The response header of each of ``HEADER_PARAMETERS``.
HEADERS = {
    "cache_control": "Cache-Control",
    "content_disposition": "Content-Disposition",
    "content_encoding": "Content-Encoding",
    "content_language": "Content-Language",
    "content_type": "Content-Type",
}
KEY = "object_parameters"


class InvalidParameters(ValueError):
    """A callable's answer holds a name or value the vocabulary does not allow."""


def problems(
    mount_name: str,
    mount_type: str,
    value: Any,
    honoured: frozenset[str],
    choices: Mapping[str, tuple[str, ...]],
) -> list[Problem]:
    """Return what is wrong with a mount's ``object_parameters`` setting ``value``.

    A dotted path is checked by ``checks.py`` (importing it may need the app
    registry); here only its form.
    """
    if value is None or isinstance(value, str):
        return []
    if not isinstance(value, Mapping):
        return [_malformed(mount_name, type(value).__name__)]
    if is_pattern_map(value):
        found: list[Problem] = []
        for pattern, parameters in value.items():
            found += _dict_problems(mount_name, mount_type, parameters, honoured, choices, pattern)
        return found
    return _dict_problems(mount_name, mount_type, value, honoured, choices, None)


def is_pattern_map(value: Mapping[str, Any]) -> bool:
    """Return True if ``value`` maps glob patterns to parameter dicts (not one parameter dict)."""
    if not value or set(value) & set(PARAMETERS):
        return False
    globbed = all(any(char in str(key) for char in "*?[") for key in value)
    return globbed or all(isinstance(parameters, Mapping) for parameters in value.values())


def _dict_problems(
    mount_name: str,
    mount_type: str,
    parameters: Any,
    honoured: frozenset[str],
    choices: Mapping[str, tuple[str, ...]],
    pattern: str | None,
) -> list[Problem]:
    where = f"{KEY}[{pattern!r}]" if pattern is not None else KEY
    if not isinstance(parameters, Mapping):
        return [_malformed(mount_name, type(parameters).__name__, where)]
    found = []
    for name, value in parameters.items():
        problem = _parameter_problem(mount_name, mount_type, where, name, value, honoured)
        problem = problem or _choice_problem(mount_name, mount_type, where, name, value, choices)
        if problem:
            found.append(problem)
    return found


def _parameter_problem(
    mount_name: str, mount_type: str, where: str, name: Any, value: Any, honoured: frozenset[str]
) -> Problem | None:
    if name not in PARAMETERS:
        return Problem(
            "E031",
            lazy_message(
                gettext_noop("Mount %(mount)s: %(where)s has an unknown parameter %(name)s."),
                mount=repr(mount_name),
                where=where,
                name=repr(name),
            ),
            hint=lazy_message(gettext_noop("Use one of: %(types)s."), types=", ".join(PARAMETERS)),
            mount=mount_name,
        )
    if name not in honoured:
        message = gettext_noop(
            "Mount %(mount)s: %(where)s sets %(name)s, which %(type)s mounts cannot honour."
        )
        params = {"mount": repr(mount_name), "where": where, "name": repr(name)}
        return Problem(
            "E032",
            lazy_message(message, type=repr(mount_type), **params),
            hint=lazy_message(
                gettext_noop("%(type)s mounts honour: %(honoured)s."),
                type=repr(mount_type),
                honoured=", ".join(sorted(honoured)) or lazy_message(gettext_noop("none")),
            ),
            mount=mount_name,
        )
    if not _valid_value(name, value):
        if name == "metadata":
            message = gettext_noop(
                "Mount %(mount)s: %(where)s[%(name)s] must be a dict of strings."
            )
        else:
            message = gettext_noop("Mount %(mount)s: %(where)s[%(name)s] must be a string.")
        text = lazy_message(message, mount=repr(mount_name), where=where, name=repr(name))
        return Problem("E033", text, mount=mount_name)
    return None


def _choice_problem(
    mount_name: str,
    mount_type: str,
    where: str,
    name: str,
    value: Any,
    choices: Mapping[str, tuple[str, ...]],
) -> Problem | None:
    allowed = choices.get(name)
    if not allowed or value in allowed:
        return None
    message = gettext_noop(
        "Mount %(mount)s: %(where)s[%(name)s] is %(value)s, which %(type)s mounts do not know."
    )
    return Problem(
        "E033",
        lazy_message(
            message,
            mount=repr(mount_name),
            where=where,
            name=repr(name),
            value=repr(value),
            type=repr(mount_type),
        ),
        hint=lazy_message(gettext_noop("Use one of: %(types)s."), types=", ".join(allowed)),
        mount=mount_name,
    )


def _valid_value(name: str, value: Any) -> bool:
    if name == "metadata":
        return isinstance(value, Mapping) and all(
            isinstance(key, str) and isinstance(item, str) for key, item in value.items()
        )
    return isinstance(value, PARAMETERS[name])


def _malformed(mount_name: str, actual: str, where: str | None = None) -> Problem:
    if where is None:
        message = gettext_noop(
            "Mount %(mount)s: %(key)s must be a dict of parameters, a dict of glob patterns "
            "to dicts of parameters, or the dotted path of a callable, not a %(actual)s."
        )
    else:
        message = gettext_noop(
            "Mount %(mount)s: %(key)s must be a dict of parameters, a dict of glob patterns "
            "to dicts of parameters, or the dotted path of a callable, not %(actual)s at "
            "%(where)s."
        )
    params = {"mount": repr(mount_name), "key": KEY, "actual": actual, "where": where}
    return Problem(
        "E034",
        lazy_message(message, **params),
        hint=lazy_message(
            gettext_noop('For example {"*.css": {"cache_control": "max-age=86400"}}.')
        ),
        mount=mount_name,
    )


def import_problem(mount_name: str, value: Any) -> Problem | None:
    """Return the problem of a dotted-path ``value`` that cannot be imported, or None."""
    if not isinstance(value, str):
        return None
    try:
        found = import_string(value)
    except ImportError as error:
        reason = str(error)
    else:
        if callable(found):
            return None
        reason = lazy_message(gettext_noop("it is not callable"))
    message = gettext_noop(
        "Mount %(mount)s: %(key)s names %(value)s, which cannot be used (%(reason)s)."
    )
    return Problem(
        "E035",
        lazy_message(message, mount=repr(mount_name), key=KEY, value=repr(value), reason=reason),
        hint=lazy_message(
            gettext_noop(
                "Give the dotted path of a callable taking a file name and returning a dict."
            )
        ),
        mount=mount_name,
    )


class Rules:
    """The ``object_parameters`` of one mount, answering ``for_name(name)``."""

    def __init__(
        self, mount_name: str, mount_type: str, value: Any, honoured: frozenset[str]
    ) -> None:
        self.mount_name = mount_name
        self.mount_type = mount_type
        self.value = value
        self.honoured = honoured

    @cached_property
    def _callable(self) -> Callable[[str], Mapping[str, Any]] | None:
        return import_string(self.value) if isinstance(self.value, str) else None

    def for_name(self, name: str) -> dict[str, Any]:
        """Return the parameters of the file ``name`` (mount-relative); empty if none apply."""
        value = self.value
        if not value:
            return {}
        if self._callable is not None:
            return self.checked(self._callable(name))
        if is_pattern_map(value):
            for pattern, parameters in value.items():
                if fnmatch.fnmatchcase(name, pattern):
                    return dict(parameters)
            return {}
        return dict(value)

    def checked(self, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
        """Return ``parameters`` without None values; ``InvalidParameters`` if any is refused."""
        answer = {key: value for key, value in (parameters or {}).items() if value is not None}
        for key, value in answer.items():
            problem = _parameter_problem(
                self.mount_name, self.mount_type, KEY, key, value, self.honoured
            )
            if problem:
                raise InvalidParameters(str(problem.msg))
        return answer


def headers(parameters: Mapping[str, Any]) -> dict[str, str]:
    """Return the response headers that ``parameters`` set."""
    return {HEADERS[key]: value for key, value in parameters.items() if key in HEADERS}
