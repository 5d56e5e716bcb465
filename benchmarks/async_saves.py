"""WL7's contenders: many saves of small files from one event loop, 20 ms from S3.

``python -m benchmarks.async_saves CONTENDER --endpoint URL --bucket B --count N --size S``
prints ``{"seconds": ...}``. CONTENDER is ``asave`` (ours, native), ``ours-sync``
(ours, ``sync_to_async(storage.save)``) or ``theirs`` (django-storages' S3Storage
through ``sync_to_async``, run by the comparison venv). ``--thread-sensitive`` is
asgiref's default (one thread for every call, as Django's own async views get);
``--no-thread-sensitive`` lets them use the default executor's threads.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import django
from django.conf import settings

from benchmarks.servers import KEY, SECRET


def _configure(endpoint: str, bucket: str) -> None:
    mount = {
        "type": "s3",
        "bucket": bucket,
        "endpoint_url": endpoint,
        "key": KEY,
        "secret": SECRET,
        # As S3Storage's default: a save replaces, so neither side asks first.
        "file_overwrite": True,
    }
    apps = ["genro_storage_django"] if _ours() else []
    settings.configure(INSTALLED_APPS=apps, STORAGE_MOUNTS={"s3": mount}, USE_TZ=True)
    django.setup()


def _ours() -> bool:
    try:
        import genro_storage_django  # noqa: F401
    except ImportError:
        return False
    return True


def _storage(contender: str, endpoint: str, bucket: str) -> Any:
    if contender == "theirs":
        from benchmarks.djstorages import s3_storage

        return s3_storage(endpoint, bucket)
    from genro_storage_django import get_storage

    return get_storage("s3")


def _save_function(contender: str, storage: Any, thread_sensitive: bool) -> Callable[..., Any]:
    if contender == "asave":
        return storage.asave
    from asgiref.sync import sync_to_async

    return sync_to_async(storage.save, thread_sensitive=thread_sensitive)


async def _run(save: Callable[..., Any], count: int, size: int) -> float:
    from django.core.files.base import ContentFile

    data = b"a" * size
    await save("warm-up.bin", ContentFile(data))  # the client and its connections
    started = time.perf_counter()
    await asyncio.gather(*(save(f"saves/{i:05d}.bin", ContentFile(data)) for i in range(count)))
    return time.perf_counter() - started


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.async_saves")
    parser.add_argument("contender", choices=["asave", "ours-sync", "theirs"])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--size", type=int, default=16 * 1024)
    parser.add_argument("--thread-sensitive", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)
    _configure(args.endpoint, args.bucket)
    storage = _storage(args.contender, args.endpoint, args.bucket)
    save = _save_function(args.contender, storage, args.thread_sensitive)
    print(json.dumps({"seconds": asyncio.run(_run(save, args.count, args.size))}))


if __name__ == "__main__":
    main(sys.argv[1:])
