"""WL1: many small files, local → S3, S3 → local, S3 → S3.

``storage_copy`` (through testproject/manage.py) against a loop over django-storages'
S3Storage, ``rclone copy`` (default parallelism and ours) and ``aws s3 sync``. Every
run starts from an empty destination; requests are counted by the server.
"""

from __future__ import annotations

import os
import resource
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import tools, wl1_rows
from benchmarks.harness import Report, run
from benchmarks.servers import S3Server, tool_env
from benchmarks.wl1_rows import DEFAULT_WORKERS, Sample

SEED_BUCKET = "wl1-seed"


# (source, destination) in the tool's terms -> (args, env)
Command = Callable[[str, str], tuple[list[str], dict[str, str]]]


@dataclass
class Contender:
    label: str
    command: Command
    needs: str | None = None


def make_files(root: Path, count: int, size: int) -> None:
    """Write ``count`` files of ``size`` random bytes in directories of 100."""
    for index in range(count):
        directory = root / f"dir-{index // 100:03d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"file-{index:05d}.bin").write_bytes(os.urandom(size))


def ours(bench_dir: Path, url: str, workers: int | None = None) -> Command:
    """``storage_copy`` against the S3 endpoint ``url``, at ``workers`` or its default."""

    def command(source: str, destination: str) -> tuple[list[str], dict[str, str]]:
        # Our locations: "disk:path" (under bench_dir/disk) or "s3:bucket/path".
        bucket = SEED_BUCKET
        if destination.startswith("s3:"):
            bucket = destination[3:].split("/", 1)[0]
        return (
            tools.storage_copy(_ours(source), _ours(destination), workers),
            tools.ours_env(bench_dir, url, bucket),
        )

    return command


def rclone(bench_dir: Path, url: str, transfers: int | None = None) -> Command:
    """``rclone copy`` at ``transfers`` (and as many checkers), or at its defaults."""

    def command(source: str, destination: str) -> tuple[list[str], dict[str, str]]:
        args = tools.rclone_copy(_path(source, bench_dir), _path(destination, bench_dir), transfers)
        return args, tools.rclone_env(url)

    return command


def aws(bench_dir: Path, url: str, concurrency: int | None = None) -> Command:
    """``aws s3 sync`` at ``concurrency`` requests (its config file), or at its default."""

    def command(source: str, destination: str) -> tuple[list[str], dict[str, str]]:
        args = tools.aws_sync(_path(source, bench_dir), _path(destination, bench_dir), url)
        return args, tools.aws_env(bench_dir, concurrency)

    return command


def contenders(bench_dir: Path, url: str, workers: int) -> list[Contender]:
    """WL1's contenders; at ``workers`` besides their defaults when it is not ours."""
    loop = Contender(
        "django-storages loop",
        lambda s, d: (
            tools.djstorages_copy(_local(s, bench_dir), _local(d, bench_dir), url),
            tool_env(),
        ),
        "django-storages",
    )
    rclone_default = "rclone copy (default: 4 transfers, 8 checkers)"
    ours_default = f"storage_copy ({DEFAULT_WORKERS} workers, default)"
    if workers == DEFAULT_WORKERS:
        return [
            Contender(ours_default, ours(bench_dir, url)),
            loop,
            Contender(rclone_default, rclone(bench_dir, url), "rclone"),
            Contender("aws s3 sync (default: 10)", aws(bench_dir, url), "aws"),
        ]
    return [
        Contender(ours_default, ours(bench_dir, url)),
        Contender(f"storage_copy ({workers} workers)", ours(bench_dir, url, workers)),
        loop,
        Contender(rclone_default, rclone(bench_dir, url), "rclone"),
        Contender(f"rclone copy ({workers} transfers)", rclone(bench_dir, url, workers), "rclone"),
        Contender("aws s3 sync (default: 10)", aws(bench_dir, url), "aws"),
    ]


def _ours(location: str) -> str:
    # "s3:bucket/path" -> "s3:path" (the mount's bucket comes from the environment).
    if location.startswith("s3:"):
        return "s3:" + location[3:].split("/", 1)[1]
    return location


def _path(location: str, bench_dir: Path) -> str:
    return str(bench_dir / "disk" / location[5:]) if location.startswith("disk:") else location


def _local(location: str, bench_dir: Path) -> str:
    return f"local:{_path(location, bench_dir)}" if location.startswith("disk:") else location


def _s3_remove(server: S3Server, bucket: str, prefix: str) -> None:
    import s3fs

    fs = s3fs.S3FileSystem(
        key="testing", secret="testing", endpoint_url=server.url, skip_instance_cache=True
    )
    fs.rm(f"{bucket}/{prefix}", recursive=True)


