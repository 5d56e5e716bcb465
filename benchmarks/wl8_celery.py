"""WL8: past one machine. Planning 100k and 1M names, and 20,000 files through ``--celery``.

Planning: a rerun's two listings (the same names, one file in 100 of another
size) are planned the old way (both listings in dicts, then sorted) and the
new way (``Transfer.decisions()`` over the merged listings, as they come), each
in its own process, for its time and the growth of its peak RSS.

Copying: ``files`` small files from a local mount to S3 (the counting moto
server) by the in-process engine, and by ``--celery`` with 1 and 2 workers of
``tests/celery_app.py`` (thread pools of 2; Redis from Debian on a free port).
The same copy with two shard sizes gives the cost of one shard: on a 2-core
machine that runs moto, Redis and the workers, that is the figure to read,
not the speed-up.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.harness import Report, Row
from benchmarks.servers import ROOT, S3Server, tool_env
from tests.serverkit import free_port, run_process


def _child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.wl8_celery", *args]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _env(bench_dir: Path, server: S3Server, **extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(ROOT), str(ROOT / "testproject")])
    return tool_env(
        DJANGO_SETTINGS_MODULE="benchmarks.settings",
        BENCH_DIR=str(bench_dir),
        BENCH_S3_URL=server.url,
        BENCH_S3_BUCKET="wl8",
        PYTHONPATH=path,
        **extra,
    )


@contextmanager
def _redis(bench_dir: Path) -> Any:
    port = free_port()
    redis = shutil.which("redis-server") or "/usr/bin/redis-server"
    args = [redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with run_process(args, bench_dir / "redis.log", port, name="redis-server"):
        yield f"redis://127.0.0.1:{port}/0"


@contextmanager
def _workers(count: int, env: dict[str, str], bench_dir: Path) -> Any:
    processes = []
    try:
        for index in range(count):
            args = [sys.executable, "-m", "celery", "-A", "tests.celery_app", "worker"]
            args += ["-n", f"wl8-{index}@bench", "--pool", "threads", "-c", "2"]
            args += ["--loglevel=warning", "--without-gossip", "--without-mingle"]
            with open(bench_dir / f"worker-{index}.log", "ab") as log:
                processes.append(subprocess.Popen(args, env=env, cwd=ROOT, stdout=log, stderr=log))
        _child(["ping", str(count)], env)
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _write_files(root: Path, count: int) -> None:
    for index in range(count):
        path = root / f"d{index % 50:02}" / f"f{index:06}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(1024 + index % 3072))


def bench(
    report: Report,
    server: S3Server,
    bench_dir: Path,
    *,
    names: list[int],
    files: int,
    shards: list[int],
    dry_shards: list[int],
    workers: tuple[int, ...] = (1, 2),
) -> None:
    env = _env(bench_dir, server)
    server.create_bucket("wl8")
    for count in names:
        for way in ("old", "new"):
            measured = _child(["plan", way, str(count)], env)
            row = Row("WL8", f"plan {count:,} names", f"{way} ({measured['how']})")
            row.seconds = measured["seconds"]
            row.extra["peak RSS growth"] = f"{measured['rss_mib']} MiB"
            report.add(row)
    _write_files(bench_dir / "disk" / "wl8", files)
    inline = _child(["copy", "threads", "inline", "0"], env)
    report.add(Row("WL8", f"{files:,} files → S3", "in-process engine", inline["seconds"]))
    with _redis(bench_dir) as broker:
        # The hour of Redis's default: no shard may come back while it runs.
        env = {**env, "GENRO_TEST_BROKER": broker, "GENRO_TEST_VISIBILITY": "3600"}
        timings, dry = {}, {}
        for count in workers:
            with _workers(count, env, bench_dir):
                for shard in shards if count == 1 else shards[:1]:
                    run = _child(["copy", "celery", f"w{count}-s{shard}", str(shard)], env)
                    timings[(count, shard)] = run["seconds"]
                    row = Row("WL8", f"{files:,} files → S3", f"--celery, {count} worker(s)")
                    row.seconds = run["seconds"]
                    row.ratio = run["seconds"] / inline["seconds"]
                    row.extra.update(shards=run["shards"], files_per_shard=shard)
                    report.add(row)
                if count == 1:  # the dry runs on the same worker: one start fewer
                    for n in dry_shards:
                        dry[n] = _child(["copy", "dry", f"dry-{n}", str(n)], env)
    for shard, run in dry.items():
        row = Row("WL8", f"{files:,} files, --dry-run", "--celery, 1 worker(s)", run["seconds"])
        row.extra.update(shards=run["shards"], files_per_shard=shard)
        report.add(row)
    _shard_cost(report, "copy", {n: timings[(1, n)] for n in shards}, files)
    _shard_cost(report, "dry run", {n: run["seconds"] for n, run in dry.items()}, files)


def _shard_cost(report: Report, what: str, seconds: dict[int, float], files: int) -> None:
    """Note the cost of one shard: the time two shard sizes differ by, over the shards added."""
    few, many = max(seconds), min(seconds)
    added = -(-files // many) - -(-files // few)
    if added > 0:
        cost = (seconds[many] - seconds[few]) / added
        report.note(
            f"WL8 ({what}): one shard costs {cost * 1000:.1f} ms "
            f"(({seconds[many]:.2f} s - {seconds[few]:.2f} s) / {added} more shards)."
        )


# The child processes


def _plan(way: str, count: int) -> dict[str, Any]:
    from genro_storage_django.transfer import FileStat, Location, Transfer
    from genro_storage_django.transfer.listing import Item
    from genro_storage_django.transfer.plan import Plan, merge
    from genro_storage_django.transfer.rules import verdict

    def listing(changed: bool) -> Any:
        same, other = FileStat(1000), FileStat(999)
        for i in range(count):
            yield f"d{i // 1000:04}/f{i:07}.bin", other if changed and i % 100 == 0 else same

    copy = Transfer(Location.parse("disk:"), Location.parse("disk:wl8-empty/"))
    copy.__dict__["_source_is_dir"] = True
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    if way == "old":
        # What plan() did before: both listings in dicts, an Item for each file.
        sources, targets = dict(listing(False)), dict(listing(True))
        work = []
        for name, stat in sorted(sources.items()):
            item = Item(name, copy._path(name), copy._target(name), stat, targets.get(name))
            work.append((item, verdict(copy.skip, stat, item.target_stat)))
        how = f"{len(work):,} items in memory"
    else:
        with Plan() as plan:
            for _decision in copy.decisions(plan, merge(listing(False), listing(True))):
                pass  # each decision as the copy would take it
            how = f"{plan.work:,} to copy, as merged"
    seconds = time.monotonic() - started
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024
    return {"seconds": seconds, "rss_mib": growth, "how": how}


def _copy(engine: str, destination: str, shard_files: int) -> dict[str, Any]:
    from genro_storage_django import transfer

    # "dry": --celery --dry-run, which leaves only the shards' own cost.
    options: dict[str, Any] = {"engine": "celery" if engine == "dry" else engine}
    options["dry_run"] = engine == "dry"
    if engine != "threads":
        from tests.celery_app import app

        app.set_current()
        options["shard_files"] = shard_files
    started = time.monotonic()
    result = transfer.copy("disk:wl8", f"s3:{destination}", **options)
    seconds = time.monotonic() - started
    if not result.ok:
        raise RuntimeError(f"{len(result.failed)} files failed: {result.failed[:3]}")
    copied = len(result.by_action("copy"))
    return {"seconds": seconds, "copied": copied, "shards": -(-copied // max(shard_files, 1))}


def _ping(count: int) -> dict[str, Any]:
    from tests.celery_app import app

    deadline = time.monotonic() + 60
    while len(app.control.ping(timeout=1.0)) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {count} workers answered")
    return {"workers": count}


def main(argv: list[str]) -> None:
    import django

    django.setup()
    if argv[0] == "plan":
        result = _plan(argv[1], int(argv[2]))
    elif argv[0] == "copy":
        result = _copy(argv[1], argv[2], int(argv[3]))
    else:
        result = _ping(int(argv[1]))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
