"""Nothing half-written is ever visible, and ``storage_cleanup`` removes what is left.

A local write goes to ``.<32 hex>.part`` beside its target and is published by
a rename or a link; an S3 upload of more than one part is a multipart upload
until it is completed; an Azure one stages blocks. A writer killed halfway
leaves those behind: no listing may show them, and ``storage_cleanup`` must
find and remove them (only those older than its threshold).
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.test import override_settings

from genro_storage_django import get_storage, transfer
from genro_storage_django.backends.local import is_temporary
from genro_storage_django.storage import MountStorage

ROOT = Path(__file__).resolve().parent.parent
PART = ".0123456789abcdef0123456789abcdef.part"


def _old(path: Path, hours: float = 2) -> None:
    past = time.time() - hours * 3600
    os.utime(path, (past, past))


def _walk(storage: MountStorage, path: str = "") -> Iterator[str]:
    directories, files = storage.listdir(path)
    for name in files:
        yield f"{path}/{name}" if path else name
    for directory in directories:
        yield from _walk(storage, f"{path}/{directory}" if path else directory)


@pytest.fixture
def local(tmp_path: Path) -> Iterator[tuple[MountStorage, Path]]:
    root = tmp_path / "mount"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "kept.txt").write_bytes(b"kept")
    (root / "docs" / PART).write_bytes(b"half")
    _old(root / "docs" / PART)
    (root / PART).write_bytes(b"young")  # a write going on now
    mounts = {"disk": {"type": "local", "path": str(root)}, "copy": {"type": "memory"}}
    with override_settings(STORAGE_MOUNTS=mounts):
        yield get_storage("disk"), root


def test_no_listing_shows_a_temporary_file(local):
    storage, _ = local
    assert storage.listdir("") == (["docs"], [])
    assert storage.listdir("docs") == ([], ["kept.txt"])
    assert [entry.name for entry in storage.scandir("docs")] == ["kept.txt"]
    assert [name for name, _ in storage.backend.find(storage.backend.mount_root)] == [
        "docs/kept.txt"
    ]
    result = transfer.copy("disk:", "copy:")
    assert [outcome.name for outcome in result.by_action("copy")] == ["docs/kept.txt"]
    assert list(_walk(get_storage("copy"))) == ["docs/kept.txt"]


def test_a_temporary_name_is_never_a_user_name(local):
    storage, _ = local
    for call in (
        lambda: storage.exists(f"docs/{PART}"),
        lambda: storage.open(f"docs/{PART}"),
        lambda: storage.save(PART, ContentFile(b"x")),
        lambda: storage.delete(f"docs/{PART}"),
    ):
        with pytest.raises(SuspiciousFileOperation, match="being written"):
            call()
    # A name that only looks alike is an ordinary name.
    assert storage.save(".0123.part", ContentFile(b"x")) == ".0123.part"
    assert not is_temporary(".0123.part")


def test_cleanup_removes_old_leftovers_and_leaves_young_ones(local):
    _, root = local
    out = io.StringIO()
    call_command("storage_cleanup", "disk", "--dry-run", stdout=out)
    assert "would remove temporary file 'docs/" in out.getvalue()
    assert "1 leftover would be removed (dry run)." in out.getvalue()
    assert (root / "docs" / PART).exists()
    out = io.StringIO()
    call_command("storage_cleanup", "disk", stdout=out)
    assert "1 leftover removed." in out.getvalue()
    assert not (root / "docs" / PART).exists()
    assert (root / PART).exists(), "a write younger than --older-than is left alone"
    assert (root / "docs" / "kept.txt").read_bytes() == b"kept"
    call_command("storage_cleanup", "disk", "--older-than", "0s", stdout=io.StringIO())
    assert not (root / PART).exists()


def test_cleanup_refusals_exit_2_and_change_nothing(local, tmp_path):
    _, root = local
    readonly = {"type": "local", "path": str(root), "permissions": "readonly"}
    with override_settings(STORAGE_MOUNTS={"ro": readonly}):
        with pytest.raises(CommandError, match="does not allow delete") as refused:
            call_command("storage_cleanup", "ro", stdout=io.StringIO())
        assert refused.value.returncode == 2
        with pytest.raises(CommandError) as unknown:
            call_command("storage_cleanup", "nope", stdout=io.StringIO())
        assert unknown.value.returncode == 2
    assert (root / "docs" / PART).exists()


def _pending_uploads(storage: MountStorage) -> list[str]:
    backend = storage.backend
    prefix = backend.key(backend.mount_root)
    page = backend.fs.call_s3("list_multipart_uploads", Bucket=backend.bucket, Prefix=f"{prefix}/")
    return [upload["Key"] for upload in page.get("Uploads", [])]


def test_cleanup_aborts_stale_multipart_uploads(s3_mount_config):
    with override_settings(STORAGE_MOUNTS={"bucket": s3_mount_config}):
        storage = get_storage("bucket")
        backend = storage.backend
        key = f"{backend.key(backend.mount_root)}/big/unfinished.bin"
        backend.fs.call_s3("create_multipart_upload", Bucket=backend.bucket, Key=key)
        assert _pending_uploads(storage) == [key]
        # moto dates every upload 2010-11-10, so the age threshold is tested on
        # local mounts only; here the upload is old whatever the threshold.
        out = io.StringIO()
        call_command("storage_cleanup", "bucket", "--older-than", "0s", stdout=out)
        assert "removed multipart upload 'big/unfinished.bin'" in out.getvalue()
        assert _pending_uploads(storage) == []
        assert storage.listdir("") == ([], [])


def test_cleanup_drops_uncommitted_azure_blocks(azure_mount_config):
    with override_settings(STORAGE_MOUNTS={"blob": azure_mount_config}):
        storage = get_storage("blob")
        storage.save("kept.txt", ContentFile(b"kept"))
        backend = storage.backend
        name = f"{backend.key(backend.mount_root)}/pending.bin"

        async def stage() -> None:
            async with backend.fs.service_client.get_blob_client(backend.bucket, name) as blob:
                await blob.stage_block("YmxvY2sx", b"x" * 1000)

        backend.run_on_loop(stage)
        found = list(backend.leftovers(datetime.timedelta(0)))
        assert [(leftover.kind, leftover.name) for leftover in found] == [
            ("uncommitted blocks", "pending.bin")
        ]
        call_command("storage_cleanup", "blob", "--older-than", "0s", stdout=io.StringIO())
        assert list(backend.leftovers(datetime.timedelta(0))) == []
        assert storage.listdir("") == ([], ["kept.txt"])
        assert storage.open("kept.txt").read() == b"kept"


class Victim:
    """The ``tests.killable_writer`` process: forks writers for the test to kill."""

    def __init__(self, mount: dict[str, Any]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.killable_writer", json.dumps(mount)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert self._line() == "ready"

    def _line(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def _send(self, line: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n")
        self.process.stdin.flush()
        return self._line()

    def write_and_kill(self, name: str, size: int, after: float) -> int:
        """Start writing ``name``; SIGKILL the writer ``after`` seconds; return its status."""
        pid = int(self._send(f"write {name} {size}"))
        time.sleep(after)
        with contextlib.suppress(ProcessLookupError):  # it had finished
            os.kill(pid, signal.SIGKILL)
        assert self.process.stdin is not None
        self.process.stdin.write(f"reap {pid}\n")
        self.process.stdin.flush()
        return int(self._line())

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _kill_writers(mount: dict[str, Any], runs: int, size: int, spread: float) -> list[int]:
    victim = Victim(mount)
    statuses = []
    random.seed(20261202)
    try:
        for run in range(runs):
            statuses.append(
                victim.write_and_kill(f"run-{run:03d}.bin", size, random.uniform(0, spread))
            )
    finally:
        victim.close()
    return statuses


def _assert_whole_or_nothing(storage: MountStorage, runs: int, size: int) -> None:
    names = list(_walk(storage))
    assert all(not is_temporary(name.rpartition("/")[2]) for name in names)
    for name in names:
        assert storage.size(name) == size, f"{name} is visible but not whole"
    assert set(names) <= {f"run-{run:03d}.bin" for run in range(runs)}


def test_sigkill_of_local_writers_leaves_nothing_visible(tmp_path):
    root = tmp_path / "victim"
    root.mkdir()
    mount = {"type": "local", "path": str(root)}
    size = 4 * 2**20
    statuses = _kill_writers(mount, runs=100, size=size, spread=0.06)
    killed = sum(1 for status in statuses if os.WIFSIGNALED(status))
    assert killed >= 50, "most writers must die mid-way for the test to mean anything"
    with override_settings(STORAGE_MOUNTS={"victim": mount}):
        storage = get_storage("victim")
        _assert_whole_or_nothing(storage, 100, size)
        left = [path for path in root.rglob("*.part")]
        assert left, "some writers were killed while writing their temporary file"
        call_command("storage_cleanup", "victim", "--older-than", "0s", stdout=io.StringIO())
        assert list(root.rglob("*.part")) == []
        _assert_whole_or_nothing(storage, 100, size)


def test_sigkill_of_s3_writers_leaves_nothing_visible(s3_mount_config):
    size = 20 * 2**20  # three parts of 8 MiB: a multipart upload
    statuses = _kill_writers(s3_mount_config, runs=20, size=size, spread=1.5)
    assert sum(1 for status in statuses if os.WIFSIGNALED(status)) >= 10
    with override_settings(STORAGE_MOUNTS={"victim": s3_mount_config}):
        storage = get_storage("victim")
        _assert_whole_or_nothing(storage, 20, size)
        assert _pending_uploads(storage), "killed writers leave their multipart uploads"
        call_command("storage_cleanup", "victim", "--older-than", "0s", stdout=io.StringIO())
        assert _pending_uploads(storage) == []
        _assert_whole_or_nothing(storage, 20, size)
