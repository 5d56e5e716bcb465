"""``manage.py storage_copy``: options, output and refusals, in process and as a real process."""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from genro_storage_django import get_storage, transfer
from genro_storage_django.management.commands.storage_copy import Command, Reporter, summary_line
from tests.servers import RestartableS3
from tests.test_transfer import TREE, read_tree, write_tree

REPO = Path(__file__).resolve().parent.parent


def mounts_for(src: Path, dst: Path) -> dict[str, dict[str, Any]]:
    return {
        "src": {"type": "local", "path": str(src)},
        "dst": {"type": "local", "path": str(dst)},
        "mem": {"type": "memory"},
        "ro": {"type": "local", "path": str(dst), "permissions": "readonly"},
        "nodelete": {"type": "local", "path": str(dst), "permissions": "readwrite"},
    }


@pytest.fixture
def dirs(tmp_path: Path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    write_tree(src, TREE)
    with override_settings(STORAGE_MOUNTS=mounts_for(src, dst)):
        yield src, dst


def run(*args: str) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("storage_copy", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_copies_and_prints_a_summary(dirs):
    _, dst = dirs
    out, err = run("src:", "dst:backup")
    assert read_tree(dst / "backup") == TREE
    size = sum(len(data) for data in TREE.values())
    assert out.startswith(f"Copied {len(TREE)} files ({size / 1024:.1f} KiB), skipped 0, ")
    assert "deleted 0, failed 0 in " in out and out.rstrip().endswith("/s).")
    assert out.count("\n") == 1
    assert err == ""  # not a terminal: no progress bar


def test_verbosity_levels(dirs):
    assert run("src:", "dst:", "-v", "0") == ("", "")
    (Path(dirs[0]) / "a.txt").write_bytes(b"changed")
    out, _ = run("src:", "dst:", "-v", "2")
    assert out.splitlines()[0] == "copied a.txt (size differs)"
    assert len(out.splitlines()) == 2  # no line for the skipped files
    out, _ = run("src:", "dst:", "-v", "3")
    lines = out.splitlines()
    # Skips come as the listings pass them, the totals once the listings end.
    assert lines[:-2] == [f"skipped {name} (same size)" for name in sorted(TREE)]
    assert lines[-2] == "To process: 0 files, 0 B."
    assert lines[-1].startswith("Copied 0 files (0 B), skipped 6,")


def last_json(out: str) -> dict[str, Any]:
    """The summary object: the last line of --json's NDJSON."""
    return json.loads(out.splitlines()[-1])


def test_json_summary(dirs):
    out, _ = run("src:", "dst:", "--json", "-v", "2")
    summary = last_json(out)
    assert summary["copied"] == len(TREE)
    assert summary["bytes"] == sum(len(data) for data in TREE.values())
    assert (summary["skipped"], summary["deleted"], summary["failed"]) == (0, 0, 0)
    assert summary["source"] == "src:" and summary["destination"] == "dst:"
    assert summary["failures"] == [] and not summary["dry_run"]


def test_dry_run_shows_copies_and_deletions_and_changes_nothing(dirs):
    _, dst = dirs
    write_tree(dst, {"stale.txt": b"s"})
    out, _ = run("src:", "dst:", "--dry-run", "--delete", "-v", "2")
    assert "would copy a.txt (new)" in out.splitlines()
    assert "would delete stale.txt (not in source)" in out.splitlines()
    assert out.splitlines()[-1].startswith(f"Would copy {len(TREE)} files")
    assert "delete 1" in out.splitlines()[-1]
    assert read_tree(dst) == {"stale.txt": b"s"}


def test_delete_include_exclude_skip_and_workers(dirs):
    src, dst = dirs
    write_tree(dst, {"stale.txt": b"s", "keep.tmp": b"k"})
    args = ["--delete", "--include", "*.txt", "--include", "photos/*", "--exclude", "*.tmp"]
    out, _ = run("src:", "dst:", *args, "--workers", "3", "--skip", "hash", "--json")
    summary = last_json(out)
    assert (summary["copied"], summary["deleted"]) == (3, 1)
    assert read_tree(dst) == {
        "a.txt": b"alpha",
        "keep.tmp": b"k",
        "photos/2024/one.jpg": TREE["photos/2024/one.jpg"],
        "photos/2024/two.png": TREE["photos/2024/two.png"],
    }
    (src / "a.txt").write_bytes(b"ALPHA")
    summary = last_json(run("src:", "dst:", "--skip", "hash", "--json")[0])
    # a.txt (same size, other bytes) and the three files the filters left out.
    assert (summary["copied"], summary["skipped"]) == (4, 2)
    summary = last_json(run("src:", "dst:", "--skip", "never", "--json")[0])
    assert summary["copied"] == len(TREE)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere:", "dst:"], "'nowhere' is not defined in STORAGE_MOUNTS (defined mounts: 'dst'"),
        (["src:missing", "dst:"], "src:missing does not exist."),
        (["src:", "ro:"], "Mount 'ro' does not allow write"),
        (["src:", "nodelete:", "--delete"], "Mount 'nodelete' does not allow delete"),
        (["src:", "src:inner"], "src: and src:inner overlap"),
        (["src:", "dst:", "--workers", "0"], "workers must be at least 1"),
        (["src:", "dst:", "--skip", "mtime"], "invalid choice: 'mtime'"),
        (["src", "dst:"], "is not MOUNT:PATH"),
        (["src:../x", "dst:"], "path traversal"),
    ],
)
def test_refusals_are_command_errors(dirs, args, message):
    _, dst = dirs
    with pytest.raises(CommandError) as error:
        run(*args)
    assert message in str(error.value)
    assert read_tree(dst) == {}


def test_failed_files_exit_non_zero_with_names_and_reasons(dirs):
    _, dst = dirs
    # A destination directory where a file should go makes that one copy fail.
    (dst / "a.txt").mkdir()
    out = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("storage_copy", "src:", "dst:", "--skip", "never", stdout=out)
    assert str(error.value).startswith("1 file failed:\n  a.txt: ")
    assert "failed 1" in out.getvalue()
    assert "FAILED a.txt" in out.getvalue()
    assert read_tree(dst) == {k: v for k, v in TREE.items() if k != "a.txt"}


def test_memory_mounts_both_ways(dirs):
    _, dst = dirs
    run("src:", "mem:copy")
    assert get_storage("mem").open("copy/photos/2024/two.png").read() == b"p" * 10
    run("mem:copy", "dst:back")
    assert read_tree(dst / "back") == TREE


# As a real process: exit code, the progress bar on a terminal.


def manage(tmp_path: Path, *args: str, tty: bool = False) -> tuple[int, str, str]:
    src, dst = tmp_path / "src", tmp_path / "dst"
    settings = tmp_path / "copy_settings.py"
    settings.write_text(
        f"from tests.settings import *  # noqa\nSTORAGE_MOUNTS = {mounts_for(src, dst)!r}\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO), str(REPO / "testproject")]),
        "DJANGO_SETTINGS_MODULE": "copy_settings",
    }
    command = [sys.executable, "-m", "django", "storage_copy", *args]
    if not tty:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout, done.stderr
    # stderr on a pseudo-terminal, as in an interactive shell.
    leader, follower = pty.openpty()
    # A terminal has a size; tqdm draws nothing in zero columns.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL
    )
    os.close(follower)
    seen = b""
    while select.select([leader], [], [], 60)[0]:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        seen += data
    os.close(leader)
    stdout = process.stdout.read().decode() if process.stdout else ""
    return process.wait(timeout=60), stdout, seen.decode(errors="replace")


