"""The test settings, with one s3 mount whose endpoint (a delaying proxy) the test gives."""

import os

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.asgi.urls"
ALLOWED_HOSTS = ["127.0.0.1"]
STORAGE_MOUNTS = {
    "remote": {
        "type": "s3",
        "bucket": os.environ.get("GENRO_ASGI_BUCKET", "genro-tests"),
        "prefix": os.environ.get("GENRO_ASGI_PREFIX", "asgi"),
        "endpoint_url": os.environ.get("GENRO_ASGI_ENDPOINT", "http://127.0.0.1:9"),
        "key": "testing",
        "secret": "testing",
        "serve": True,
        "querystring_auth": False,
    },
}
