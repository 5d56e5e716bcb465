"""Sphinx configuration for the genro-storage-django documentation."""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(ROOT), str(DOCS / "_ext")]

# autodoc imports the app; a minimal configuration is enough for that.
import django  # noqa: E402
from django.conf import settings  # noqa: E402

if not settings.configured:
    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "genro_storage_django"],
        STORAGE_MOUNTS={},
        USE_TZ=True,
    )
django.setup()

import genro_storage_django  # noqa: E402

project = "genro-storage-django"
author = "genro-storage-django developers"
copyright = "genro-storage-django developers"
release = genro_storage_django.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "myst_parser",
    "mount_options",
]
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"show-inheritance": True}

html_theme = "furo"
html_title = f"genro-storage-django {release}"
html_static_path: list[str] = []
