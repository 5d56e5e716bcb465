"""Large files: a copy keeps several parts of one file uploading (s3) or several ranges
downloading (gcs, azure) through a proxy that adds 400 ms to every request, and reads an
S3 object with one GET; it leaves nothing half-written and reads nothing mixed. A rerun
of a one-file copy asks for its target once."""

from __future__ import annotations

import datetime
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from genro_storage_django import transfer
from genro_storage_django.backends.objectstore import PARTS, UPLOAD_PARTS
from genro_storage_django.storage import get_storage
from tests.faultproxy import FaultProxy
from tests.servers import Server
from tests.test_backends_pages import _port
from tests.test_transfer_latency import _store

BLOCK = 8 * 2**20
#: Five blocks and a bit: more parts than are ever in flight, and a short last one.
BIG = os.urandom(5 * BLOCK + 12345)


def _mounts(store: dict[str, Any], server: Server, proxy: FaultProxy, root: Path) -> dict:
    port = _port(server.url)
    far = {**store, "endpoint_url": store["endpoint_url"].replace(f":{port}", f":{proxy.port}")}
    return {
        "near": store,
        "far": far,
        "src": {"type": "local", "path": str(root / "src")},
        "dst": {"type": "local", "path": str(root / "dst")},
    }


@pytest.fixture
def mounts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FaultProxy]:
    """``near`` and ``far`` (400 ms away) on the same store; ``src``/``dst`` local mounts.

    Long enough for every part in flight to be waiting at once, whatever the
    time the client takes to read and sign each.
    """
    kind = getattr(request, "param", "s3")
    server = request.getfixturevalue(f"{kind}_server")
    with FaultProxy(_port(server.url), latency=0.4) as proxy:
        store = _store(kind, server, f"parts-{uuid.uuid4().hex[:12]}")
        with override_settings(STORAGE_MOUNTS=_mounts(store, server, proxy, tmp_path)):
            yield proxy


def _heads(proxy: FaultProxy, method: bytes) -> list[bytes]:
    return [head.split(b" ", 2)[1] for head in proxy.heads if head.startswith(method + b" ")]


def test_a_large_upload_sends_its_parts_at_once(mounts, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "big.bin").write_bytes(BIG)
    mounts.record_heads = True
    assert transfer.copy("src:", "far:up", workers=1).ok
    parts = [line for line in _heads(mounts, b"PUT") if b"partNumber=" in line]
    assert len(parts) == 6, parts
    # Two uploads waited out the latency together: not one part after the other,
    # and never more than UPLOAD_PARTS.
    assert mounts.most_delayed == UPLOAD_PARTS, mounts.most_delayed
    assert get_storage("near").open("up/big.bin").read() == BIG


def test_a_large_s3_download_is_one_get(mounts, tmp_path):
    get_storage("near").backend.write(get_storage("near").backend.full_path("big.bin"), [BIG], True)
    mounts.record_heads = True
    assert transfer.copy("far:", "dst:down", workers=1).ok
    # The listing, the HEAD that gives the checksum, one GET of the whole object.
    gets = [line for line in _heads(mounts, b"GET") if b"big.bin" in line]
    assert len(gets) == 1 and len(_heads(mounts, b"HEAD")) == 1, mounts.heads
    assert (tmp_path / "dst" / "down" / "big.bin").read_bytes() == BIG


def test_a_rerun_of_one_file_asks_for_the_target_once(mounts, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "one.txt").write_bytes(b"one file")
    assert transfer.copy("src:one.txt", "far:into/one.txt").ok
    mounts.record_heads = True
    again = transfer.copy("src:one.txt", "far:into/one.txt")
    assert again.ok and again.by_action("copy") == [], again.outcomes
    # The folder check (a LIST of "into/one.txt/"), then one HEAD that both finds the
    # target and gives its size: no exists() LIST before it, and no PUT.
    folder = [line for line in _heads(mounts, b"GET") if b"one.txt%2F&" in line]
    heads = [line for line in _heads(mounts, b"HEAD") if line.endswith(b"/into/one.txt")]
    assert (len(folder), len(heads), len(mounts.heads)) == (1, 1, 2), mounts.heads


@pytest.mark.parametrize("mounts", ["gcs", "azure"], indirect=True)
def test_a_large_download_fetches_ranges_at_once(mounts, tmp_path):
    get_storage("near").backend.write(get_storage("near").backend.full_path("big.bin"), [BIG], True)
    assert transfer.copy("far:", "dst:down", workers=1).ok
    assert mounts.most_delayed == PARTS, mounts.most_delayed
    assert (tmp_path / "dst" / "down" / "big.bin").read_bytes() == BIG


