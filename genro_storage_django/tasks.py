"""Celery tasks of the app, found by ``app.autodiscover_tasks()`` (``storage_copy --celery``).

Only Celery imports this module; it needs the ``celery`` extra.
"""

from genro_storage_django.transfer.tasks import copy_shard

__all__ = ["copy_shard"]
