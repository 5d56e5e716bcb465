"""The transfer engine on real local directories and memory mounts."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.test import override_settings

from genro_storage_django import get_storage, transfer
from genro_storage_django.exceptions import MountNotFound, MountPermissionError
from genro_storage_django.transfer import FileOutcome, TransferListener
from tests.servers import http_fixture_files

MiB = 1024 * 1024
REPO = Path(__file__).resolve().parent.parent

TREE = {
    "a.txt": b"alpha",
    "photos/2024/one.jpg": b"j" * 3000,
    "photos/2024/two.png": b"p" * 10,
    "photos/thumbs/one.tmp": b"t",
    "docs/caf\u00e9 menu.pdf": b"%PDF" * 100,
    "empty.bin": b"",
}


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def storage_tree(mount: str, path: str = "") -> dict[str, bytes]:
    storage = get_storage(mount)
    backend = storage.backend
    return {
        name: storage.open(f"{path}/{name}" if path else name).read()
        for name, _ in backend.find(backend.full_path(path))
    }


def names(result: transfer.TransferResult, action: str) -> list[str]:
    return sorted(outcome.name for outcome in result.by_action(action))


@pytest.fixture
def dirs(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """Local mounts src and dst, a memory mount mem, and read-only / no-delete variants."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    mounts: dict[str, dict[str, Any]] = {
        "src": {"type": "local", "path": str(src)},
        "dst": {"type": "local", "path": str(dst)},
        "mem": {"type": "memory"},
        "mem2": {"type": "memory"},
        "ro": {"type": "local", "path": str(dst), "permissions": "readonly"},
        "nodelete": {"type": "local", "path": str(dst), "permissions": "readwrite"},
        "alias": {"type": "local", "path": str(src / "photos")},
    }
    with override_settings(STORAGE_MOUNTS=mounts):
        yield src, dst


class Recorder(TransferListener):
    def __init__(self) -> None:
        self.chunks: list[int] = []
        self.outcomes: list[FileOutcome] = []
        self.plan: tuple[int, int] | None = None

    def planned(self, files: int, size: int) -> None:
        self.plan = (files, size)

    def transferred(self, size: int) -> None:
        self.chunks.append(size)

    def done(self, outcome: FileOutcome) -> None:
        self.outcomes.append(outcome)


# Copying


def test_copies_a_directory_tree_recursively(dirs):
    src, dst = dirs
    write_tree(src, TREE)
    result = transfer.copy("src:", "dst:backup")
    assert read_tree(dst / "backup") == TREE
    assert names(result, "copy") == sorted(TREE)
    assert result.ok and result.failed == []
    assert result.bytes_copied == sum(len(data) for data in TREE.values())
    summary = result.summary()
    assert (summary["copied"], summary["skipped"], summary["failed"]) == (len(TREE), 0, 0)


def test_copies_a_subdirectory_keeping_relative_names(dirs):
    src, dst = dirs
    write_tree(src, TREE)
    transfer.copy("src:photos/2024", "dst:")
    assert read_tree(dst) == {"one.jpg": TREE["photos/2024/one.jpg"], "two.png": b"p" * 10}


@pytest.mark.parametrize(
    ("destination", "expected"),
    [("dst:", "a.txt"), ("dst:copies/", "copies/a.txt"), ("dst:renamed.txt", "renamed.txt")],
)
def test_copies_a_single_file(dirs, destination, expected):
    src, dst = dirs
    write_tree(src, TREE)
    (dst / "existing").mkdir()
    result = transfer.copy("src:a.txt", destination)
    assert read_tree(dst) == {expected: b"alpha"}
    assert names(result, "copy") == ["a.txt"]


def test_a_single_file_goes_into_an_existing_directory(dirs):
    src, dst = dirs
    write_tree(src, TREE)
    (dst / "existing").mkdir()
    transfer.copy("src:a.txt", "dst:existing")
    assert (dst / "existing" / "a.txt").read_bytes() == b"alpha"


@pytest.mark.parametrize(
    "target", ["local", "memory", "s3", "gcs", "azure", "sftp", "ftp", "webdav"]
)
def test_a_single_file_onto_every_kind_is_copied_then_skipped(target, tmp_path, request):
    # The target is found by one info(): a missing file must be FileNotFoundError on
    # every kind, or the first copy fails.
    (tmp_path / "one.txt").write_bytes(b"one file")
    config = request.getfixturevalue(f"{target}_mount_config")
    mounts = {"src": {"type": "local", "path": str(tmp_path)}, "dst": config}
    with override_settings(STORAGE_MOUNTS=mounts):
        first = transfer.copy("src:one.txt", "dst:into/one.txt")
        again = transfer.copy("src:one.txt", "dst:into/one.txt")
        assert get_storage("dst").open("into/one.txt").read() == b"one file"
    assert first.ok and [o.name for o in first.by_action("copy")] == ["one.txt"]
    assert again.ok and [o.name for o in again.by_action("skip")] == ["one.txt"]