def test_a_failed_upload_leaves_no_object_and_no_parts(mounts):
    backend = get_storage("near").backend
    path = backend.full_path("broken.bin")

    def chunks() -> Iterator[bytes]:
        yield from (BIG[i : i + 2**20] for i in range(0, 3 * BLOCK, 2**20))
        raise RuntimeError("the source went away")

    with pytest.raises(RuntimeError, match="went away"):
        backend.write(path, chunks(), True)
    assert not backend.exists(path)
    # Any age: the upload was started a moment ago.
    assert list(backend.leftovers(datetime.timedelta(minutes=-1))) == []


@pytest.mark.parametrize("size", [3 * 2**20, 3 * BLOCK])
def test_writing_in_parts_keeps_an_existing_file_when_told_to(mounts, size):
    backend = get_storage("near").backend
    path = backend.full_path("taken.bin")
    backend.write(path, [b"first"], True)
    chunks = (BIG[i : i + 2**20] for i in range(0, size, 2**20))
    with pytest.raises(FileExistsError):
        backend.write(path, chunks, False)
    assert backend.read(path) == b"first"
    backend.write(path, (BIG[i : i + 2**20] for i in range(0, size, 2**20)), True)
    assert backend.read(path) == BIG[:size]


def test_an_object_replaced_while_it_is_read_is_not_mixed(mounts):
    backend = get_storage("near").backend
    path = backend.full_path("moving.bin")
    backend.write(path, [BIG], True)
    chunks = backend.read_chunks(path)
    assert next(chunks) == BIG[:BLOCK]
    # The GET already under way goes on with the object it started with.
    backend.write(path, [bytes(reversed(BIG))], True)
    assert BIG[:BLOCK] + b"".join(chunks) == BIG
    assert backend.read(path) == bytes(reversed(BIG))


def test_an_object_replaced_after_its_head_is_refused(mounts):
    backend = get_storage("near").backend
    path = backend.full_path("moving.bin")
    backend.write(path, [BIG[:BLOCK]], True)
    details = backend.run_on_loop(backend.file_details_async, path)
    backend.write(path, [BIG[BLOCK : 2 * BLOCK]], True)
    with pytest.raises(OSError, match=r"'moving\.bin': the file changed while it was read"):
        backend.run_on_loop(backend.body_async, path, details)


def test_a_large_s3_download_corrupted_on_the_way_leaves_nothing(mounts, tmp_path):
    near = get_storage("near").backend
    near.write(near.full_path("big.bin"), [BIG], True)  # one PutObject: S3 keeps its CRC32
    mounts.flip_down_at = 20 * 2**20  # inside the GET's body, whatever came before
    result = transfer.copy("far:", "dst:down", workers=1, retries=0)
    assert [failed.name for failed in result.failed] == ["big.bin"]
    assert "do not match the checksum" in result.failed[0].reason
    assert not (tmp_path / "dst" / "down" / "big.bin").exists()


def test_s3_options_block_size_sets_the_part_size(s3_server, tmp_path):
    store = {**_store("s3", s3_server, f"parts-{uuid.uuid4().hex[:12]}")}
    store["s3_options"] = {"default_block_size": 2 * BLOCK}  # larger objects: larger parts
    with override_settings(STORAGE_MOUNTS={"big": store}):
        backend = get_storage("big").backend
        path = backend.full_path("big.bin")
        backend.write(path, (BIG[i : i + 2**20] for i in range(0, len(BIG), 2**20)), True)
        assert backend.read(path) == BIG
        # 16 MiB, 16 MiB and the rest: S3's "<md5>-<parts>" ETag counts them.
        assert backend.info(path)["ETag"].strip('"').endswith("-3")


def test_a_large_s3_download_cut_midway_goes_on_where_it_stopped(mounts, tmp_path):
    near = get_storage("near").backend
    near.write(near.full_path("big.bin"), [BIG], True)
    mounts.record_heads = True
    mounts.reset_down_after = 20 * 2**20  # the first connection, inside the GET's body
    assert transfer.copy("far:", "dst:down", workers=1, retries=0).ok
    assert (tmp_path / "dst" / "down" / "big.bin").read_bytes() == BIG
    # The GET again from the first byte not received, not from the start.
    gets = [head.lower() for head in mounts.heads if head.startswith(b"GET")]
    ranges = [head for head in gets if b"range:" in head]
    assert len(ranges) == 1 and b"bytes=0-" not in ranges[0], mounts.heads
    assert mounts.reset_down_after is None
