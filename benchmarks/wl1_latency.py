"""WL1 through a proxy that adds 20 ms to every request, as a bucket in a nearby region.

The same files as WL1 (the trees ``wl1_small_files.seed`` wrote), local → S3 and
S3 → local, every request of every contender through ``tests/faultproxy.py``.
On 127.0.0.1 a request costs little more than the server's CPU; 20 ms away, a
connection that waits for each answer moves at most 50 files a second, so the
time depends on how many requests a tool keeps in flight. Each tool runs at
its defaults and at ``BEST`` (aws's ``max_concurrent_requests``, rclone's
``--transfers`` and ``--checkers``).
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.harness import Report
from benchmarks.servers import S3Server
from benchmarks.wl1_rows import Sample, cpu_target, middle, rows
from benchmarks.wl1_small_files import Contender, Routes, aws, installed, measure, ours, rclone
from tests.faultproxy import FaultProxy

LATENCY = 0.020
# Our default --in-flight; more connections than that buy the others nothing
# against one moto process (its CPU sets the pace once the latency is hidden).
BEST = 32
OURS = "storage_copy (default: 4 workers, 32 in flight)"
AWS_DEFAULT = "aws s3 sync (default: 10)"


def contenders(bench_dir: Path, url: str) -> list[Contender]:
    return [
        Contender(OURS, ours(bench_dir, url)),
        Contender(AWS_DEFAULT, aws(bench_dir, url), "aws"),
        Contender(f"aws s3 sync ({BEST})", aws(bench_dir, url, BEST), "aws"),
        Contender(
            "rclone copy (default: 4 transfers, 8 checkers)", rclone(bench_dir, url), "rclone"
        ),
        Contender(
            f"rclone copy ({BEST} transfers, {BEST} checkers)",
            rclone(bench_dir, url, BEST),
            "rclone",
        ),
    ]


def bench(
    report: Report,
    server: S3Server,
    bench_dir: Path,
    *,
    files: int,
    repeats: int,
    available: dict[str, bool],
) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    with FaultProxy(port, latency=LATENCY) as proxy:
        every = installed(report, contenders(bench_dir, proxy.url), available, "WL1 +20 ms")
        routes = Routes(server, bench_dir, "wl1-far")
        for route, locations in (("local → S3", routes.to_s3), ("S3 → local", routes.to_local)):
            case = f"{route}, +{LATENCY * 1000:.0f} ms"
            results: dict[str, list[Sample]] = {c.label: [] for c in every}
            for _ in range(repeats):
                for contender in every:  # interleaved, as in WL1
                    where = locations("src")
                    results[contender.label].append(
                        _through(proxy, server, bench_dir, contender, where, files)
                    )
                    routes.clean(where[1])
            rows(report, case, results, files, OURS)
            _targets(report, case, results)
            cpu_target(report, case, results)


def _through(
    proxy: FaultProxy,
    server: S3Server,
    bench_dir: Path,
    contender: Contender,
    where: tuple[str, str],
    files: int,
) -> Sample:
    """``measure()`` through the proxy, with the most requests it held at once."""
    proxy.most_delayed = 0
    sample = measure(server, bench_dir, contender.command, where, files)
    sample.overlap = proxy.most_delayed
    return sample


def _targets(report: Report, case: str, results: dict[str, list[Sample]]) -> None:
    ours_time = middle(results[OURS], "seconds")
    if AWS_DEFAULT in results:
        aws_time = middle(results[AWS_DEFAULT], "seconds")
        report.target(
            "WL1",
            f"{case}: storage_copy at its defaults ≥ 2x aws s3 sync at its default",
            f"{aws_time / ours_time:.2f}x ({ours_time:.2f} s vs {aws_time:.2f} s)",
            aws_time >= 2 * ours_time,
        )
    for label in (f"aws s3 sync ({BEST})", f"rclone copy ({BEST} transfers, {BEST} checkers)"):
        if label in results:
            best_time = middle(results[label], "seconds")
            report.target(
                "WL1",
                f"{case}: storage_copy at its defaults no slower than {label}",
                f"{ours_time:.2f} s vs {best_time:.2f} s",
                ours_time <= best_time,
            )