@pytest.mark.parametrize("server_side", [True, False])
def test_keeps_modification_times_on_local_destinations(dirs, server_side):
    src, dst = dirs
    write_tree(src, TREE)
    old = time.time() - 86400 * 30
    os.utime(src / "a.txt", (old, old))
    transfer.copy("src:", "dst:", server_side=server_side)
    assert abs(os.path.getmtime(dst / "a.txt") - old) < 0.01


@pytest.mark.parametrize(("source", "destination"), [("src:", "mem:"), ("mem:", "dst:")])
def test_copies_between_local_and_memory(dirs, source, destination):
    src, dst = dirs
    write_tree(src, TREE)
    if source == "mem:":
        transfer.copy("src:", "mem:")
    result = transfer.copy(source, destination)
    assert result.ok
    assert storage_tree("mem") == TREE
    if destination == "dst:":
        assert read_tree(dst) == TREE


def test_copies_between_two_memory_mounts(dirs):
    src, _ = dirs
    write_tree(src, TREE)
    transfer.copy("src:", "mem:in")
    assert transfer.copy("mem:in", "mem2:out").ok
    assert storage_tree("mem2", "out") == TREE
    # Within one memory mount the backend copies without streaming.
    recorder = Recorder()
    transfer.copy("mem:in", "mem:again", listener=recorder)
    assert storage_tree("mem", "again") == TREE
    assert sorted(recorder.chunks) == sorted(len(data) for data in TREE.values())


def test_local_to_local_uses_the_kernel_copy_not_chunks(dirs):
    src, _ = dirs
    (src / "big.bin").write_bytes(os.urandom(3 * MiB + 5))
    server, streamed = Recorder(), Recorder()
    transfer.copy("src:big.bin", "dst:a.bin", listener=server)
    transfer.copy("src:big.bin", "dst:b.bin", listener=streamed, server_side=False)
    assert server.chunks == [3 * MiB + 5]
    assert streamed.chunks == [MiB, MiB, MiB, 5]


def test_overwrites_differing_files_without_alternative_names(dirs):
    src, dst = dirs
    write_tree(src, TREE)
    write_tree(dst, {"a.txt": b"old and longer", "photos/2024/two.png": b"x"})
    result = transfer.copy("src:", "dst:")
    assert read_tree(dst) == TREE
    assert "a.txt" in names(result, "copy")


def test_reports_progress_to_the_listener(dirs):
    src, _ = dirs
    write_tree(src, TREE)
    recorder = Recorder()
    result = transfer.copy("src:", "dst:", listener=recorder, server_side=False)
    total = sum(len(data) for data in TREE.values())
    assert recorder.plan == (len(TREE), total)
    assert sum(recorder.chunks) == total
    assert recorder.outcomes == list(result.outcomes)


# Skip rules


def test_rerun_with_default_skip_copies_nothing(dirs):
    src, _dst = dirs
    write_tree(src, TREE)
    transfer.copy("src:", "dst:")
    again = transfer.copy("src:", "dst:")
    assert names(again, "skip") == sorted(TREE)
    assert again.by_action("copy") == []
    assert {outcome.reason for outcome in again.outcomes} == {"same size"}


def test_size_skip_copies_a_changed_size(dirs):
    src, dst = dirs
    write_tree(src, TREE)
    transfer.copy("src:", "dst:")
    (src / "a.txt").write_bytes(b"alphabet")
    result = transfer.copy("src:", "dst:")
    assert names(result, "copy") == ["a.txt"]
    assert (dst / "a.txt").read_bytes() == b"alphabet"


def test_size_skip_copies_a_same_size_source_edited_after_the_copy(dirs):
    src, dst = dirs
    write_tree(src, TREE)
    transfer.copy("src:", "dst:")
    (src / "a.txt").write_bytes(b"ALPHA")
    later = time.time() + 60
    os.utime(src / "a.txt", (later, later))
    result = transfer.copy("src:", "dst:", skip="size-time")
    assert names(result, "copy") == ["a.txt"]
    assert result.by_action("copy")[0].reason == "source is newer"
    assert (dst / "a.txt").read_bytes() == b"ALPHA"


