"""System checks for ``STORAGE_MOUNTS`` (run by ``manage.py check``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import InvalidStorageError, storages
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from genro_storage_django import object_parameters, serving
from genro_storage_django.backends import backend_class
from genro_storage_django.conf import get_config
from genro_storage_django.schema import Problem
from genro_storage_django.storage import MountStorage, class_name

CHECK_ID_PREFIX = "genro_storage_django"
#: The tag of these checks: ``manage.py check --tag storage_mounts`` runs them alone.
TAG = "storage_mounts"


def check_storage_mounts(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Report every problem of the ``STORAGE_MOUNTS`` setting."""
    return [_message(problem) for problem in get_config().problems]


def check_backends(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Report what each mount's backend finds wrong beyond the settings (a missing extra)."""
    return [
        _message(problem)
        for mount in get_config().mounts.values()
        for problem in backend_class(mount.type).check(mount)
    ]


def check_error_reports(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn about secret options that Django's error reports would show among the settings."""
    # The filter class, not get_default_exception_reporter_filter(): that one is
    # cached for the life of the process.
    hidden = import_string(settings.DEFAULT_EXCEPTION_REPORTER_FILTER).hidden_settings
    messages: list[CheckMessage] = []
    for mount in get_config().mounts.values():
        for key, option in backend_class(mount.type).options.items():
            # The filter looks into dicts by key, but shows a string whole.
            shown = isinstance(mount.options.get(key), str) and not hidden.search(key)
            if option.secret and shown:
                messages.append(_shown_secret(mount.name, key))
    return messages


def _shown_secret(mount: str, key: str) -> Warning:
    return Warning(
        _(
            "Mount %(mount)s: Django's error reports would show its secret %(key)s "
            "among the settings."
        )
        % {"mount": repr(mount), "key": repr(key)},
        hint=_(
            "Set DEFAULT_EXCEPTION_REPORTER_FILTER = "
            '"genro_storage_django.debug.SafeExceptionReporterFilter", which hides it.'
        ),
        id=f"{CHECK_ID_PREFIX}.W002",
    )


def _message(problem: Problem) -> CheckMessage:
    level = Warning if problem.warning else Error
    # A problem's texts are lazy (the parsed setting is cached): fix them in
    # the language of this check run.
    hint = None if problem.hint is None else str(problem.hint)
    return level(str(problem.msg), hint=hint, id=f"{CHECK_ID_PREFIX}.{problem.id}")


def check_class_names(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Report mounts whose names give one storage class name (pickle needs one per mount)."""
    by_class: dict[str, list[str]] = {}
    for name in get_config().mounts:
        by_class.setdefault(class_name(name), []).append(name)
    return [
        Error(
            _(
                "Mounts %(mounts)s share the storage class name %(class)s: pickle and "
                "sorl-thumbnail could not tell them apart."
            )
            % {"mounts": ", ".join(repr(name) for name in names), "class": repr(shared)},
            hint=_(
                "Rename one of the mounts so that their names differ in more than "
                "case, '_', '-' and '.'."
            ),
            id=f"{CHECK_ID_PREFIX}.E022",
        )
        for shared, names in by_class.items()
        if len(names) > 1
    ]


def check_static_urls(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn when the staticfiles storage is a mount whose URLs are signed."""
    try:
        storage = storages["staticfiles"]
    except (InvalidStorageError, ImproperlyConfigured, ImportError):
        return []  # Django's own checks and E0xx report these.
    except OSError:
        # A manifest storage reads its manifest when it is built: an
        # unreachable store is not this check's business (collectstatic says it).
        return []
    if not isinstance(storage, MountStorage):
        return []
    try:
        if not storage.signs_urls():
            return []
    except ImproperlyConfigured:
        return []  # an invalid mount: reported by check_storage_mounts()
    return [
        Warning(
            _(
                "The staticfiles storage is the mount %(mount)s, whose URLs are "
                "signed: signatures change every second, end up inside hashed CSS files and "
                "defeat browser caches."
            )
            % {"mount": repr(storage.mount.name)},
            hint=_(
                'Use "genro_storage_django.staticfiles.MountManifestStaticStorage" (or '
                "MountStaticStorage) as the BACKEND, or give the mount a 'custom_domain' or "
                "'querystring_auth': False."
            ),
            id=f"{CHECK_ID_PREFIX}.W003",
        )
    ]


def check_collectstatic_order(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn when a mount is the staticfiles storage but Django's collectstatic would run."""
    apps = list(settings.INSTALLED_APPS)
    ours, django = "genro_storage_django", "django.contrib.staticfiles"
    if ours not in apps or django not in apps or apps.index(ours) < apps.index(django):
        return []
    backend = settings.STORAGES.get("staticfiles", {}).get("BACKEND", "")
    try:
        is_mount = issubclass(import_string(backend), MountStorage)
    except ImportError:
        return []  # Django's own checks report it
    if not is_mount:
        return []
    return [
        Warning(
            _(
                "The staticfiles storage is a mount, but 'django.contrib.staticfiles' comes "
                "before 'genro_storage_django' in INSTALLED_APPS: manage.py collectstatic is "
                "Django's, which asks the mount about every file and uploads one at a time."
            ),
            hint=_(
                "List 'genro_storage_django' before 'django.contrib.staticfiles' in "
                "INSTALLED_APPS (the first app that has a command provides it)."
            ),
            id=f"{CHECK_ID_PREFIX}.W005",
        )
    ]


def check_tenants(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Report per-tenant mounts whose ``tenant`` callable cannot be imported."""
    messages: list[CheckMessage] = []
    for mount in get_config().mounts.values():
        if not mount.tenant:
            continue
        try:
            import_string(mount.tenant)
        except ImportError as error:
            messages.append(
                Error(
                    _(
                        "Mount %(mount)s: 'tenant' names %(tenant)s, which cannot be "
                        "imported (%(error)s)."
                    )
                    % {"mount": repr(mount.name), "tenant": repr(mount.tenant), "error": error},
                    hint=_(
                        "Give the dotted path of a callable that returns the current tenant's "
                        "folder, such as 'genro_storage_django.tenants.current_tenant'."
                    ),
                    id=f"{CHECK_ID_PREFIX}.E027",
                )
            )
    return messages


def check_mount_callables(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Report ``object_parameters`` and ``serve`` values naming what cannot be imported."""
    problems = []
    for mount in get_config().mounts.values():
        problems.append(object_parameters.import_problem(mount.name, mount.object_parameters))
        if isinstance(mount.serve, str):
            problems.append(serving.import_problem(mount.name, mount.serve))
    return [_message(problem) for problem in problems if problem is not None]
