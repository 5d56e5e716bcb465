"""The Celery task of ``storage_copy --celery``: one shard, run by the same engine.

Imported by Celery only (``genro_storage_django.tasks`` re-exports it for
``app.autodiscover_tasks()``): nothing else in the app imports Celery.

``acks_late`` with ``reject_on_worker_lost``: a shard is acknowledged once it
is done, so that a worker lost mid-shard leaves it to another worker. The
writes of every backend publish a file only once complete (a temporary name
and a rename on disks, a multipart upload completed on object stores), so
the lost attempt leaves no partial file, and the next attempt skips what it
finished.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task  # type: ignore[import-untyped,import-not-found,unused-ignore]

from genro_storage_django.transfer.shard_run import run_shard
from genro_storage_django.transfer.shards import ShardProgress

TASK_NAME = "genro_storage_django.copy_shard"
#: The state a shard reports its progress in: found at the start, it says that
#: an earlier attempt started, and was lost.
PROGRESS = "PROGRESS"


@shared_task(bind=True, name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)
def copy_shard(self: Task, shard: dict[str, Any]) -> dict[str, Any]:
    """Copy one shard of a ``storage_copy --celery``; return its files' outcomes."""
    redelivered = _started_before(self)
    self.update_state(state=PROGRESS, meta={"bytes": 0, "files": 0})
    progress = ShardProgress(lambda meta: self.update_state(state=PROGRESS, meta=meta))
    return run_shard(shard, progress, redelivered)


def _started_before(task: Task) -> bool:
    if (task.request.delivery_info or {}).get("redelivered"):
        return True
    # PROGRESS, or SUCCESS from an attempt lost before its acknowledgement.
    return task.AsyncResult(task.request.id).state != "PENDING"