def test_exists_skip_keeps_any_existing_file(dirs):
    src, dst = dirs
    write_tree(src, TREE)
    write_tree(dst, {"a.txt": b"different"})
    result = transfer.copy("src:", "dst:", skip="exists")
    assert names(result, "skip") == ["a.txt"]
    assert (dst / "a.txt").read_bytes() == b"different"
    assert len(result.by_action("copy")) == len(TREE) - 1


def test_never_skip_copies_everything_again(dirs):
    src, _ = dirs
    write_tree(src, TREE)
    transfer.copy("src:", "dst:")
    result = transfer.copy("src:", "dst:", skip="never")
    assert names(result, "copy") == sorted(TREE)


@pytest.mark.parametrize("destination", ["dst", "mem"])
def test_hash_skip_compares_content(dirs, destination):
    src, _ = dirs
    write_tree(src, TREE)
    transfer.copy("src:", f"{destination}:")
    # Same size, same mtime tolerance window, other bytes: only a hash sees it.
    (src / "a.txt").write_bytes(b"ALPHA")
    assert transfer.copy("src:", f"{destination}:").by_action("copy") == []
    result = transfer.copy("src:", f"{destination}:", skip="hash")
    assert names(result, "copy") == ["a.txt"]
    assert result.by_action("copy")[0].reason == "checksum differs"
    assert {o.reason for o in result.by_action("skip")} == {"same checksum"}
    assert storage_tree(destination)["a.txt"] == b"ALPHA"


def test_rejects_an_unknown_skip_rule_and_no_workers(dirs):
    with pytest.raises(ValueError, match="skip must be one of"):
        transfer.copy("src:", "dst:", skip="mtime")
    with pytest.raises(ValueError, match="workers must be at least 1"):
        transfer.copy("src:", "dst:", workers=0)


# Filters, dry run, delete


def test_include_and_exclude_match_the_path_relative_to_the_source(dirs):
    src, dst = dirs
    write_tree(src, TREE)
    result = transfer.copy("src:", "dst:", include=["photos/*", "*.txt"], exclude=["*.tmp"])
    assert sorted(read_tree(dst)) == ["a.txt", "photos/2024/one.jpg", "photos/2024/two.png"]
    assert names(result, "copy") == sorted(read_tree(dst))


def test_dry_run_changes_nothing_and_says_what_would_happen(dirs):
    src, dst = dirs
    write_tree(src, TREE)
    write_tree(dst, {"a.txt": b"alpha", "stale.txt": b"old"})
    result = transfer.copy("src:", "dst:", dry_run=True, delete=True)
    assert read_tree(dst) == {"a.txt": b"alpha", "stale.txt": b"old"}
    assert result.dry_run
    assert names(result, "copy") == sorted(set(TREE) - {"a.txt"})
    assert names(result, "skip") == ["a.txt"]
    assert names(result, "delete") == ["stale.txt"]


def test_delete_makes_a_mirror_only_under_the_destination(dirs):
    src, dst = dirs
    write_tree(src, TREE)
    outside = {"mirror2/keep.txt": b"k", "keep.txt": b"k"}
    write_tree(dst, {**outside, "mirror/stale.txt": b"s", "mirror/photos/old.jpg": b"o"})
    result = transfer.copy("src:", "dst:mirror", delete=True)
    assert names(result, "delete") == ["photos/old.jpg", "stale.txt"]
    assert read_tree(dst) == {**outside, **{f"mirror/{k}": v for k, v in TREE.items()}}


def test_delete_keeps_excluded_files(dirs):
    src, dst = dirs
    write_tree(src, TREE)
    write_tree(dst, {"cache.tmp": b"c", "stale.txt": b"s"})
    result = transfer.copy("src:", "dst:", delete=True, exclude=["*.tmp"])
    assert names(result, "delete") == ["stale.txt"]
    assert (dst / "cache.tmp").exists()


def test_delete_on_a_memory_destination(dirs):
    src, _ = dirs
    write_tree(src, TREE)
    transfer.copy("src:", "mem:")
    get_storage("mem").save("stale.txt", ContentFile(b"s"))
    (src / "a.txt").unlink()
    result = transfer.copy("src:", "mem:", delete=True)
    assert names(result, "delete") == ["a.txt", "stale.txt"]
    assert sorted(storage_tree("mem")) == sorted(set(TREE) - {"a.txt"})


