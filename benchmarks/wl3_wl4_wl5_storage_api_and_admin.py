"""WL3 (Storage API against Django's own), WL4 (requests per operation on S3) and WL5
(the admin directory page). Each side runs in its own process and reports JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks import storage_ops, tools
from benchmarks.harness import Report, Row, fmt_seconds, median
from benchmarks.servers import ROOT, S3Server, tool_env


def _json(args: list[str], env: dict[str, str]) -> Any:
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ours(command: list[str], env: dict[str, str]) -> Any:
    return _json([sys.executable, "-m", "benchmarks.ours", *command], env)


def wl3(
    report: Report, server: S3Server, bench_dir: Path, *, count: int, listed: int, rounds: int
) -> None:
    env = tools.ours_env(bench_dir, server.url)
    args = ["micro", "--count", str(count), "--listed", str(listed), "--rounds", str(rounds)]
    results = _ours(args, env)
    for kind, sides in results.items():
        theirs = "FileSystemStorage" if kind == "local" else "InMemoryStorage"
        for operation in sides["ours"][0]:
            ours = median([r[operation] for r in sides["ours"]])
            django = median([r[operation] for r in sides["django"]])
            ratio = ours / django
            report.add(
                Row(
                    "WL3",
                    f"{kind}: {operation}",
                    f"MountStorage vs {theirs}",
                    ours,
                    ratio,
                    {
                        "django": f"{django * 1e6:.1f} µs",
                    },
                )
            )
            report.target(
                "WL3", f"{kind} {operation} ≤ 1.3x {theirs}", f"{ratio:.2f}x", ratio <= 1.3
            )


def wl4(
    report: Report, server: S3Server, bench_dir: Path, *, big_size: int, available: dict[str, bool]
) -> None:
    server.create_bucket("wl4-ours")
    ours = _ours(
        ["ops", "--big-size", str(big_size)], tools.ours_env(bench_dir, server.url, "wl4-ours")
    )
    theirs = None
    if available["django-storages"]:
        server.create_bucket("wl4-theirs")
        args = [str(tools.COMPARE_PYTHON), "-m", "benchmarks.djstorages", "ops"]
        args += ["--endpoint", server.url, "--bucket", "wl4-theirs", "--big-size", str(big_size)]
        theirs = _json(args, tool_env())
    else:
        report.note("WL4: django-storages skipped (not installed).")
    for operation, counts in ours.items():
        _wl4_row(report, operation, counts, theirs.get(operation) if theirs else None)
    _wl4_targets(report, ours)
    _readahead_targets(report, ours, theirs)


def _wl4_row(
    report: Report, operation: str, counts: dict[str, Any], other: dict[str, Any] | None
) -> None:
    extra: dict[str, Any] = {"requests": _describe(counts)}
    if counts["bytes_out"]:
        extra["downloaded"] = _size(counts["bytes_out"])
    # Only the operations run several times are timed: one run of the others
    # would be noise.
    timed = len(counts["seconds"]) > 1
    seconds = median(counts["seconds"]) if timed else None
    ratio = None
    if other is not None:
        extra["django-storages"] = f"{other['total']} ({_describe(other)})"
        if other["bytes_out"]:
            extra["django-storages downloaded"] = _size(other["bytes_out"])
        if timed:
            their_seconds = median(other["seconds"])
            extra["django-storages time"] = fmt_seconds(their_seconds)
            ratio = seconds / their_seconds
        report.target(
            "WL4",
            f"{operation}: no more requests than django-storages",
            f"{counts['total']} vs {other['total']}",
            counts["total"] <= other["total"],
        )
    report.add(
        Row("WL4", operation, "requests: ours", seconds, ratio, {"n": counts["total"], **extra})
    )


def _wl4_targets(report: Report, ours: dict[str, Any]) -> None:
    save, url = ours["save (new name)"], ours["url"]
    report.target(
        "WL4",
        "FileField save without overwrite ≤ 2 requests",
        str(save["total"]),
        save["total"] <= 2,
    )
    report.target("WL4", "url() makes 0 requests", str(url["total"]), url["total"] == 0)
    block = 8 * 2**20  # the s3 mount's block size (s3fs's default_block_size)
    for operation in ("open+read all", "open+read first MiB", storage_ops.SEQUENTIAL):
        counts = ours[operation]
        report.target(
            "WL4",
            f"{operation}: downloads ≤ bytes read + one block (8 MiB)",
            f"{_size(counts['bytes_out'])} for {_size(counts['read'])} read",
            counts["bytes_out"] <= counts["read"] + block,
        )


def _readahead_targets(report: Report, ours: dict[str, Any], theirs: dict[str, Any] | None) -> None:
    """The targets of issue #23, as tests/test_readahead.py asserts them."""
    head = ours[storage_ops.FIRST_KIB]
    report.target(
        "WL4",
        f"{storage_ops.FIRST_KIB}: ≤ 2 requests, ≤ 128 KiB downloaded",
        f"{head['total']} requests, {_size(head['bytes_out'])}",
        head["total"] <= 2 and head["bytes_out"] <= 128 * 1024,
    )
    _dimensions_target(report, ours, theirs)
    if theirs is None:
        return
    ratio = median(ours[storage_ops.SEQUENTIAL]["seconds"]) / median(
        theirs[storage_ops.SEQUENTIAL]["seconds"]
    )
    report.target(
        "WL4",
        f"{storage_ops.SEQUENTIAL}: no slower than django-storages",
        f"{ratio:.2f}x",
        ratio <= 1.0,
    )


