"""A download corrupted in flight raises an ``OSError``, never gives the bytes as good.

Each mount reaches its real server through the suite's fault proxy, which
flips one bit of what the server sends back. A read of the whole file, at
once or in chunks, must raise an ``OSError`` naming the mount and the file
(the bytes differ from the digest the server gave); the same reads through a
clean proxy must give the file; a read after a seek is not checked (a part
of a file has no digest) and must raise nothing.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from genro_storage_django import get_storage
from genro_storage_django.storage import MountStorage
from tests.faultproxy import FaultProxy

#: Larger than the first read-ahead block (64 KiB): a read in chunks makes
#: several ranged requests.
SIZE = 1 * 2**20
#: Where the flipped byte is, from the start of each connection: in a body,
#: past the headers and the object's details answered before it.
FLIP_AT = 200_000
NAME = "docs/file.bin"
DATA = os.urandom(SIZE)
KINDS = ["s3", "gcs", "azure"]
MISMATCH = re.escape(f"Mount 'far' '{NAME}': the downloaded bytes do not match the checksum")
#: One kind of request per way of reading a whole file.
WAYS = ["open-read", "chunks", "backend-read", "aopen", "serve"]


def _port(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1].split("/")[0])


@pytest.fixture(params=KINDS)
def far(request: pytest.FixtureRequest) -> Iterator[tuple[MountStorage, FaultProxy]]:
    """A mount reached through the fault proxy, holding ``NAME``, and the proxy."""
    kind = request.param
    config: dict[str, Any] = dict(request.getfixturevalue(f"{kind}_mount_config"))
    server = request.getfixturevalue(f"{kind}_server")
    with FaultProxy(_port(server.url)) as proxy:
        port = f":{_port(server.url)}"
        proxied = {
            **config,
            "endpoint_url": config["endpoint_url"].replace(port, f":{proxy.port}"),
            "serve": True,
        }
        with override_settings(STORAGE_MOUNTS={"far": proxied, "near": config}):
            get_storage("near").save(NAME, ContentFile(DATA))
            yield get_storage("far"), proxy


async def _aread(storage: MountStorage) -> bytes:
    handle = await storage.aopen(NAME)
    parts = []
    while chunk := await handle.read(64 * 1024):
        parts.append(chunk)
    await handle.close()
    return b"".join(parts)


def _read(storage: MountStorage, way: str, client: Any) -> bytes:
    if way == "open-read":
        with storage.open(NAME) as handle:
            return handle.read()
    if way == "chunks":
        with storage.open(NAME) as handle:
            return b"".join(handle.chunks(64 * 1024))
    if way == "backend-read":
        return storage.backend.read(storage.backend.full_path(NAME))
    if way == "aopen":
        return asyncio.run(_aread(storage))
    response = client.get(f"/storage/serve/far/{NAME}")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("way", WAYS)
def test_a_flipped_byte_in_a_download_raises(far, way, client):
    storage, proxy = far
    proxy.flip_down_at = FLIP_AT
    with pytest.raises(OSError, match=MISMATCH):
        _read(storage, way, client)


@pytest.mark.parametrize("way", WAYS)
def test_a_clean_download_passes(far, way, client):
    storage, _ = far
    assert _read(storage, way, client) == DATA


@pytest.mark.parametrize("flipped", [False, True], ids=["clean", "flipped"])
def test_a_read_after_a_seek_is_not_checked(far, flipped):
    storage, proxy = far
    proxy.flip_down_at = FLIP_AT if flipped else None
    with storage.open(NAME) as handle:
        handle.seek(1000)
        part = handle.read(SIZE // 2)
        rest = handle.read()  # to the end, but not from the start
    if not flipped:
        assert part + rest == DATA[1000:]


def test_a_read_from_the_start_after_a_seek_is_checked_again(far):
    storage, proxy = far
    proxy.flip_down_at = FLIP_AT
    with storage.open(NAME) as handle:
        handle.seek(1000)
        handle.read(1000)
        handle.seek(0)
        with pytest.raises(OSError, match=MISMATCH):
            handle.read()


@pytest.mark.parametrize("kind", ["gcs", "azure"])
def test_a_file_written_in_blocks_is_checked(request, kind):
    # 12 MiB: a GCS resumable upload, Azure blocks committed by the adapter
    # with the blob's MD5. (S3 keeps no whole-object checksum of a multipart
    # upload: docs/reliability.rst.)
    config = dict(request.getfixturevalue(f"{kind}_mount_config"))
    server = request.getfixturevalue(f"{kind}_server")
    data = os.urandom(12 * 2**20)
    with FaultProxy(_port(server.url)) as proxy:
        port = f":{_port(server.url)}"
        proxied = {**config, "endpoint_url": config["endpoint_url"].replace(port, f":{proxy.port}")}
        with override_settings(STORAGE_MOUNTS={"far": proxied, "near": config}):
            get_storage("near").save("big.bin", ContentFile(data))
            proxy.flip_down_at = FLIP_AT
            with pytest.raises(OSError, match=re.escape("Mount 'far' 'big.bin': the downloaded")):
                b"".join(get_storage("far").open("big.bin").chunks())


def test_an_s3_file_replaced_after_it_is_opened_is_not_read(s3_mount_config):
    # Each ranged GET asks for the ETag seen at open() (If-Match), as s3fs's
    # file does when it sends its own HEAD: no mix of two versions.
    with override_settings(STORAGE_MOUNTS={"m": s3_mount_config}):
        storage = get_storage("m")
        storage.save(NAME, ContentFile(DATA))
        with storage.open(NAME) as handle:
            handle.read(1000)
            storage.backend.write(storage.backend.full_path(NAME), [os.urandom(SIZE)], True)
            with pytest.raises(OSError, match="no longer exists"):  # s3fs's FileExpired
                handle.read()