@pytest.mark.parametrize("workers", [1, 8])
def test_any_number_of_workers_gives_the_same_copy(dirs, workers):
    src, dst = dirs
    files = {f"many/{i:03}.txt": f"file {i}".encode() * i for i in range(60)}
    write_tree(src, files)
    result = transfer.copy("src:", "dst:", workers=workers, server_side=False)
    assert read_tree(dst) == files
    assert len(result.by_action("copy")) == 60


# Refusals: nothing is written


@pytest.mark.parametrize(
    ("source", "destination", "error", "message"),
    [
        ("nowhere:", "dst:", MountNotFound, "defined mounts: 'alias', 'dst', 'mem'"),
        ("src:", "nowhere:x", MountNotFound, "'nowhere' is not defined"),
        ("src:missing", "dst:", FileNotFoundError, "src:missing does not exist"),
        ("src:", "ro:", MountPermissionError, "does not allow write"),
        ("src:", "src:sub", ValueError, "overlap"),
        ("src:photos", "src:", ValueError, "overlap"),
        ("src:photos", "src:photos", ValueError, "overlap"),
        ("alias:", "dst:", None, None),
        ("src:", "alias:x", ValueError, "overlap"),
        ("src:../etc", "dst:", SuspiciousFileOperation, "path traversal"),
        ("src", "dst:", ValueError, "is not MOUNT:PATH"),
    ],
)
def test_refuses_before_any_transfer(dirs, source, destination, error, message):
    src, dst = dirs
    write_tree(src, TREE)
    if error is None:
        assert transfer.copy(source, destination).ok
        return
    with pytest.raises(error, match=message):
        transfer.copy(source, destination)
    assert read_tree(dst) == {}
    assert read_tree(src) == TREE


def test_refuses_delete_without_the_permission_or_on_a_file(dirs):
    src, dst = dirs
    write_tree(src, TREE)
    with pytest.raises(MountPermissionError, match="does not allow delete"):
        transfer.copy("src:", "nodelete:", delete=True)
    with pytest.raises(ValueError, match="needs a directory source"):
        transfer.copy("src:a.txt", "dst:", delete=True)
    assert transfer.copy("src:", "nodelete:").ok
    assert read_tree(dst) == TREE


# Failures, interruptions, resuming


class VanishingSource(Recorder):
    """Delete a source file once found, before its copy starts: the copy then fails for real."""

    def __init__(self, path: Path, name: str) -> None:
        super().__init__()
        self.path, self.name = path, name

    def found(self, name: str, size: int) -> None:
        if name == self.name:
            self.path.unlink()


def test_a_failed_file_is_reported_and_the_others_copied(dirs):
    src, dst = dirs
    write_tree(src, TREE)
    result = transfer.copy("src:", "dst:", listener=VanishingSource(src / "a.txt", "a.txt"))
    assert [f.name for f in result.failed] == ["a.txt"]
    assert "FileNotFoundError" in result.failed[0].reason
    assert not result.ok
    assert result.summary()["failures"][0]["name"] == "a.txt"
    assert read_tree(dst) == {k: v for k, v in TREE.items() if k != "a.txt"}


class CrashAfter(Recorder):
    """Raise from inside a file's stream once ``limit`` bytes went through."""

    def __init__(self, limit: int, error: BaseException) -> None:
        super().__init__()
        self.limit, self.error = limit, error

    def transferred(self, size: int) -> None:
        super().transferred(size)
        if sum(self.chunks) >= self.limit:
            raise self.error


@pytest.mark.parametrize("destination", ["dst:", "mem:"])
def test_a_crash_inside_a_file_leaves_no_partial_file(dirs, destination):
    src, dst = dirs
    (src / "big.bin").write_bytes(os.urandom(4 * MiB))
    listener = CrashAfter(2 * MiB, RuntimeError("disk on fire"))
    result = transfer.copy("src:", destination, listener=listener, server_side=False)
    assert [f.reason for f in result.failed] == ["RuntimeError: disk on fire"]
    assert not get_storage(destination.rstrip(":")).exists("big.bin")
    assert os.listdir(dst) == []  # not even the temporary file


