"""The load test's site: the demo project on a file database, with a local and an s3 mount.

tests/loadkit.py fills in the environment: the database file, the local
mount's folder and moto's address.
"""

import os

from testproject.settings import *  # noqa: F403

DEBUG = False
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("GENRO_LOAD_DB", "load.sqlite3"),
        # 50 clients share a few sessions: readers must not wait on the journal.
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20},
    }
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGE_MOUNTS = {
    "disk": {"type": "local", "path": os.environ.get("GENRO_LOAD_DISK", "disk"), "serve": True},
    "bucket": {
        "type": "s3",
        "bucket": os.environ.get("GENRO_LOAD_BUCKET", "genro-tests"),
        "prefix": os.environ.get("GENRO_LOAD_PREFIX", "load"),
        "endpoint_url": os.environ.get("GENRO_LOAD_ENDPOINT", "http://127.0.0.1:9"),
        "key": "testing",
        "secret": "testing",
        "serve": True,
        "querystring_auth": False,
    },
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
