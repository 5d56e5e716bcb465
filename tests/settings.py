"""Settings for the test suite: the demo project with its mounts under a temporary folder."""

import os
import tempfile

os.environ.setdefault("DEMO_VAR_DIR", tempfile.mkdtemp(prefix="genro-storage-tests-"))

from testproject.settings import *  # noqa: F403

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