class InterruptAfter(Recorder):
    """Press Ctrl-C (a real SIGINT) once ``count`` files are done."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    def done(self, outcome: FileOutcome) -> None:
        super().done(outcome)
        if len(self.outcomes) == self.count:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the signal lands here, in the main thread


def test_ctrl_c_stops_cleanly_and_a_rerun_resumes(dirs):
    src, dst = dirs
    # Files of a few chunks each, streamed: the workers cannot finish them all
    # in the moment between the 10th file and the signal.
    files = {f"batch/{i:03}.bin": os.urandom(3 * MiB + i) for i in range(30)}
    write_tree(src, files)
    first = transfer.copy("src:", "dst:", listener=InterruptAfter(10), workers=2, server_side=False)
    assert first.interrupted and not first.ok
    copied = read_tree(dst)
    assert 10 <= len(copied) < 30
    assert all(files[name] == data for name, data in copied.items())
    assert names(first, "copy") == sorted(copied)

    second = transfer.copy("src:", "dst:")
    assert sorted(names(second, "copy") + names(second, "skip")) == sorted(files)
    assert names(second, "skip") == sorted(copied)
    digest = hashlib.sha256
    assert {k: digest(v).digest() for k, v in read_tree(dst).items()} == {
        k: digest(v).digest() for k, v in files.items()
    }


def test_ctrl_c_inside_a_large_file_leaves_no_partial_file(dirs):
    src, dst = dirs
    (src / "big.bin").write_bytes(os.urandom(8 * MiB))
    (src / "small.txt").write_bytes(b"small")
    listener = CrashAfter(3 * MiB, KeyboardInterrupt())
    result = transfer.copy("src:", "dst:", listener=listener, server_side=False, workers=1)
    assert result.interrupted
    assert "big.bin" not in read_tree(dst)
    assert not any(name.endswith(".part") for name in os.listdir(dst))
    again = transfer.copy("src:", "dst:")
    assert again.ok
    assert read_tree(dst) == read_tree(src)


# Bounded memory


def test_a_200_mib_file_streams_with_bounded_memory(dirs):
    src, dst = dirs
    digest = hashlib.sha256()
    with open(src / "large.bin", "wb") as file:
        block = os.urandom(MiB)
        for index in range(200):
            chunk = index.to_bytes(4, "big") + block[4:]
            digest.update(chunk)
            file.write(chunk)
    tracemalloc.start()
    try:
        result = transfer.copy("src:large.bin", "dst:", server_side=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.ok and result.bytes_copied == 200 * MiB
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB"
    copied = hashlib.sha256()
    with open(dst / "large.bin", "rb") as file:
        while chunk := file.read(MiB):
            copied.update(chunk)
    assert copied.digest() == digest.digest()


# Across backends, on the local servers of tests/servers.py

PAIRS = [
    ("local", "s3"),
    ("s3", "local"),
    ("s3", "s3"),
    ("s3", "azure"),
    ("azure", "s3"),
    ("gcs", "local"),
    ("local", "gcs"),
    ("memory", "local"),
    ("local", "memory"),
]


def content_type(mount: str, name: str) -> str | None:
    storage = get_storage(mount)
    info = storage.backend.fs.info(storage.backend.full_path(name))
    settings = info.get("content_settings") or {}
    return info.get("ContentType") or info.get("contentType") or settings.get("content_type")


@pytest.mark.parametrize(("source_kind", "target_kind"), PAIRS)
def test_copies_across_backends(request, tmp_path, source_kind, target_kind):
    configs = {
        kind: request.getfixturevalue(f"{kind}_mount_config") for kind in (source_kind, target_kind)
    }
    seed, check = tmp_path / "seed", tmp_path / "check"
    write_tree(seed, TREE)
    mounts = {
        "seed": {"type": "local", "path": str(seed)},
        "check": {"type": "local", "path": str(check)},
        "a": configs[source_kind],
        "b": configs[target_kind],
    }
    with override_settings(STORAGE_MOUNTS=mounts):
        assert transfer.copy("seed:", "a:in").ok
        first = transfer.copy("a:in", "b:out", workers=3)
        assert first.ok and names(first, "copy") == sorted(TREE)
        again = transfer.copy("a:in", "b:out")
        assert names(again, "skip") == sorted(TREE)
        hashed = transfer.copy("a:in", "b:out", skip="hash")
        assert names(hashed, "skip") == sorted(TREE)
        assert transfer.copy("b:out", "check:").ok
        assert read_tree(check) == TREE
        if target_kind in ("s3", "gcs"):
            # The listing carries the MD5 that --skip hash compares without reading.
            backend = get_storage("b").backend
            listed = dict(backend.find(backend.full_path("out")))
            md5 = {name: hashlib.md5(data).hexdigest() for name, data in TREE.items()}
            assert {name: backend.checksums(info)["md5"] for name, info in listed.items()} == md5
        if target_kind in ("s3", "gcs", "azure"):
            assert content_type("b", "out/photos/2024/one.jpg") == "image/jpeg"
            assert content_type("b", "out/a.txt").startswith("text/plain")


def test_s3_to_s3_copies_on_the_server_and_compares_etags(s3_mount_config, s3_server, tmp_path):
    seed = tmp_path / "seed"
    write_tree(seed, {"big.bin": os.urandom(3 * MiB + 5), "small.txt": b"small"})
    mounts = {
        "seed": {"type": "local", "path": str(seed)},
        "a": s3_mount_config,
        "b": {**s3_mount_config, "prefix": f"{s3_mount_config['prefix']}-other"},
    }
    with override_settings(STORAGE_MOUNTS=mounts):
        transfer.copy("seed:", "a:")
        recorder = Recorder()
        assert transfer.copy("a:", "b:", listener=recorder).ok
        # Whole files at once: the server copied them, no 1 MiB chunks went through.
        assert sorted(recorder.chunks) == [5, 3 * MiB + 5]
        s3_server.log.clear()
        hashed = transfer.copy("a:", "b:", skip="hash")
        assert {o.reason for o in hashed.outcomes} == {"same checksum"}
        # ETags compared from the listings: no object was downloaded.
        reads = [request[1] for request in s3_server.log.snapshot() if request[0] == "GET"]
        assert all(path.rstrip("/").count("/") == 1 for path in reads), reads
        with pytest.raises(ValueError, match="overlap"):
            transfer.copy("a:", "a:inner")


# Many small files on S3: coroutines on fsspec's event loop, not worker threads


class ThreadRecorder(Recorder):
    """Remember the thread that moved each amount of bytes."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[tuple[int, str]] = []

    def transferred(self, size: int) -> None:
        super().transferred(size)
        self.threads.append((size, threading.current_thread().name))


