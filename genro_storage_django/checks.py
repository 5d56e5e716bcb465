"""System checks for ``STORAGE_MOUNTS`` (run by ``manage.py check``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.utils.module_loading import import_string

from genro_storage_django.conf import get_config

CHECK_ID_PREFIX = "genro_storage_django"
#: The tag of these checks: ``manage.py check --tag storage_mounts`` runs them alone.
TAG = "storage_mounts"


def check_storage_mounts(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Report every problem of the ``STORAGE_MOUNTS`` setting."""
    messages: list[CheckMessage] = []
    for problem in get_config().problems:
        level = Warning if problem.warning else Error
        messages.append(level(problem.msg, hint=problem.hint, id=f"{CHECK_ID_PREFIX}.{problem.id}"))
    return messages


def check_extras(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Report mounts whose type needs an optional dependency that is not installed."""
    messages: list[CheckMessage] = []
    for mount in get_config().mounts.values():
        module = mount.backend_class.missing_module()
        if module is not None:
            extra = mount.backend_class.extra or mount.type
            messages.append(
                Error(
                    f"Mount {mount.name!r} of type {mount.type!r} needs the {module!r} package, "
                    "which is not installed.",
                    hint=f'pip install "genro-storage-django[{extra}]"',
                    id=f"{CHECK_ID_PREFIX}.E011",
                )
            )
    return messages


def check_error_reports(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn about connection strings that Django's error reports would show."""
    mounts = [m.name for m in get_config().mounts.values() if m.options.get("connection_string")]
    if not mounts:
        return []
    # The filter class, not get_default_exception_reporter_filter(): that one is
    # cached for the life of the process.
    reporter_filter = import_string(settings.DEFAULT_EXCEPTION_REPORTER_FILTER)
    if reporter_filter.hidden_settings.search("connection_string"):
        return []
    return [
        Warning(
            f"Mount {name!r}: Django's error reports would show its 'connection_string', "
            "account key included, among the settings.",
            hint="Set DEFAULT_EXCEPTION_REPORTER_FILTER = "
            '"genro_storage_django.debug.SafeExceptionReporterFilter", or use '
            "'account_name' with 'account_key' instead.",
            id=f"{CHECK_ID_PREFIX}.W002",
        )
        for name in mounts
    ]
