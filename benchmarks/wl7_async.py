"""WL7: 1,000 saves of 16 KiB from one event loop, with S3 20 ms away.

Every request to the counting moto server goes through the test suite's
fault proxy (``tests/faultproxy.py``), which adds 20 ms to each, as a bucket
in a nearby region would. Our ``asave()`` runs against ``sync_to_async`` of
our ``save()`` and of django-storages' ``S3Storage.save()``, with asgiref's
default (``thread_sensitive=True``: every call on one thread, what a Django
async view gets) and with ``thread_sensitive=False`` (the default executor).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks import tools
from benchmarks.harness import Report, Row
from benchmarks.servers import ROOT, S3Server, tool_env
from tests.faultproxy import FaultProxy

LATENCY = 0.02


def _contender(
    python: str, name: str, proxy: str, bucket: str, extra: list[str], size: dict
) -> float:
    args = [python, "-m", "benchmarks.async_saves", name, "--endpoint", proxy, "--bucket", bucket]
    args += ["--count", str(size["count"]), "--size", str(size["size"]), *extra]
    done = subprocess.run(args, env=tool_env(), cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def bench(
    report: Report,
    server: S3Server,
    bench_dir: Path,
    *,
    count: int,
    size: int,
    available: dict[str, bool],
) -> None:
    sizes = {"count": count, "size": size}
    contenders = [
        ("asave()", sys.executable, "asave", []),
        ("sync_to_async(save), ours", sys.executable, "ours-sync", []),
        (
            "sync_to_async(save, thread_sensitive=False), ours",
            sys.executable,
            "ours-sync",
            ["--no-thread-sensitive"],
        ),
    ]
    if available["django-storages"]:
        python = str(tools.COMPARE_PYTHON)
        contenders += [
            ("sync_to_async(S3Storage.save)", python, "theirs", []),
            (
                "sync_to_async(S3Storage.save, thread_sensitive=False)",
                python,
                "theirs",
                ["--no-thread-sensitive"],
            ),
        ]
    else:
        report.note("WL7: django-storages skipped (not installed).")
    port = int(server.url.rsplit(":", 1)[1])
    seconds: dict[str, float] = {}
    with FaultProxy(port, latency=LATENCY) as proxy:
        for index, (label, python, name, extra) in enumerate(contenders):
            bucket = f"wl7-{index}"
            server.create_bucket(bucket)
            with server.counting() as counts:
                seconds[label] = _contender(python, name, proxy.url, bucket, extra, sizes)
            extra_columns = {
                "requests": counts.get("total"),
                "server CPU": f"{counts.get('server_cpu', 0):.1f} s",
                "latency": f"{LATENCY * 1000:.0f} ms",
            }
            row = Row("WL7", f"{count} x {size // 1024} KiB saves", label, seconds[label])
            row.extra.update(extra_columns)
            report.add(row)
    ours = seconds["asave()"]
    # The goal is against what an async view gets by default: asgiref's
    # thread-sensitive sync_to_async. The thread_sensitive=False rows show
    # what a pool of threads gets; moto's own CPU bounds every row.
    for label in ("sync_to_async(save), ours", "sync_to_async(S3Storage.save)"):
        if label in seconds:
            ratio = seconds[label] / ours
            report.target("WL7", f"asave() ≥ 5x {label}", f"{ratio:.1f}x", ratio >= 5)