@pytest.fixture
def s3_and_local(s3_mount_config, tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    mounts = {
        "src": {"type": "local", "path": str(src)},
        "dst": {"type": "local", "path": str(dst)},
        "s3": s3_mount_config,
    }
    with override_settings(STORAGE_MOUNTS=mounts):
        yield src, dst


SMALL_FILES = {f"small/{i:02}.bin": os.urandom(100 + i) for i in range(24)}


@pytest.mark.parametrize(("source", "destination"), [("src:", "s3:in"), ("s3:in", "dst:")])
def test_small_files_of_s3_are_coroutines_and_large_ones_threads(s3_and_local, source, destination):
    src, dst = s3_and_local
    files = {**SMALL_FILES, "large.bin": os.urandom(2 * MiB)}
    write_tree(src, files)
    if source.startswith("s3"):
        assert transfer.copy("src:", "s3:in").ok
    recorder = ThreadRecorder()
    result = transfer.copy(source, destination, listener=recorder, workers=3)
    assert result.ok and names(result, "copy") == sorted(files)
    small = {thread for size, thread in recorder.threads if size < 1000}
    large = {thread for size, thread in recorder.threads if size >= MiB}
    # The large file in chunks: of a MiB from a local file, one block from S3.
    chunks = [size for size, _ in recorder.threads if size >= MiB]
    assert chunks == ([MiB, MiB] if source == "src:" else [2 * MiB])
    assert len(recorder.threads) == len(SMALL_FILES) + len(chunks)
    assert small == {"fsspecIO"}  # fsspec's event loop thread
    assert len(large) == 1 and large.pop().startswith("storage-copy")
    assert (read_tree(dst) if destination == "dst:" else storage_tree("s3", "in")) == files


def test_a_vanished_small_file_fails_alone_on_the_event_loop(s3_and_local):
    src, _ = s3_and_local
    write_tree(src, SMALL_FILES)
    listener = VanishingSource(src / "small/05.bin", "small/05.bin")
    result = transfer.copy("src:", "s3:in", listener=listener)
    assert [f.name for f in result.failed] == ["small/05.bin"]
    assert "FileNotFoundError" in result.failed[0].reason
    assert len(names(result, "copy")) == len(SMALL_FILES) - 1
    assert not get_storage("s3").exists("in/small/05.bin")


def test_ctrl_c_from_a_listener_on_the_event_loop_stops_and_the_loop_lives_on(s3_and_local):
    src, _ = s3_and_local
    write_tree(src, SMALL_FILES)
    # KeyboardInterrupt raised on fsspec's loop thread must not end that loop.
    listener = CrashAfter(1000, KeyboardInterrupt())
    first = transfer.copy("src:", "s3:in", listener=listener, workers=2)
    assert first.interrupted and 1 <= len(names(first, "copy")) < len(SMALL_FILES)
    second = transfer.copy("src:", "s3:in")
    assert second.ok
    assert sorted(names(second, "copy") + names(second, "skip")) == sorted(SMALL_FILES)
    assert storage_tree("s3", "in") == SMALL_FILES


class FailOnDone(Recorder):
    """Raise ``error`` from ``done()`` at the ``count``-th file."""

    def __init__(self, count: int, error: BaseException) -> None:
        super().__init__()
        self.count, self.error = count, error

    def done(self, outcome: FileOutcome) -> None:
        super().done(outcome)
        if len(self.outcomes) == self.count:
            raise self.error


def test_a_listener_error_on_the_event_loop_reaches_the_caller_and_stops_the_rest(s3_and_local):
    src, _ = s3_and_local
    write_tree(src, SMALL_FILES)
    listener = FailOnDone(4, RuntimeError("listener broke"))
    with pytest.raises(RuntimeError, match="listener broke"):
        transfer.copy("src:", "s3:in", listener=listener, in_flight=2)
    # The other copy stopped at its next file; the loop still serves the rerun.
    assert 4 <= len(storage_tree("s3", "in")) <= 5
    assert transfer.copy("src:", "s3:in").ok
    assert storage_tree("s3", "in") == SMALL_FILES


def test_ctrl_c_raised_by_done_on_the_event_loop_interrupts(s3_and_local):
    src, _ = s3_and_local
    write_tree(src, SMALL_FILES)
    first = transfer.copy("src:", "s3:in", listener=FailOnDone(4, KeyboardInterrupt()))
    assert first.interrupted and len(names(first, "copy")) >= 4
    assert transfer.copy("src:", "s3:in").ok


def test_a_real_ctrl_c_during_small_s3_copies_stops_cleanly(s3_and_local):
    src, _ = s3_and_local
    write_tree(src, SMALL_FILES)
    first = transfer.copy("src:", "s3:in", listener=InterruptAfter(3), in_flight=1)
    assert first.interrupted and not first.ok
    assert 3 <= len(names(first, "copy")) < len(SMALL_FILES)
    assert sorted(storage_tree("s3", "in")) == names(first, "copy")
    assert transfer.copy("src:", "s3:in").ok
    assert storage_tree("s3", "in") == SMALL_FILES


def test_http_source_to_local(http_mount_config, tmp_path):
    expected = {
        name[len("docs/") :]: data
        for name, data in http_fixture_files(tmp_path / "published").items()
        if name.startswith("docs/")
    }
    check = tmp_path / "check"
    mounts = {"web": http_mount_config, "check": {"type": "local", "path": str(check)}}
    with override_settings(STORAGE_MOUNTS=mounts):
        first = transfer.copy("web:docs", "check:")
        assert first.ok and read_tree(check) == expected
        assert first.bytes_copied == sum(len(data) for data in expected.values())
        again = transfer.copy("web:docs", "check:")
        assert names(again, "skip") == sorted(expected)
        assert transfer.copy("web:hello.txt", "check:").ok
        assert (check / "hello.txt").read_bytes() == b"Hello, world!\n"
        with pytest.raises(MountPermissionError, match="does not allow write"):
            transfer.copy("check:", "web:copy")


# Planning in constant memory: the two listings are merged, the plan spooled to disk

PLAN_PROBE = """
import resource, sys, time
import django
django.setup()
from django.test import override_settings
from genro_storage_django.transfer import FileStat, Location, Transfer
from genro_storage_django.transfer.plan import merge

COUNT = int(sys.argv[3])

def listing(changed):
    # A rerun's listings: the same names, one file in 100 of another size.
    same, other = FileStat(1000), FileStat(999)
    for i in range(COUNT):
        yield f"d{i // 1000:04}/f{i:07}.bin", other if changed and i % 100 == 0 else same

mounts = {"a": {"type": "local", "path": sys.argv[1]}, "b": {"type": "local", "path": sys.argv[2]}}
with override_settings(STORAGE_MOUNTS=mounts):
    copy = Transfer(Location.parse("a:"), Location.parse("b:"), dry_run=True)
    assert copy._source_is_dir
    # The whole run (a dry one: the files are not there), its outcomes included.
    copy._merged = lambda: merge(listing(False), listing(True))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = copy.run()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
summary = result.summary()
first = min((o for o in result.outcomes if o.action == "copy"), key=lambda o: o.name)
counts = [summary["skipped"], summary["copied"], summary["bytes"], first.name, first.reason]
print(counts, (after - before) // 1024)
"""


def test_a_dry_run_over_a_million_names_keeps_memory_constant(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "testproject")])
    args = [sys.executable, "-c", PLAN_PROBE, str(tmp_path / "a"), str(tmp_path / "b"), "1000000"]
    output = subprocess.run(args, env=env, capture_output=True, text=True, cwd=REPO)
    assert output.returncode == 0, output.stderr[-3000:]
    counts, growth = output.stdout.rsplit(" ", 1)
    assert counts == "[990000, 10000, 10000000, 'd0000/f0000000.bin', 'size differs']"
    # Two dicts of a million FileStats would take several hundred MiB.
    assert int(growth) < 50, f"peak RSS grew by {growth} MiB"


