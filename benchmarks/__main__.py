"""``python -m benchmarks``: run the workloads, print the table of medians and ratios.

``--smoke`` runs each workload once at a tiny size and skips the comparison tools
that are not installed (``tests/test_benchmarks_smoke.py``). ``make bench`` installs
them first and runs the full sizes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks import (
    tools,
    wl1_latency,
    wl1_small_files,
    wl2_big_file,
    wl3_wl4_wl5_storage_api_and_admin,
    wl6_collectstatic,
    wl7_async,
    wl8_celery,
)
from benchmarks.harness import MIB, Report, render_rst, render_text, table
from benchmarks.servers import ROOT, s3_server

WORKLOADS = ("WL1", "WL2", "WL3", "WL4", "WL5", "WL6", "WL7", "WL8")

FULL = {
    "WL1": {"files": 2000, "size": 16 * 1024, "repeats": 3},
    "WL2": {"size": 1024 * MIB, "repeats": 3},
    "WL3": {"count": 1000, "listed": 1000, "rounds": 5},
    "WL4": {"big_size": 10 * MIB},
    "WL5": {"entries": 10_000, "repeats": 5},
    "WL6": {"files": 2000},
    "WL7": {"count": 1000, "size": 16 * 1024},
    "WL8": {
        "names": [100_000, 1_000_000],
        "files": 20_000,
        "shards": [500, 50],
        "dry_shards": [500, 10],
    },
}
SMOKE = {
    "WL1": {"files": 12, "size": 1024, "repeats": 1},
    "WL2": {"size": 3 * MIB, "repeats": 1},
    "WL3": {"count": 10, "listed": 20, "rounds": 1},
    "WL4": {"big_size": 2 * MIB},
    "WL5": {"entries": 320, "repeats": 1},
    "WL6": {"files": 20},
    "WL7": {"count": 10, "size": 1024},
    "WL8": {
        "names": [1000],
        "files": 40,
        "shards": [20, 5],
        "dry_shards": [20, 5],
        "workers": (1,),  # one worker start: the two-worker round is the full run's
    },
}


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as info:
        memory = int(info.readline().split()[1]) // 1024
    versions = {"python": platform.python_version()}
    for package in ("django", "fsspec", "s3fs", "moto"):
        try:
            from importlib.metadata import version

            versions[package] = version(package)
        except Exception:
            versions[package] = "-"
    versions.update(_tool_versions())
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "memory_mib": memory,
        "cpu": cpu,
        "kernel": platform.release(),
        "versions": versions,
    }


def _tool_versions() -> dict[str, str]:
    found = {}
    checks = {
        "rclone": ["rclone", "version"],
        "awscli": [str(tools.AWS), "--version"],
        "django-storages": [
            str(tools.COMPARE_PYTHON),
            "-c",
            "from importlib.metadata import version as v; "
            "print(v('django-storages'), 'boto3', v('boto3'))",
        ],
    }
    for name, args in checks.items():
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)
            found[name] = (done.stdout or done.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            found[name] = "not installed"
    return found


def compile_project() -> None:
    """Write the bytecode of the checkout, as installing a wheel does.

    The project is installed in editable mode; with ``PYTHONDONTWRITEBYTECODE``
    set (as on some CI images) every ``storage_copy`` would compile it again.
    """
    import compileall

    for package in ("genro_storage_django", "testproject", "benchmarks"):
        compileall.compile_dir(ROOT / package, quiet=1)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="Tiny sizes, one run each.")
    parser.add_argument("--only", default=",".join(WORKLOADS), help="Comma-separated workloads.")
    parser.add_argument(
        "--workers",
        type=int,
        default=10,
        help="WL1 also runs storage_copy and rclone with this parallelism (default: 10, "
        "aws s3 sync's), besides their defaults.",
    )
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else FULL
    selected = [name.strip().upper() for name in args.only.split(",") if name.strip()]
    available = tools.available()
    if not args.smoke and not all(available.values()):
        missing = ", ".join(name for name, ok in available.items() if not ok)
        print(f"Missing comparison tools: {missing}; run make bench to install them.")
    compile_project()
    report = Report()
    started = time.monotonic()
    bench_dir = Path(tempfile.mkdtemp(prefix="genro-bench-"))
    try:
        with s3_server(bench_dir / "moto.log") as server:
            for name in selected:
                print(f"{name} ...", flush=True)
                step = time.monotonic()
                first = len(report.rows)
                _run(name, report, server, bench_dir, sizes[name], available, args.workers)
                print(f"{name} done in {time.monotonic() - step:.0f} s", flush=True)
                partial = Report(rows=report.rows[first:])
                print(render_text(table(partial)), flush=True)
    finally:
        shutil.rmtree(bench_dir, ignore_errors=True)
    rows = table(report)
    print(render_text(rows))
    print("\nTargets:")
    for target in report.targets:
        print(
            f"  [{'met' if target.met else 'MISSED'}] {target.workload} {target.text}: "
            f"{target.measured}"
        )
    for note in report.notes:
        print(f"  note: {note}")
    print(f"\nTotal: {time.monotonic() - started:.0f} s")
    if not args.smoke:
        args.output.mkdir(parents=True, exist_ok=True)
        (args.output / "latest.rst").write_text(render_rst(rows) + "\n")
        data = {"machine": machine(), "sizes": sizes, **asdict(report)}
        (args.output / "latest.json").write_text(json.dumps(data, indent=2, default=str))
        print(f"Results in {args.output}/latest.json and latest.rst")
    return 0


def _run(name, report, server, bench_dir, size, available, workers) -> None:
    if name == "WL1":
        wl1_small_files.bench(
            report, server, bench_dir, workers=workers, available=available, **size
        )
        # The same trees again, 20 ms away.
        wl1_latency.bench(
            report,
            server,
            bench_dir,
            files=size["files"],
            repeats=size["repeats"],
            available=available,
        )
    elif name == "WL2":
        wl2_big_file.bench(report, server, bench_dir, available=available, **size)
    elif name == "WL3":
        wl3_wl4_wl5_storage_api_and_admin.wl3(report, server, bench_dir, **size)
    elif name == "WL4":
        wl3_wl4_wl5_storage_api_and_admin.wl4(
            report, server, bench_dir, available=available, **size
        )
    elif name == "WL5":
        wl3_wl4_wl5_storage_api_and_admin.wl5(report, server, bench_dir, **size)
    elif name == "WL6":
        wl6_collectstatic.bench(report, server, bench_dir, available=available, **size)
    elif name == "WL7":
        wl7_async.bench(report, server, bench_dir, available=available, **size)
    elif name == "WL8":
        wl8_celery.bench(report, server, bench_dir, **size)
    else:
        raise SystemExit(f"Unknown workload {name}; choose from {', '.join(WORKLOADS)}.")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
