"""``storage_copy``'s controls: verify, max-transfer, checkers, backup-dir, retries, bwlimit."""

from __future__ import annotations

import functools
import http.server
import io
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from genro_storage_django import get_storage, transfer
from tests.clikit import KINDS, copy_mounts, refused, tree
from tests.faultproxy import FaultProxy
from tests.serverkit import serve_in_thread
from tests.test_cli_copy import copy, files
from tests.test_transfer import TREE, write_tree

MiB = 1024 * 1024


@pytest.fixture(params=KINDS)
def dest(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    yield from copy_mounts(request, tmp_path)


# --checksum-verify


def test_checksum_verify_passes_on_good_copies(dest, request):
    log = request.getfixturevalue("s3_server").log if "s3" in request.node.name else None
    if log is not None:
        log.clear()
    events = copy("src:", "d:", "--checksum-verify")
    assert files(events, "copy") == sorted(TREE) and events[-1]["failed"] == 0
    if log is not None:
        # Verified against the ETags (MD5s): no object was read back.
        assert [r for r in log.snapshot() if r[0] == "GET" and r[1].count("/") > 1] == []


class Corrupt(transfer.TransferListener):
    """Overwrite the copied a.txt of mount ``d`` right after ``times`` copies wrote it."""

    def __init__(self, times: int) -> None:
        self.times = times

    def transferred(self, size: int) -> None:
        if self.times:
            self.times -= 1
            backend = get_storage("d").backend
            backend.write(backend.full_path("a.txt"), [b"ALPHA"], overwrite=True)


def test_checksum_verify_fails_a_corrupted_copy_and_a_retry_recopies_it(dest):
    verified = transfer.copy("src:a.txt", "d:", checksum_verify=True, listener=Corrupt(1))
    assert [f.reason.split(":")[0] for f in verified.failed] == ["VerifyError"]
    assert tree("d")["a.txt"] == b"ALPHA"
    again = transfer.copy(
        "src:a.txt",
        "d:",
        skip="never",
        checksum_verify=True,
        retries=1,
        retry_delay=0.01,
        listener=Corrupt(1),
    )
    assert again.ok and tree("d")["a.txt"] == b"alpha"


# --max-transfer


def test_max_transfer_never_exceeds_and_a_rerun_copies_the_rest(dest):
    events = copy("src:", "d:", "--max-transfer", "3K", "--workers", "1", returncode=3)
    # In name order: 5 + 400 + 0 bytes, then one.jpg (3000) would pass 3072; the next fit.
    assert files(events, "defer") == ["photos/2024/one.jpg"]
    assert events[-1]["bytes"] == 416 and events[-1]["deferred"] == 1
    rest = copy("src:", "d:")
    assert files(rest, "copy") == ["photos/2024/one.jpg"] and tree("d") == TREE
    # With parallel workers, the limit holds too.
    events = copy("src:", "d:", "--skip", "never", "--max-transfer", "3000", returncode=3)
    assert events[-1]["bytes"] <= 3000 and events[-1]["deferred"] >= 1


# --checkers: a pool of its own, beside the copy workers


class SlowFiles(http.server.SimpleHTTPRequestHandler):
    """Serve a folder, taking 0.1 s per file read and counting the files read at once."""

    busy = 0
    most = 0
    lock = threading.Lock()

    def send_head(self) -> Any:
        # The listing's HEADs (for sizes) run beside the checks: only reads count.
        if self.path.endswith("/") or self.command == "HEAD":
            return super().send_head()
        cls = type(self)
        with cls.lock:
            cls.busy += 1
            cls.most = max(cls.most, cls.busy)
        time.sleep(0.1)
        with cls.lock:
            cls.busy -= 1
        return super().send_head()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def slow_http(tmp_path: Path) -> Iterator[type[SlowFiles]]:
    root, copy_root = tmp_path / "served", tmp_path / "copy"
    names = {f"f{index}.txt": f"file {index}".encode() for index in range(8)}
    write_tree(root, names)
    write_tree(copy_root, names)
    handler = type("Handler", (SlowFiles,), {"busy": 0, "most": 0, "lock": threading.Lock()})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
    )
    with serve_in_thread(server):
        mounts = {
            "web": {"type": "http", "base_url": f"http://127.0.0.1:{server.server_address[1]}/"},
            "copy": {"type": "local", "path": str(copy_root)},
        }
        with override_settings(STORAGE_MOUNTS=mounts):
            yield handler


def test_checkers_hash_in_parallel_while_workers_stay_one(slow_http):
    events = copy("web:", "copy:", "--skip", "hash", "--workers", "1", "--checkers", "1")
    assert len(files(events, "skip")) == 8 and slow_http.most == 1
    events = copy("web:", "copy:", "--skip", "hash", "--workers", "1", "--checkers", "4")
    assert len(files(events, "skip")) == 8 and slow_http.most >= 3


# --backup-dir


