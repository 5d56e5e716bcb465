"""``uvicorn tests.asgi.app:application``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.asgi.settings")

from django.core.asgi import get_asgi_application

application = get_asgi_application()