def test_command_line_exit_codes(tmp_path):
    (tmp_path / "src").mkdir()
    write_tree(tmp_path / "src", TREE)
    code, out, err = manage(tmp_path, "src:", "dst:")
    assert code == 0 and out.startswith(f"Copied {len(TREE)} files")
    assert read_tree(tmp_path / "dst") == TREE
    code, out, err = manage(tmp_path, "src:", "ro:")
    # A refusal (nothing changed) exits 2; failed files exit 1.
    assert code == 2 and "CommandError: Mount 'ro' does not allow write" in err


def test_progress_bar_on_a_terminal_only(tmp_path):
    (tmp_path / "src").mkdir()
    write_tree(tmp_path / "src", TREE)
    code, out, bar = manage(tmp_path, "src:", "dst:", tty=True)
    assert code == 0 and out.startswith("Copied")
    assert "file" in bar and "B/s" in bar
    code, out, bar = manage(tmp_path, "src:", "dst:", "--skip", "never", "--no-progress", tty=True)
    assert code == 0 and bar == ""


def test_progress_bars_grow_as_the_files_are_found(dirs):
    # Copying starts before the listings end: the totals follow the files found.
    reporter = Reporter(Command(), 1, progress=True, dry_run=False)
    reporter.start()
    try:
        assert [bar.total for bar in reporter.bars] == [0, 0]
        assert transfer.copy("src:", "dst:", listener=reporter).ok
        expected = [sum(len(data) for data in TREE.values()), len(TREE)]
        assert [bar.total for bar in reporter.bars] == expected
        assert [bar.n for bar in reporter.bars] == expected
    finally:
        reporter.close()


# Faults on a real S3 server (moto) that this test owns, stops and restarts.

MiB = 1024 * 1024
FAULT_BUCKET = "transfer-faults"