def _dimensions_target(report: Report, ours: dict[str, Any], theirs: dict[str, Any] | None) -> None:
    # The photo needs Pillow in the venv that draws it (benchmarks/setup.sh
    # installs it in the comparison venv).
    if theirs is not None and storage_ops.DIMENSIONS not in theirs:
        report.note("WL4: django-storages' image row skipped (no Pillow in .venv-compare).")
    counts = ours.get(storage_ops.DIMENSIONS)
    if counts is None:
        report.note("WL4: image dimensions skipped (no Pillow in the project venv).")
        return
    gets = counts["requests"].get("GET object", 0)
    report.target(
        "WL4",
        f"{storage_ops.DIMENSIONS}: ≤ 2 GETs, ≤ 256 KiB downloaded",
        f"{gets} GETs ({counts['total']} requests), {_size(counts['bytes_out'])}",
        gets <= 2 and counts["bytes_out"] <= 256 * 1024,
    )


def _size(count: int) -> str:
    if count < 2**20:
        return f"{count / 1024:.0f} KiB"
    return f"{count / 2**20:.1f} MiB"


def _describe(counts: dict[str, Any]) -> str:
    return " + ".join(f"{n} {label}" for label, n in sorted(counts["requests"].items())) or "none"


def wl5(report: Report, server: S3Server, bench_dir: Path, *, entries: int, repeats: int) -> None:
    server.create_bucket("wl5")
    args = ["admin", "--entries", str(entries), "--rounds", str(repeats), "--mounts", "disk,s3"]
    results = _ours(args, tools.ours_env(bench_dir, server.url, "wl5"))
    for mount, cases in results.items():
        where = "local" if mount == "disk" else "S3"
        for case, data in cases.items():
            seconds = median(data["times"])
            extra: dict[str, Any] = {"best": f"{min(data['times']) * 1e3:.0f} ms"}
            if data["requests"] is not None:
                extra["requests"] = f"{data['requests']['total']} ({_describe(data['requests'])})"
            report.add(Row("WL5", f"{where}: {entries} entries", case, seconds, None, extra))
        _wl5_targets(report, mount, cases)


def _wl5_targets(report: Report, mount: str, cases: dict[str, Any]) -> None:
    first = cases["page 1 by name"]
    seconds = median(first["times"])
    if mount == "disk":
        report.target("WL5", "local page ≤ 300 ms", f"{seconds * 1e3:.0f} ms", seconds <= 0.3)
        return
    requests = first["requests"]
    lists = sum(n for label, n in requests["requests"].items() if label.startswith("GET list"))
    # Page 1 by name needs only the first list page: S3 lists in key order.
    report.target(
        "WL5",
        "S3 page 1 by name: one list call, nothing else",
        f"{requests['total']} requests, {lists} list, {seconds * 1e3:.0f} ms",
        lists == 1 and requests["total"] == 1,
    )
    later = (
        "page 2 by name, after page 1",
        "page 3 by size, after page 1",
        "page 2 by date, after the size sort",
    )
    # Each is served from the listing the page before it cached.
    for case in later:
        data = cases[case]
        seconds = median(data["times"])
        report.target(
            "WL5",
            f"S3 {case}: ≤ 50 ms, no request",
            f"{seconds * 1e3:.0f} ms, {data['requests']['total']} requests",
            seconds <= 0.05 and data["requests"]["total"] == 0,
        )
