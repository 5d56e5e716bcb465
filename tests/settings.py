"""Settings for the test suite: the demo project with its mounts under a temporary folder."""

import os
import tempfile

os.environ.setdefault("DEMO_VAR_DIR", tempfile.mkdtemp(prefix="genro-storage-tests-"))

from testproject.settings import *  # noqa: F403

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Third-party apps that use storages, run against mounts by tests/test_thirdparty.py.
# django-cleanup must come last (its documentation says so).
INSTALLED_APPS = [
    *INSTALLED_APPS,  # noqa: F405
    "tests.thirdparty",
    "sorl.thumbnail",
    "easy_thumbnails",
    "django_cleanup.apps.CleanupConfig",
]

# The mount of tests/thirdparty's fields. Defined here so that the fields get the
# mount's own class (importable by dotted path, as sorl-thumbnail and django-cleanup
# need); each test redefines it with override_settings.
STORAGE_MOUNTS = {**STORAGE_MOUNTS, "thirdparty": {"type": "memory"}}  # noqa: F405

# easy-thumbnails saves thumbnails to this alias (read once, when it is imported).
STORAGES = {
    **STORAGES,  # noqa: F405
    "easy_thumbnails": {
        "BACKEND": "genro_storage_django.storage.MountStorage",
        "OPTIONS": {"mount": "thirdparty"},
    },
}

# sorl-thumbnail logs and swallows errors unless THUMBNAIL_DEBUG is set.
THUMBNAIL_DEBUG = True

# sorl-thumbnail and easy-thumbnails both name their template tag library
# "thumbnail"; the tests use neither library.
SILENCED_SYSTEM_CHECKS = ["templates.W003"]