class PrivateS3(RestartableS3):
    """A moto server of this test's own, with a mount that fails fast once it stops."""

    def mount(self) -> dict[str, Any]:
        # Small parts, so that a 16 MiB file is a multipart upload; few retries,
        # so that a stopped server fails fast.
        config = {"signature_version": "s3v4", "retries": {"max_attempts": 1}}
        return {
            "type": "s3",
            "bucket": FAULT_BUCKET,
            "endpoint_url": self.url,
            "key": "testing",
            "secret": "testing",
            "s3_options": {"default_block_size": 5 * MiB, "config_kwargs": config},
        }


@pytest.fixture
def private_s3(tmp_path):
    s3 = PrivateS3()
    s3.start()
    urllib.request.urlopen(
        urllib.request.Request(f"{s3.url}/{FAULT_BUCKET}", method="PUT"), timeout=10
    ).close()
    src = tmp_path / "src"
    write_tree(src, {"big.bin": os.urandom(16 * MiB), "small/1.txt": b"1", "small/2.txt": b"2"})
    mounts = {"src": {"type": "local", "path": str(src)}, "s3": s3.mount()}
    with override_settings(STORAGE_MOUNTS=mounts):
        yield s3, src
        if s3.server is None:
            s3.start()
        # Not moto-api/reset: moto's state is the whole process's, shared servers too.
        get_storage("s3").backend.fs.rm(FAULT_BUCKET, recursive=True)
    s3.stop()


class StopAfter(transfer.TransferListener):
    """Run ``action`` once ``limit`` bytes went through (from the copying thread)."""

    def __init__(self, limit: int, action: Any) -> None:
        self.limit, self.action, self.seen = limit, action, 0

    def transferred(self, size: int) -> None:
        self.seen += size
        if self.seen >= self.limit and self.action:
            action, self.action = self.action, None
            action()


def pending_uploads() -> list[Any]:
    backend = get_storage("s3").backend
    return backend.fs.call_s3("list_multipart_uploads", Bucket=FAULT_BUCKET).get("Uploads", [])


def s3_digests() -> dict[str, str]:
    storage = get_storage("s3")
    found = storage.backend.find(storage.backend.root)
    return {name: hashlib.sha256(storage.open(name).read()).hexdigest() for name, _ in found}


def local_digests(root: Path) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in read_tree(root).items()}


def test_s3_server_stopped_mid_copy_then_rerun_completes(private_s3):
    s3, src = private_s3
    listener = StopAfter(11 * MiB, s3.stop)
    result = transfer.copy("src:", "s3:", listener=listener, workers=1)
    # big.bin goes to the one thread, the small files to the event loop at the
    # same time (one request each): they are done long before the server
    # stops, 11 MiB into big.bin.
    assert [f.name for f in result.failed] == ["big.bin"]
    assert sorted(f.name for f in result.by_action("copy")) == ["small/1.txt", "small/2.txt"]
    with pytest.raises(CommandError, match=r"1 file failed:\n  big.bin: "):
        Command().fail_if_incomplete(result)
    s3.start()
    # Two parts had been uploaded: nothing of them is visible under the name.
    assert "big.bin" not in s3_digests()
    again = transfer.copy("src:", "s3:")
    assert again.ok and [f.name for f in again.by_action("copy")] == ["big.bin"]
    assert s3_digests() == local_digests(src)


def test_a_failed_multipart_upload_is_aborted(private_s3):
    _, src = private_s3

    def fail() -> None:
        raise OSError("source disk failed")

    result = transfer.copy("src:big.bin", "s3:", listener=StopAfter(11 * MiB, fail))
    assert [f.reason for f in result.failed] == ["OSError: source disk failed"]
    assert s3_digests() == {}
    assert pending_uploads() == []
    out = io.StringIO()
    call_command("storage_copy", "src:", "s3:", "--skip", "hash", stdout=out)
    assert out.getvalue().startswith("Copied 3 files (16.0 MiB)")
    assert s3_digests() == local_digests(src)


def test_unreachable_destination_exits_non_zero(private_s3):
    s3, _ = private_s3
    s3.stop()
    with pytest.raises(CommandError, match=r"Mount 's3'.*EndpointConnectionError"):
        call_command("storage_copy", "src:", "s3:", stdout=io.StringIO())


def test_an_interrupted_copy_prints_its_summary_and_fails(dirs):
    from tests.test_transfer import InterruptAfter

    result = transfer.copy("src:", "dst:", listener=InterruptAfter(2), workers=1)
    assert result.interrupted
    assert summary_line(result).endswith(", interrupted.")
    with pytest.raises(CommandError, match=r"Interrupted\. Run the same command again to resume\."):
        Command().fail_if_incomplete(result)
