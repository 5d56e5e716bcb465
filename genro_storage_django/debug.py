"""An error-report filter for projects whose mounts hold connection strings."""

from __future__ import annotations

import re

from django.views import debug


class SafeExceptionReporterFilter(debug.SafeExceptionReporterFilter):
    """Django's filter, hiding also the settings keys that name a connection string.

    Django hides keys that contain ``KEY``, ``SECRET``, ``TOKEN``, ``PASS``…;
    an Azure ``connection_string`` holds the account key but matches none of
    them. Name this class in ``DEFAULT_EXCEPTION_REPORTER_FILTER`` (check W002).
    """

    hidden_settings = re.compile(
        f"{debug.SafeExceptionReporterFilter.hidden_settings.pattern}|CONNECTION_STRING",
        flags=re.IGNORECASE,
    )
