#!/usr/bin/env python
"""Django's command-line utility for the demo project."""

import importlib.util
import os
import sys
from pathlib import Path

if __name__ == "__main__":
    # Run from anywhere: the project folder goes on the path, and so does the
    # repository root, but only when the app is not installed: an installed
    # app (a wheel, in the packaging test) must not be shadowed by the source.
    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    if importlib.util.find_spec("genro_storage_django") is None:
        sys.path.insert(1, str(here.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
