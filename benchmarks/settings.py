"""Django settings of the benchmarks: the demo project with mounts from the environment.

``BENCH_DIR`` holds the local mounts; ``BENCH_S3_URL`` is the counting moto server.
"""

import os
from pathlib import Path

os.environ.setdefault("DEMO_VAR_DIR", os.environ.get("BENCH_DIR", "/tmp/genro-bench"))

from testproject.settings import *  # noqa: F403

BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/genro-bench"))
S3_URL = os.environ.get("BENCH_S3_URL", "http://127.0.0.1:9")

DEBUG = False
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# moto assembles a completed multipart upload in memory before it answers:
# more than the default 10 s for 1 GiB on a slow machine (S3 keeps the
# connection alive with whitespace meanwhile; moto sends nothing).
_S3 = {
    "type": "s3",
    "endpoint_url": S3_URL,
    "key": "testing",
    "secret": "testing",
    "read_timeout": 60,
}

STORAGE_MOUNTS = {
    "disk": {"type": "local", "path": str(BENCH_DIR / "disk")},
    "memory": {"type": "memory"},
    "s3": {**_S3, "bucket": os.environ.get("BENCH_S3_BUCKET", "bench-ours")},
}
