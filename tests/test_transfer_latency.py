"""Latency hidden: many small files keep ``in_flight`` requests out at once, whatever the
threads, on s3, gcs and azure, through a proxy that adds 50 ms to every request."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from genro_storage_django import transfer
from tests.faultproxy import FaultProxy
from tests.servers import BUCKET, Server
from tests.test_backends_pages import _config, _port
from tests.test_transfer import read_tree, write_tree

FILES = {f"d{i % 3}/f{i:03}.txt": f"file {i}".encode() * (i + 1) for i in range(64)}


def _store(kind: str, server: Server, prefix: str) -> dict[str, Any]:
    if kind != "s3":
        return _config(kind, server, prefix)
    return {
        "type": "s3",
        "bucket": BUCKET,
        "prefix": prefix,
        "endpoint_url": server.url,
        "key": "testing",
        "secret": "testing",
    }


@pytest.fixture(params=["s3", "gcs", "azure"])
def far(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[FaultProxy, Path]]:
    """A ``far`` store mount 50 ms away (a nearby region), and ``src``/``dst`` local mounts."""
    server = request.getfixturevalue(f"{request.param}_server")
    port = _port(server.url)
    with FaultProxy(port, latency=0.05) as proxy:
        store = _store(request.param, server, f"latency-{uuid.uuid4().hex[:12]}")
        store["endpoint_url"] = store["endpoint_url"].replace(f":{port}", f":{proxy.port}")
        mounts = {
            "far": store,
            "src": {"type": "local", "path": str(tmp_path / "src")},
            "dst": {"type": "local", "path": str(tmp_path / "dst")},
        }
        write_tree(tmp_path / "src", FILES)
        with override_settings(STORAGE_MOUNTS=mounts):
            yield proxy, tmp_path


def test_small_files_keep_many_requests_out_with_one_thread(far):
    proxy, root = far
    assert transfer.copy("src:", "far:up", workers=1).ok
    # 64 uploads, one request each, at most 32 at once: not one after the other.
    assert proxy.most_delayed >= 16, proxy.most_delayed
    proxy.most_delayed = 0
    assert transfer.copy("far:up", "dst:down", workers=1).ok
    assert proxy.most_delayed >= 16, proxy.most_delayed
    assert read_tree(root / "dst" / "down") == FILES


def test_in_flight_bounds_the_requests_out(far):
    proxy, _ = far
    assert transfer.copy("src:", "far:one", workers=4, in_flight=2).ok
    # Two copies, and the listing of the destination before them.
    assert proxy.most_delayed <= 3, proxy.most_delayed