def test_backup_dir_keeps_replaced_and_deleted_files(dest):
    storage = get_storage("d")
    storage.save("a.txt", io.BytesIO(b"old a.txt"))
    storage.save("gone.txt", io.BytesIO(b"gone"))
    events = copy("src:", "d:", "--delete", "--backup-dir", "bak:kept")
    assert files(events, "copy") == sorted(TREE) and files(events, "delete") == ["gone.txt"]
    backups = {e["name"]: e["backup"] for e in events if e.get("backup")}
    assert backups == {"a.txt": "bak:kept/a.txt", "gone.txt": "bak:kept/gone.txt"}
    assert tree("bak") == {"kept/a.txt": b"old a.txt", "kept/gone.txt": b"gone"}
    assert tree("d") == TREE
    # Nothing replaced, nothing backed up.
    assert copy("src:", "d:", "--backup-dir", "bak:kept2")[-1]["copied"] == 0
    assert sorted(tree("bak")) == ["kept/a.txt", "kept/gone.txt"]


def test_backup_dir_in_a_dry_run_moves_nothing(dest):
    get_storage("d").save("a.txt", io.BytesIO(b"old a.txt"))
    events = copy("src:", "d:", "--dry-run", "--backup-dir", "bak:")
    assert [e["backup"] for e in events if e.get("name") == "a.txt"] == ["bak:a.txt"]
    assert tree("bak") == {} and tree("d") == {"a.txt": b"old a.txt"}


@pytest.mark.parametrize(
    ("backup", "message"),
    [
        ("ro:", "Mount 'ro' does not allow write"),
        ("d:old", "--backup-dir d:old and d: overlap"),
        ("nowhere:", "'nowhere' is not defined in STORAGE_MOUNTS"),
        ("bak", "'bak' is not MOUNT:PATH"),
    ],
)
def test_backup_dir_refusals(dest, backup, message):
    get_storage("d").save("a.txt", io.BytesIO(b"old a.txt"))
    assert message in refused("storage_copy", "src:", "d:", "--backup-dir", backup)
    assert tree("d") == {"a.txt": b"old a.txt"} and tree("bak") == {}


# --retries: a proxy answers 503 to the first requests


@pytest.fixture
def flaky_s3(s3_server, s3_mount_config, tmp_path) -> Iterator[FaultProxy]:
    """Mount ``s3`` through a FaultProxy, making one attempt at each request itself."""
    port = int(s3_server.url.rsplit(":", 1)[1])
    src = tmp_path / "src"
    write_tree(src, {"small.txt": b"small", "big.bin": os.urandom(2 * MiB)})
    with FaultProxy(port) as proxy:
        config = {**s3_mount_config, "endpoint_url": proxy.url, "retries": 0}
        mounts = {
            "src": {"type": "local", "path": str(src)},
            "s3": config,
            "direct": s3_mount_config,  # the same files, not through the proxy
        }
        with override_settings(STORAGE_MOUNTS=mounts):
            yield proxy


def test_retries_get_a_listing_through_503s(flaky_s3):
    flaky_s3.fail_next(1)
    assert "Service Unavailable" in refused("storage_copy", "src:", "s3:", "--retries", "0")
    assert tree("direct") == {}
    flaky_s3.fail_next(2)
    before = flaky_s3.requests
    events = copy("src:", "s3:", "--retries", "2")
    assert events[-1]["copied"] == 2 and sorted(tree("direct")) == ["big.bin", "small.txt"]
    assert flaky_s3.requests - before >= 2 + 3  # the failed ones, a listing, two uploads


class FailUploads(transfer.TransferListener):
    """Once the file is found, before its copy starts, make the proxy fail the next
    ``count`` requests."""

    def __init__(self, proxy: FaultProxy, count: int) -> None:
        self.proxy, self.count = proxy, count

    def found(self, name: str, size: int) -> None:
        self.proxy.fail_next(self.count)


@pytest.mark.parametrize("name", ["small.txt", "big.bin"])  # coroutines, threads
def test_retries_recopy_a_file_after_503s(flaky_s3, name):
    failing = transfer.copy(f"src:{name}", "s3:", listener=FailUploads(flaky_s3, 1))
    assert [f.name for f in failing.failed] == [name] and tree("direct") == {}
    result = transfer.copy(
        f"src:{name}", "s3:", retries=2, retry_delay=0.05, listener=FailUploads(flaky_s3, 2)
    )
    assert result.ok and list(tree("direct")) == [name]


# --bwlimit


@pytest.mark.parametrize("kind", ["memory", "s3"])
def test_bwlimit_holds_the_rate_within_a_quarter(request, tmp_path, kind):
    config = request.getfixturevalue(f"{kind}_mount_config")
    write_tree(tmp_path / "src", {"one.bin": os.urandom(3 * MiB), "two.bin": os.urandom(MiB)})
    mounts = {"src": {"type": "local", "path": str(tmp_path / "src")}, "d": config}
    with override_settings(STORAGE_MOUNTS=mounts):
        summary = copy("src:", "d:", "--bwlimit", "2M")[-1]
    assert summary["bytes"] == 4 * MiB
    rate = summary["bytes"] / summary["elapsed"]
    # The limit is a ceiling; the floor only catches a throttle far too eager,
    # loose enough for a machine busy with other work.
    assert 0.5 * 2 * MiB <= rate <= 1.25 * 2 * MiB, rate
