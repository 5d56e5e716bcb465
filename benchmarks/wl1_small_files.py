"""WL1: many small files, local → S3, S3 → local, S3 → S3.

``storage_copy`` (through testproject/manage.py) against a loop over django-storages'
S3Storage, ``rclone copy`` (default parallelism and ours) and ``aws s3 sync``. Every
run starts from an empty destination; requests are counted by the server.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import tools
from benchmarks.harness import Report, Row, median, run
from benchmarks.servers import S3Server, tool_env

SEED_BUCKET = "wl1-seed"
# storage_copy's, and rclone's --transfers.
DEFAULT_WORKERS = 4


@dataclass
class Contender:
    label: str
    # (source, destination) in the tool's terms -> (args, env)
    command: Callable[[str, str], tuple[list[str], dict[str, str]]]
    needs: str | None = None


def make_files(root: Path, count: int, size: int) -> None:
    """Write ``count`` files of ``size`` random bytes in directories of 100."""
    for index in range(count):
        directory = root / f"dir-{index // 100:03d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"file-{index:05d}.bin").write_bytes(os.urandom(size))


def contenders(bench_dir: Path, server: S3Server, workers: int) -> list[Contender]:
    url = server.url

    def ours(parallel: int | None) -> Callable[[str, str], tuple[list[str], dict[str, str]]]:
        def command(source: str, destination: str) -> tuple[list[str], dict[str, str]]:
            # Our locations: "disk:path" (under bench_dir/disk) or "s3:bucket/path".
            bucket = SEED_BUCKET
            if destination.startswith("s3:"):
                bucket = destination[3:].split("/", 1)[0]
            return (
                tools.storage_copy(_ours(source), _ours(destination), parallel),
                tools.ours_env(bench_dir, url, bucket),
            )

        return command

    same = []
    if workers != DEFAULT_WORKERS:
        same = [
            Contender(
                f"rclone copy ({workers} transfers)",
                lambda s, d: (
                    tools.rclone_copy(_path(s, bench_dir), _path(d, bench_dir), workers),
                    tools.rclone_env(url),
                ),
                "rclone",
            ),
        ]
    return [
        Contender(f"storage_copy ({DEFAULT_WORKERS} workers, default)", ours(None)),
        *([Contender(f"storage_copy ({workers} workers)", ours(workers))] if same else []),
        Contender(
            "django-storages loop",
            lambda s, d: (
                tools.djstorages_copy(_local(s, bench_dir), _local(d, bench_dir), url),
                tool_env(),
            ),
            "django-storages",
        ),
        Contender(
            "rclone copy (default: 4 transfers, 8 checkers)",
            lambda s, d: (
                tools.rclone_copy(_path(s, bench_dir), _path(d, bench_dir)),
                tools.rclone_env(url),
            ),
            "rclone",
        ),
        *same,
        Contender(
            "aws s3 sync (default: 10)",
            lambda s, d: (
                tools.aws_sync(_path(s, bench_dir), _path(d, bench_dir), url),
                tool_env(),
            ),
            "aws",
        ),
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
    source = bench_dir / "disk" / "wl1" / "src"
    shutil.rmtree(source, ignore_errors=True)
    make_files(source, files, size)
    # One file alone: what each tool pays before and around the copy (start-up).
    make_files(bench_dir / "disk" / "wl1" / "one", 1, size)
    server.create_bucket(SEED_BUCKET)
    # The S3 sources of the other routes, written once (untimed) by us.
    for tree in ("src", "one"):
        args, env = contenders(bench_dir, server, workers)[0].command(
            f"disk:wl1/{tree}", f"s3:{SEED_BUCKET}/{tree}"
        )
        run(args, env)
    every = contenders(bench_dir, server, workers)
    all_contenders = [c for c in every if c.needs is None or available.get(c.needs)]
    for contender in every:
        if contender.needs is not None and not available.get(contender.needs):
            report.note(f"WL1: {contender.label} skipped ({contender.needs} is not installed).")
    counter = [0]

    def fresh() -> int:
        counter[0] += 1
        return counter[0]

    def to_s3(tree: str) -> tuple[str, str]:
        bucket = f"wl1-dst-{fresh()}"
        server.create_bucket(bucket)
        return f"disk:wl1/{tree}", f"s3:{bucket}/copy"

    def to_local(tree: str) -> tuple[str, str]:
        return f"s3:{SEED_BUCKET}/{tree}", f"disk:wl1/dst-{fresh()}"

    def within_s3(tree: str) -> tuple[str, str]:
        return f"s3:{SEED_BUCKET}/{tree}", f"s3:{SEED_BUCKET}/copy-{fresh()}"

    def clean_local(destination: str) -> None:
        shutil.rmtree(_path(destination, bench_dir), ignore_errors=True)

    def clean_s3(destination: str) -> None:
        if destination.startswith(f"s3:{SEED_BUCKET}/"):
            _s3_remove(server, SEED_BUCKET, destination.split("/", 1)[1])

    routes: list[tuple[str, Callable[[str], tuple[str, str]], Callable[[str], None]]] = [
        ("local → S3", to_s3, clean_s3),
        ("S3 → local", to_local, clean_local),
        ("S3 → S3", within_s3, clean_s3),
    ]
    for case, locations, clean in routes:
        timings = {}
        for tree, count in (("one", 1), ("src", files)):
            results: dict[str, list[tuple[float, int, float]]] = {
                c.label: [] for c in all_contenders
            }
            for _ in range(repeats):
                for contender in all_contenders:  # interleaved: no tool always runs first
                    source_location, destination = locations(tree)
                    args, env = contender.command(source_location, destination)
                    with server.counting() as counts:
                        elapsed = run(args, env).wall
                    _check_copied(server, bench_dir, destination, count)
                    results[contender.label].append(
                        (elapsed, counts["total"], counts["server_cpu"])
                    )
                    clean(destination)
            timings[tree] = results
        _startup_rows(report, case, timings["one"], workers)
        _rows(report, case, timings["src"], files, workers, timings["one"])


def _startup_rows(
    report: Report, case: str, results: dict[str, list[tuple[float, int, float]]], workers: int
) -> None:
    ours_label = next(label for label in results if label.startswith(f"storage_copy ({workers}"))
    ours = median([t for t, _, _ in results[ours_label]])
    for label, values in results.items():
        seconds = median([t for t, _, _ in values])
        report.add(Row("WL1", f"{case}, 1 file", label, seconds, seconds / ours))


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


def _rows(
    report: Report,
    case: str,
    results: dict[str, list[tuple[float, int, float]]],
    files: int,
    workers: int,
    startup: dict[str, list[tuple[float, int, float]]],
) -> None:
    ours_label = next(label for label in results if label.startswith(f"storage_copy ({workers}"))
    ours = median([t for t, _, _ in results[ours_label]])
    for label, values in results.items():
        seconds = median([t for t, _, _ in values])
        requests = median([r for _, r, _ in values])
        report.add(
            Row(
                "WL1",
                case,
                label,
                seconds,
                seconds / ours,
                {
                    "files/s": files / seconds,
                    "requests/file": requests / files,
                    # The server is one process held by its GIL: no client can
                    # finish sooner than the CPU time the server spends on it.
                    "server CPU s": median([c for _, _, c in values]),
                },
            )
        )
    rivals = [
        label
        for label in results
        if label.startswith("aws")
        or label.startswith(
            "rclone copy (default" if workers == DEFAULT_WORKERS else f"rclone copy ({workers}"
        )
    ]
    if rivals:
        best = min(rivals, key=lambda label: median([t for t, _, _ in results[label]]))
        best_time = median([t for t, _, _ in results[best]])

        def started(label: str) -> float:
            return median([t for t, _, _ in startup[label]])

        report.target(
            "WL1",
            f"{case}: storage_copy no slower than rclone ({workers}) and aws s3 sync",
            f"{ours:.2f} s vs {best_time:.2f} s ({best}); less the time each takes "
            f"for one file (start-up): {ours - started(ours_label):.2f} s vs "
            f"{best_time - started(best):.2f} s",
            ours <= best_time,
        )
    loop = [values for label, values in results.items() if label.startswith("django-storages")]
    if loop:
        loop_time = median([t for t, _, _ in loop[0]])
        server_cpu = median([c for _, _, c in results[ours_label]])
        report.target(
            "WL1",
            f"{case}: storage_copy ≥ 3x faster than the django-storages loop",
            f"{loop_time / ours:.1f}x faster (the server's own CPU time for our copy "
            f"allows at most {loop_time / server_cpu:.1f}x)",
            loop_time / ours >= 3,
        )
