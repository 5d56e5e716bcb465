"""``storage_copy --celery`` on real parts: a Redis server, two ``celery worker`` processes, moto.

The module starts Redis (Debian's ``redis-server``) on a free port of
127.0.0.1 and two workers of ``tests/celery_app.py`` (thread pools of 2),
which get the module's mounts through the environment. Everything is stopped
by the fixtures. The scale test copies 20,000 files each way in make test's
Django 5.2 run (``GENRO_CELERY_SCALE``), 2,000 otherwise; the other scenarios
take a thousand files or a few hundred.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from genro_storage_django import get_storage, transfer
from genro_storage_django.backends.local import is_temporary
from genro_storage_django.management.commands.storage_copy import Command
from genro_storage_django.transfer import FileOutcome, TransferListener
from tests.serverkit import free_port, run_process
from tests.servers import BUCKET, ROOT

pytest.importorskip("celery")

MANY = 1000
#: The scale test's files: 20,000 in make test's Django 5.2 run, which sets it.
SCALE = int(os.environ.get("GENRO_CELERY_SCALE", "2000"))
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def write_files(root: Path, count: int, large: int = 0, size: int = 64) -> dict[str, bytes]:
    """Write ``count`` small files (``size`` bytes and more; and ``large`` of 3 MiB) under
    ``root``; return them."""
    files = {f"d{i % 7}/f{i:05}.bin": os.urandom(size + i % 900) for i in range(count)}
    files.update({f"large/{i}.bin": os.urandom(3 * 1024 * 1024) for i in range(large)})
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def digests(root: Path) -> dict[str, str]:
    found = {}
    for path in root.rglob("*"):
        if path.is_file():
            found[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def expected(files: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


class Workers:
    """``celery worker`` processes of tests/celery_app.py, by name."""

    def __init__(self, app: Any, env: dict[str, str], logs: Path) -> None:
        self.app, self.env, self.logs = app, env, logs
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        command = [sys.executable, "-m", "celery", "-A", "tests.celery_app", "worker"]
        options = ["-n", f"{name}@genro", "--pool", "threads", "-c", "2", "--loglevel=warning"]
        quiet = ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        with open(self.logs / f"{name}.log", "ab") as log:
            self.processes[name] = subprocess.Popen(
                [*command, *options, *quiet],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=ROOT,
            )
        deadline = time.monotonic() + 30
        while not self.app.control.ping(destination=[f"{name}@genro"], timeout=0.5):
            if self.processes[name].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {name} did not start: see {self.logs / name}.log")

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    logs = tmp_path_factory.mktemp("redis")
    args = [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with run_process(args, logs / "redis.log", port, name="redis-server"):
        yield f"redis://127.0.0.1:{port}/0"


@pytest.fixture(scope="module")
def mounts(tmp_path_factory: pytest.TempPathFactory, s3_server: Any) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("celery-mounts")
    local = {name: {"type": "local", "path": str(root / name)} for name in ("src", "dst", "check")}
    for config in local.values():
        Path(config["path"]).mkdir()
    s3 = {
        "type": "s3",
        "bucket": BUCKET,
        "prefix": f"celery-{uuid.uuid4().hex[:8]}",
        "endpoint_url": s3_server.url,
        "key": "testing",
        "secret": "testing",
    }
    return {**local, "s3": s3, "mem": {"type": "memory"}}


@pytest.fixture(scope="module")
def workers(
    redis_url: str, mounts: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workers]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GENRO_TEST_BROKER", redis_url)
        sys.modules.pop("tests.celery_app", None)
        from tests.celery_app import app  # the current app, as a project's is

        app.set_current()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "testproject")]),
            "GENRO_TEST_MOUNTS": json.dumps(mounts),
        }
        pool = Workers(app, env, tmp_path_factory.mktemp("workers"))
        try:
            pool.start("w1")
            pool.start("w2")
            with override_settings(STORAGE_MOUNTS=mounts):
                yield pool
        finally:
            pool.stop()


def root(mounts: dict[str, Any], name: str) -> Path:
    return Path(mounts[name]["path"])


def run_command(*args: str) -> list[dict[str, Any]]:
    stdout = io.StringIO()
    call_command("storage_copy", *args, "--celery", "--json", stdout=stdout)
    return [json.loads(line) for line in stdout.getvalue().splitlines()]


def test_many_files_to_s3_equal_an_in_process_copy(workers, mounts):
    files = write_files(root(mounts, "src") / "many", MANY)
    events = run_command("src:many", "s3:many", "--shard-files", "100")
    summary = events[-1]
    assert (summary["copied"], summary["failed"], summary["skipped"]) == (MANY, 0, 0)
    assert sorted(event["name"] for event in events[:-1]) == sorted(files)
    # Read back by the in-process engine: every object holds its file's bytes.
    assert transfer.copy("s3:many", "check:many").ok

    assert digests(root(mounts, "check") / "many") == expected(files)
    # (The other way through the workers: test_twenty_thousand_files_to_s3_and_back.)
    # A rerun copies nothing.
    again = run_command("src:many", "s3:many", "--shard-files", "100")[-1]
    assert (again["copied"], again["skipped"]) == (0, MANY)


def s3_md5s(prefix: str) -> dict[str, str]:
    """The MD5 that moto computed of each object under ``prefix`` (its ETag), from one listing."""
    backend = get_storage("s3").backend
    found = backend.find(backend.full_path(prefix))
    return {name: info["ETag"].strip('"') for name, info in found}


def test_twenty_thousand_files_to_s3_and_back(workers, mounts):
    # Shards of 100 files: each well within the tests' 6 s visibility timeout,
    # after which the broker would hand a shard out again.
    files = write_files(root(mounts, "src") / "scale", SCALE, size=16)
    summary = run_command("src:scale", "s3:scale", "--shard-files", "100")[-1]
    assert (summary["copied"], summary["failed"]) == (SCALE, 0)
    # What moto stored, checked without reading it back: the MD5 it computed.
    assert s3_md5s("scale") == {name: hashlib.md5(data).hexdigest() for name, data in files.items()}
    back = run_command("s3:scale", "dst:scale", "--shard-files", "100")[-1]
    assert (back["copied"], back["failed"]) == (SCALE, 0)
    assert digests(root(mounts, "dst") / "scale") == expected(files)
    again = run_command("s3:scale", "dst:scale", "--shard-files", "100")[-1]
    assert (again["copied"], again["skipped"]) == (0, SCALE)


class KillWorker(TransferListener):
    """SIGKILL worker ``name`` once the first bytes of the copy are reported."""

    def __init__(self, pool: Workers, name: str) -> None:
        self.pool, self.name, self.killed = pool, name, False
        self.outcomes: list[FileOutcome] = []

    def transferred(self, size: int) -> None:
        if not self.killed:
            self.killed = True
            self.pool.kill(self.name)

    def done(self, outcome: FileOutcome) -> None:
        self.outcomes.append(outcome)


def test_a_worker_killed_mid_run_leaves_its_shards_to_the_other(workers, mounts):
    files = write_files(root(mounts, "src") / "kill", 400, large=4)
    assert transfer.copy("src:kill", "s3:kill").ok
    listener = KillWorker(workers, "w1")
    try:
        result = transfer.copy(
            "s3:kill", "dst:kill", engine="celery", shard_files=40, listener=listener
        )
    finally:
        workers.start("w1")
    assert listener.killed
    assert result.ok, result.failed
    assert sorted(o.name for o in result.outcomes) == sorted(files)
    landed = root(mounts, "dst") / "kill"
    # Nothing partial under a file's name; a lost write left at most a temporary file.
    complete = {n: d for n, d in digests(landed).items() if not is_temporary(n.rsplit("/")[-1])}
    assert complete == expected(files)
    again = transfer.copy("s3:kill", "dst:kill", engine="celery", shard_files=40)
    assert again.ok and again.by_action("copy") == []


class VanishingSources(TransferListener):
    """Delete source files once found, before their shard is sent: their copies fail in
    the workers."""

    def __init__(self, source: Path, names: list[str]) -> None:
        self.source, self.names = source, names

    def found(self, name: str, size: int) -> None:
        if name in self.names:
            (self.source / name).unlink()


def test_failures_in_one_shard_are_reported_with_their_names(workers, mounts):
    source = root(mounts, "src") / "fail"
    files = write_files(source, 300)
    lost = sorted(files)[40:43]  # consecutive: one shard of 50
    listener = VanishingSources(source, lost)
    result = transfer.copy(
        "src:fail", "s3:fail", engine="celery", shard_files=50, listener=listener
    )
    assert sorted(f.name for f in result.failed) == lost
    assert all("FileNotFoundError" in f.reason for f in result.failed)
    assert len(result.by_action("copy")) == len(files) - len(lost)
    with pytest.raises(CommandError, match="3 files failed") as raised:
        Command().fail_if_incomplete(result)
    assert all(f"  {name}: " in str(raised.value) for name in lost)
    assert sorted(get_storage("s3").listdir("fail/d0")[1]) == sorted(
        name.rsplit("/")[-1] for name in files if name.startswith("d0/") and name not in lost
    )


class InterruptOnFirst(TransferListener):
    """Ctrl-C from the first outcome heard (in the caller's thread, as every ``done()``)."""

    def done(self, outcome: FileOutcome) -> None:
        raise KeyboardInterrupt


def test_ctrl_c_revokes_the_shards_not_done_and_a_rerun_resumes(workers, mounts):
    files = write_files(root(mounts, "src") / "stop", 300)
    options = {"engine": "celery", "shard_files": 5}
    first = transfer.copy("src:stop", "s3:stop", listener=InterruptOnFirst(), **options)
    assert first.interrupted and not first.ok
    time.sleep(2)  # what still runs in the workers ends meanwhile
    landed = len(get_storage("s3").backend.fs.find(get_storage("s3").backend.full_path("stop")))
    # Eight shards (two per slot of two pools of 2) were out at most: the 52 others never ran.
    assert 1 <= landed <= 8 * 5, landed
    again = transfer.copy("src:stop", "s3:stop", **options)
    assert again.ok
    assert len(again.by_action("copy")) + len(again.by_action("skip")) == len(files)
    assert len(again.by_action("skip")) == landed


def test_a_memory_mount_is_refused(workers, mounts):
    with pytest.raises(CommandError, match="memory mount lives in one process") as raised:
        run_command("mem:", "s3:mem")
    assert raised.value.returncode == 2


def test_no_worker_answering_is_a_refusal(workers, redis_url):
    from celery import Celery

    # Another Redis database: the workers' control messages do not reach it.
    lonely = Celery("lonely", broker=redis_url[:-1] + "1", backend=redis_url[:-1] + "1")
    lonely.set_current()
    try:
        started = time.monotonic()
        with pytest.raises(CommandError, match=r"No Celery worker answered within 1 s"):
            run_command("src:", "s3:x", "--celery-timeout", "1")
        assert time.monotonic() - started < 10
    finally:
        workers.app.set_current()


def test_without_celery_installed_the_refusal_names_the_extra(workers, monkeypatch):
    monkeypatch.setitem(sys.modules, "celery", None)  # what `import celery` then raises
    with pytest.raises(CommandError, match=r"pip install genro-storage-django\[celery\]"):
        run_command("src:", "s3:x")


def test_a_copy_without_celery_never_imports_it(tmp_path):
    probe = """
import sys, django
django.setup()
from django.test import override_settings
from genro_storage_django import transfer
mounts = {"a": {"type": "local", "path": sys.argv[1]}, "b": {"type": "local", "path": sys.argv[2]}}
with override_settings(STORAGE_MOUNTS=mounts):
    assert transfer.copy("a:", "b:").ok
print(sorted(name for name in sys.modules if name.split(".")[0] in ("celery", "kombu")))
"""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.txt").write_text("x")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "testproject")])
    args = [sys.executable, "-c", probe, str(tmp_path / "a"), str(tmp_path / "b")]
    output = subprocess.run(args, env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    assert output.stdout.strip() == "[]"
    assert (tmp_path / "b" / "f.txt").read_text() == "x"
