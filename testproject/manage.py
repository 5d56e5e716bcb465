#!/usr/bin/env python
"""Django's command-line utility for the demo project."""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    # Run from anywhere: the project folder and the repository root (for the
    # app itself when it is not installed) go on the path.
    here = Path(__file__).resolve().parent
    sys.path[:0] = [str(here), str(here.parent)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