def test_listings_come_in_one_key_order_on_disk_and_on_s3(s3_and_local):
    # "a-b" < "a.txt" < "a/x" < "a0" in UTF-8 bytes: S3's order, which a directory
    # walk must follow ("a/" sorts after "a-b" and "a.txt", before "a0").
    src, _ = s3_and_local
    names = ["a-b", "a.txt", "a/x", "a/y/z", "a0", "b", "caf\u00e9", "cafe/\u00e9"]
    write_tree(src, {name: name.encode() for name in names})
    assert transfer.copy("src:", "s3:in").ok
    from genro_storage_django.transfer.listing import Location
    from genro_storage_django.transfer.ordered import ordered_files

    for location in ("src:", "s3:in"):
        listed = [name for name, _ in ordered_files(Location.parse(location))]
        assert listed == sorted(names, key=lambda name: name.encode()), location


def test_a_shard_asked_again_skips_what_its_lost_attempt_finished(dirs):
    from genro_storage_django.transfer.listing import Location
    from genro_storage_django.transfer.plan import Plan
    from genro_storage_django.transfer.shard_run import run_shard
    from genro_storage_django.transfer.shards import DONE_BEFORE, cut, make_shard

    src, dst = dirs
    files = {f"s/{i:02}.bin": os.urandom(100 + i) for i in range(10)}
    write_tree(src, files)
    copy = transfer.Transfer(Location.parse("src:"), Location.parse("dst:"))
    with Plan() as plan:
        (shard,) = cut(copy.decisions(plan), 100, 10 * MiB)
        message = make_shard(copy, shard)
    # The lost attempt had copied the first four files (whole: writes are atomic).
    write_tree(dst, {name: files[name] for name in sorted(files)[:4]})
    recorder = Recorder()
    answer = run_shard(message, recorder, redelivered=True)
    outcomes = [FileOutcome(*data) for data in answer["outcomes"]]
    assert [o.name for o in outcomes if o.reason == DONE_BEFORE] == sorted(files)[:4]
    assert sorted(o.name for o in outcomes if o.action == "copy") == sorted(files)[4:]
    assert read_tree(dst) == files
    # Asked once more, as a first delivery: the plan's verdicts stand (all copied).
    assert len(run_shard(message, recorder)["outcomes"]) == len(files)


