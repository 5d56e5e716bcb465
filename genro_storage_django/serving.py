"""Who may fetch a mount's files through the serve view, and who sends the bytes.

A mount's ``serve`` key says who may:

- ``True``: anyone (public files);
- ``"login"``: logged-in users; ``"staff"``: active staff users;
- a permission name, ``"invoices.view_invoice"``: users who have it;
- the dotted path of a callable ``(request, mount, name) -> bool``.

A refusal is a 403 for a logged-in user and a redirect to the login page
otherwise. A link made by ``MountStorage.url_for()`` carries a signature that
grants access by itself until it expires, as a presigned S3 URL does.

``serve_offload`` (local mounts) hands the bytes to the web server once Django
has said yes: ``{"x_accel_redirect": "/protected/"}`` for nginx's
``X-Accel-Redirect``, ``"x_sendfile"`` for Apache's mod_xsendfile.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from django.apps import apps
from django.core import signing
from django.utils.module_loading import import_string
from django.utils.translation import gettext_noop

from genro_storage_django.i18n import lazy_message
from genro_storage_django.schema import Problem

LEVELS = ("login", "staff")
OFFLOAD_MODES = ("x_accel_redirect", "x_sendfile")
#: The salt of the signatures of ``url_for()`` links to the serve view.
SALT = "genro_storage_django.serve"
#: The query parameter carrying such a signature.
TOKEN = "token"
Rule = Callable[[Any, str, str], bool]


def problems(mount_name: str, values: Mapping[str, Any], local_files: bool) -> list[Problem]:
    """Return what is wrong with the ``serve`` and ``serve_offload`` values of a mount."""
    found = []
    serve = values.get("serve")
    if isinstance(serve, str) and not serve.strip():
        found.append(
            Problem(
                "E037",
                lazy_message(
                    gettext_noop("Mount %(mount)s: 'serve' is an empty string."),
                    mount=repr(mount_name),
                ),
                hint=lazy_message(
                    gettext_noop('Use True, "login", "staff", a permission name or a dotted path.')
                ),
                mount=mount_name,
            )
        )
    offload = values.get("serve_offload")
    if offload is not None:
        found += _offload_problems(mount_name, offload, serve, local_files)
    return found


def _offload_problems(
    mount_name: str, offload: Any, serve: Any, local_files: bool
) -> list[Problem]:
    def problem(message: str, hint: str, **params: Any) -> list[Problem]:
        text = lazy_message(message, mount=repr(mount_name), **params)
        return [Problem("E038", text, hint=lazy_message(hint), mount=mount_name)]

    if not local_files:
        return problem(
            gettext_noop("Mount %(mount)s: 'serve_offload' needs files on this machine's disk."),
            gettext_noop(
                "Use it on local mounts only: the web server must find the file on its disk."
            ),
        )
    if not serve:
        return problem(
            gettext_noop("Mount %(mount)s: 'serve_offload' is set but 'serve' is not."),
            gettext_noop("Set 'serve' as well."),
        )
    prefix = offload.get("x_accel_redirect") if isinstance(offload, Mapping) else None
    valid_prefix = isinstance(prefix, str) and prefix.startswith("/") and prefix.endswith("/")
    if offload == "x_sendfile" or (len(offload) == 1 and valid_prefix):
        return []
    return problem(
        gettext_noop(
            "Mount %(mount)s: 'serve_offload' must be \"x_sendfile\" or "
            '{"x_accel_redirect": "/prefix/"}, not %(offload)s.'
        ),
        gettext_noop("The prefix is nginx's internal location, with a leading and a trailing '/'."),
        offload=repr(offload),
    )


def import_problem(mount_name: str, serve: Any) -> Problem | None:
    """Return the problem of a ``serve`` value naming what does not exist (app registry ready)."""
    try:
        rule(serve)
    except (ImportError, LookupError) as error:
        return Problem(
            "E039",
            lazy_message(
                gettext_noop(
                    "Mount %(mount)s: 'serve' is %(serve)s, which names neither a permission of "
                    "an installed app nor an importable callable (%(error)s)."
                ),
                mount=repr(mount_name),
                serve=repr(serve),
                error=str(error),
            ),
            hint=lazy_message(
                gettext_noop('Use True, "login", "staff", "app_label.codename" or a dotted path.')
            ),
            mount=mount_name,
        )
    return None


@cache
def rule(serve: bool | str) -> Rule:
    """Return the access rule ``(request, mount, name) -> bool`` of a ``serve`` value."""
    if serve is True:
        return lambda request, mount, name: True
    if not serve:
        return lambda request, mount, name: False
    if serve == "login":
        return lambda request, mount, name: bool(request.user.is_authenticated)
    if serve == "staff":
        return lambda request, mount, name: bool(request.user.is_active and request.user.is_staff)
    app_label, dot, codename = str(serve).partition(".")
    if dot and "." not in codename and _installed_label(app_label):
        return lambda request, mount, name: bool(request.user.has_perm(serve))
    found = import_string(str(serve))
    if not callable(found):
        raise ImportError(f"{serve!r} is not callable")
    return found


def _installed_label(app_label: str) -> bool:
    return any(config.label == app_label for config in apps.get_app_configs())


def sign(mount: str, name: str, expires_in: int, disposition: str | None) -> str:
    """Return the token of a ``url_for()`` link to ``name`` of ``mount``, valid ``expires_in`` s."""
    payload = {"m": mount, "n": name, "e": int(time.time()) + expires_in, "d": disposition}
    return signing.dumps(payload, salt=SALT, compress=True)


def unsign(token: str, mount: str, name: str) -> dict[str, Any] | None:
    """Return what the ``token`` grants for ``name`` of ``mount``, or None if it grants nothing."""
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    valid = isinstance(payload, dict) and payload.get("m") == mount and payload.get("n") == name
    if not valid or int(payload.get("e", 0)) < time.time():
        return None
    return payload