class Routes:
    """Fresh locations for each run of a route, and the clean-up after it."""

    def __init__(self, server: S3Server, bench_dir: Path, prefix: str = "wl1") -> None:
        # Another part of WL1 on the same server takes another prefix: a bucket
        # left by the first would turn the second's copy into a partial sync.
        self.server, self.bench_dir, self.prefix, self.count = server, bench_dir, prefix, 0

    def _fresh(self) -> int:
        self.count += 1
        return self.count

    def to_s3(self, tree: str) -> tuple[str, str]:
        bucket = f"{self.prefix}-dst-{self._fresh()}"
        self.server.create_bucket(bucket)
        return f"disk:wl1/{tree}", f"s3:{bucket}/copy"

    def to_local(self, tree: str) -> tuple[str, str]:
        return f"s3:{SEED_BUCKET}/{tree}", f"disk:wl1/{self.prefix}-dst-{self._fresh()}"

    def within_s3(self, tree: str) -> tuple[str, str]:
        return f"s3:{SEED_BUCKET}/{tree}", f"s3:{SEED_BUCKET}/{self.prefix}-copy-{self._fresh()}"

    def clean(self, destination: str) -> None:
        if destination.startswith("disk:"):
            shutil.rmtree(_path(destination, self.bench_dir), ignore_errors=True)
        elif destination.startswith(f"s3:{SEED_BUCKET}/"):
            _s3_remove(self.server, SEED_BUCKET, destination.split("/", 1)[1])
        # A bucket of its own (local → S3) is left as it is: the next run takes a new one.


def measure(
    server: S3Server, bench_dir: Path, command: Command, locations: tuple[str, str], count: int
) -> Sample:
    """Run one copy, check that ``count`` files arrived, and return what it cost."""
    args, env = command(*locations)
    before = resource.getrusage(resource.RUSAGE_SELF)
    with server.counting() as counts:
        done = run(args, env)
    after = resource.getrusage(resource.RUSAGE_SELF)
    own = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    _check_copied(server, bench_dir, locations[1], count)
    return Sample(done.wall, counts["total"], counts["server_cpu"], done.cpu, own)


def installed(
    report: Report, every: list[Contender], available: dict[str, bool], part: str = "WL1"
) -> list[Contender]:
    """Return the contenders whose tool is installed; note the others."""
    for contender in every:
        if contender.needs is not None and not available.get(contender.needs):
            report.note(f"{part}: {contender.label} skipped ({contender.needs} is not installed).")
    return [c for c in every if c.needs is None or available.get(c.needs)]


def seed(server: S3Server, bench_dir: Path, files: int, size: int) -> None:
    """Write the local trees, and their S3 copies (untimed, by us) for the other routes."""
    source = bench_dir / "disk" / "wl1" / "src"
    shutil.rmtree(source, ignore_errors=True)
    make_files(source, files, size)
    # One file alone: what each tool pays before and around the copy (start-up).
    make_files(bench_dir / "disk" / "wl1" / "one", 1, size)
    server.create_bucket(SEED_BUCKET)
    for tree in ("src", "one"):
        args, env = ours(bench_dir, server.url)(f"disk:wl1/{tree}", f"s3:{SEED_BUCKET}/{tree}")
        run(args, env)


def bench(
    report: Report,
    server: S3Server,
    bench_dir: Path,
    *,
    files: int,
    size: int,
    repeats: int,
    workers: int,
    available: dict[str, bool],
) -> None:
    seed(server, bench_dir, files, size)
    every = installed(report, contenders(bench_dir, server.url, workers), available)
    routes = Routes(server, bench_dir)
    cases = [
        ("local → S3", routes.to_s3),
        ("S3 → local", routes.to_local),
        ("S3 → S3", routes.within_s3),
    ]
    for case, locations in cases:
        timings = {}
        for tree, count in (("one", 1), ("src", files)):
            results: dict[str, list[Sample]] = {c.label: [] for c in every}
            for _ in range(repeats):
                for contender in every:  # interleaved: no tool always runs first
                    where = locations(tree)
                    sample = measure(server, bench_dir, contender.command, where, count)
                    results[contender.label].append(sample)
                    routes.clean(where[1])
            timings[tree] = results
        ours_label = next(
            label for label in results if label.startswith(f"storage_copy ({workers}")
        )
        wl1_rows.startup_rows(report, case, timings["one"], ours_label)
        wl1_rows.rows(report, case, timings["src"], files, ours_label)
        wl1_rows.targets(report, case, timings["src"], workers, timings["one"], ours_label)
        wl1_rows.cpu_target(report, case, timings["src"])


def _check_copied(server: S3Server, bench_dir: Path, destination: str, files: int) -> None:
    if destination.startswith("disk:"):
        found = sum(len(names) for _, _, names in os.walk(_path(destination, bench_dir)))
    else:
        import s3fs

        fs = s3fs.S3FileSystem(
            key="testing", secret="testing", endpoint_url=server.url, skip_instance_cache=True
        )
        found = len(fs.find(destination[3:]))
    if found != files:
        raise RuntimeError(f"{destination}: {found} files copied, not {files}")