def test_shards_are_cut_by_count_and_by_bytes():
    from genro_storage_django.transfer.listing import FileStat, Item
    from genro_storage_django.transfer.plan import Decision
    from genro_storage_django.transfer.rules import Verdict

    def decision(name: str, size: int) -> Decision:
        return Decision(Item(name, name, name, FileStat(size), None), Verdict("copy", "new"))

    from genro_storage_django.transfer.shards import cut

    sizes = [1, 1, 1, 1, 1, 8, 20, 1, 1]
    shards = cut(iter(decision(f"{i}", size) for i, size in enumerate(sizes)), 3, 10)
    assert [[d.item.stat.size for d in shard] for shard in shards] == [
        [1, 1, 1],
        [1, 1, 8],
        [20],
        [1, 1],
    ]
    with pytest.raises(ValueError, match="at least 1 file"):
        cut(iter(()), 0, 10)


def test_celery_options_need_the_celery_engine(dirs):
    with pytest.raises(ValueError, match="shard_files: only with engine='celery'"):
        transfer.copy("src:", "dst:", shard_files=3)
    with pytest.raises(ValueError, match="engine must be one of threads, celery"):
        transfer.copy("src:", "dst:", engine="processes")
    with pytest.raises(TypeError, match="Unexpected options: shards"):
        transfer.copy("src:", "dst:", engine="celery", shards=3)
