"""The async API under a real ASGI server, against S3 20 ms away.

uvicorn serves ``tests.asgi`` on 127.0.0.1; its s3 mount reaches moto through
the suite's fault proxy, which adds 20 ms to every request, as a bucket in a
nearby region would.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from genro_storage_django import get_storage
from tests.faultproxy import FaultProxy
from tests.serverkit import free_port, run_process
from tests.servers import BUCKET, Server

LATENCY = 0.02
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def delayed_s3(s3_server: Server) -> Iterator[FaultProxy]:
    port = int(s3_server.url.rsplit(":", 1)[1])
    with FaultProxy(port, latency=LATENCY) as proxy:
        yield proxy


@pytest.fixture
def site(
    delayed_s3: FaultProxy, unique_prefix: str, tmp_path: Path
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The uvicorn site's URL, and the settings of its mount without the proxy."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.asgi.settings",
        "GENRO_ASGI_ENDPOINT": delayed_s3.url,
        "GENRO_ASGI_PREFIX": unique_prefix,
        "GENRO_ASGI_BUCKET": BUCKET,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "testproject")]),
    }
    args = [sys.executable, "-m", "uvicorn", "tests.asgi.app:application"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--lifespan", "off", "--no-access-log"]
    with run_process(args, tmp_path / "uvicorn.log", port, env=env, cwd=ROOT, name="uvicorn"):
        direct = {
            "type": "s3",
            "bucket": BUCKET,
            "prefix": unique_prefix,
            "endpoint_url": delayed_s3.url.replace(
                str(delayed_s3.port), str(delayed_s3.target_port)
            ),
            "key": "testing",
            "secret": "testing",
        }
        yield f"http://127.0.0.1:{port}", direct


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.status, dict(response.headers), response.read()


def _save_many(url: str, count: int, folder: str) -> float:
    _, _, body = _get(f"{url}/save-many/?n={count}&size=16384&folder={folder}")
    return float(json.loads(body)["seconds"])


def test_hundred_concurrent_asaves_hide_the_latency(site, delayed_s3):
    url, direct = site
    _save_many(url, 1, "warm-up")  # the first request builds the client
    delayed_s3.latency, delayed_s3.requests = LATENCY, 0
    _save_many(url, 100, "many")
    # Each save asks whether the name is free (a listing), then stores the file.
    assert delayed_s3.requests == 200
    # The latency is hidden when the requests wait it out together: one after
    # another, never two would. (Not timed: on this machine moto, not the
    # client, bounds the total, and it varies with the load.) aiobotocore's
    # pool holds 10 connections.
    assert delayed_s3.most_delayed >= 8, delayed_s3.most_delayed
    with override_settings(STORAGE_MOUNTS={"direct": direct}):
        storage = get_storage("direct")
        _, files = storage.listdir("many")
        assert len(files) == 100
        assert {storage.size(f"many/{name}") for name in files} == {16384}


def test_a_200_mib_asave_streams_without_stalling_the_loop(site):
    url, direct = site
    # A process's first request loads botocore's service models (json.loads
    # of megabytes, holding the GIL for ~0.1 s in whatever thread): once only.
    _save_many(url, 1, "warm-up")
    _, _, body = _get(f"{url}/save-big/?mib=200")
    answer = json.loads(body)
    assert answer["worst_lag"] <= 0.05, answer
    assert answer["ticks"] > 0
    with override_settings(STORAGE_MOUNTS={"direct": direct}):
        storage = get_storage("direct")
        assert storage.size("big/stream.bin") == 200 * 2**20
        with storage.open("big/stream.bin") as file:
            file.seek(200 * 2**20 - 3)
            assert file.read() == b"LLL"


def test_the_async_serve_view_streams_ranges(site):
    url, direct = site
    data = bytes(range(256)) * 4096
    with override_settings(STORAGE_MOUNTS={"direct": direct}):
        get_storage("direct").save("served/data.bin", ContentFile(data))
    status, headers, body = _get(f"{url}/storage/serve/remote/served/data.bin")
    assert (status, body) == (200, data)
    assert headers["Content-Length"] == str(len(data))
    status, headers, body = _get(
        f"{url}/storage/serve/remote/served/data.bin", {"Range": "bytes=1000-1009"}
    )
    assert (status, body) == (206, data[1000:1010])
    assert headers["Content-Range"] == f"bytes 1000-1009/{len(data)}"
    with pytest.raises(urllib.error.HTTPError) as missing:
        _get(f"{url}/storage/serve/remote/served/missing.bin")
    assert missing.value.code == 404
