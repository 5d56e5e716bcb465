"""Async views that drive the storage the way an upload-heavy site would."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from django.core.files.base import ContentFile
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from genro_storage_django import get_storage


async def save_many(request: HttpRequest) -> JsonResponse:
    """Save ``n`` files of ``size`` bytes at once, from one event loop."""
    count, size, folder = int(request.GET["n"]), int(request.GET["size"]), request.GET["folder"]
    storage = get_storage("remote")
    data = b"s" * size
    started = time.perf_counter()
    names = await asyncio.gather(
        *(storage.asave(f"{folder}/{index}.bin", ContentFile(data)) for index in range(count))
    )
    return JsonResponse({"seconds": time.perf_counter() - started, "names": names})


class LagProbe:
    """A ticker on the running loop: how late each 5 ms sleep wakes up."""

    def __init__(self, period: float = 0.005) -> None:
        self.period, self.worst, self.ticks = period, 0.0, 0
        self.task = asyncio.ensure_future(self._tick())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(self.period)
            self.worst = max(self.worst, loop.time() - started - self.period)
            self.ticks += 1

    def stop(self) -> None:
        self.task.cancel()


async def _chunks(total: int, chunk: int = 2**20) -> AsyncIterator[bytes]:
    block = b"L" * chunk
    for _ in range(total // chunk):
        yield block


async def save_big(request: HttpRequest) -> JsonResponse:
    """Stream ``mib`` MiB with ``asave()`` while the lag probe ticks."""
    total = int(request.GET["mib"]) * 2**20
    storage = get_storage("remote")
    probe = LagProbe()
    started = time.perf_counter()
    name = await storage.asave("big/stream.bin", _chunks(total))
    seconds = time.perf_counter() - started
    probe.stop()
    return JsonResponse(
        {"name": name, "seconds": seconds, "worst_lag": probe.worst, "ticks": probe.ticks}
    )


urlpatterns = [
    path("save-many/", save_many),
    path("save-big/", save_big),
    path("storage/", include("genro_storage_django.urls_async")),
]
