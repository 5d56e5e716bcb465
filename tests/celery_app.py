"""The Celery app of the ``storage_copy --celery`` tests, defined as a project defines its own.

A project writes this in ``proj/celery.py`` and imports it from
``proj/__init__.py``; the test process imports it, which makes it Celery's
current app, and the workers run ``celery -A tests.celery_app worker``. The
broker and the mounts come from the environment the tests give the workers.
"""

from __future__ import annotations

import json
import os
from typing import Any

from celery import Celery, signals

BROKER = os.environ.get("GENRO_TEST_BROKER", "redis://127.0.0.1:1/0")

app = Celery("genro_tests")
app.conf.update(
    broker_url=BROKER,
    result_backend=BROKER,
    # A worker killed with SIGKILL acknowledges nothing: its shards come back to
    # the queue once this many seconds passed, checked every second. It must
    # exceed the longest shard, which would otherwise run twice: the benchmark
    # (WL8), whose shards are longer, sets an hour.
    broker_transport_options={
        "visibility_timeout": int(os.environ.get("GENRO_TEST_VISIBILITY", "6")),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    },
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
app.autodiscover_tasks()


@signals.worker_init.connect
def _mounts(**_: Any) -> None:
    # The mounts of the test process, which defines them with override_settings.
    mounts = os.environ.get("GENRO_TEST_MOUNTS")
    if mounts:
        from django.test import override_settings

        override_settings(STORAGE_MOUNTS=json.loads(mounts)).enable()
