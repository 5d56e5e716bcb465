"""An error-report filter that hides every secret option of every mount type."""

from __future__ import annotations

import re

from django.views import debug

from genro_storage_django.backends import BACKENDS, backend_class


def _shown_secret_keys() -> list[str]:
    """Return the secret option names that Django's own filter would show."""
    django_hidden = debug.SafeExceptionReporterFilter.hidden_settings
    keys = {
        key
        for mount_type in BACKENDS
        for key, option in backend_class(mount_type).options.items()
        if option.secret
    }
    return sorted(key for key in keys if not django_hidden.search(key))


class SafeExceptionReporterFilter(debug.SafeExceptionReporterFilter):
    """Django's filter, hiding also the secret mount options whose names it misses.

    Django hides keys that contain ``KEY``, ``SECRET``, ``TOKEN``, ``PASS``…;
    a secret option such as a connection string, which holds an account key,
    matches none of them. Name this class in ``DEFAULT_EXCEPTION_REPORTER_FILTER``
    (check W002).
    """

    hidden_settings = re.compile(
        "|".join(
            [debug.SafeExceptionReporterFilter.hidden_settings.pattern]
            + [re.escape(key) for key in _shown_secret_keys()]
        ),
        flags=re.IGNORECASE,
    )
