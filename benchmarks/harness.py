"""Timing, child processes and the results table shared by the workloads."""

from __future__ import annotations

import resource
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.servers import ROOT


@dataclass
class Run:
    """One child process: wall time, peak resident memory in bytes, CPU seconds.

    ``cpu`` is user + system time of the child and of every descendant it waited
    for (the kernel adds those to the child's own when it reaps them).
    """

    wall: float
    max_rss: int
    output: str = ""
    cpu: float = 0.0


def run(args: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Run ``args`` to completion; raise with its output if it fails.

    The peak RSS is the child's own high-water mark (``VmHWM``), polled while it
    runs: ``wait4``'s ``ru_maxrss`` would count this process's RSS at fork time.
    The CPU time is the ``RUSAGE_CHILDREN`` delta around the wait: one child at a
    time, so the delta is this one's (the moto server, not reaped yet, is not in it).
    """
    with tempfile.TemporaryFile() as output:
        cpu_before = _children_cpu()
        started = time.perf_counter()
        process = subprocess.Popen(
            list(args),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd or ROOT,
        )
        peak = [0]
        watcher = threading.Thread(target=_watch_rss, args=(process, peak), daemon=True)
        watcher.start()
        process.wait()
        wall = time.perf_counter() - started
        cpu = _children_cpu() - cpu_before
        watcher.join()
        output.seek(0)
        text = output.read().decode(errors="replace")
        if process.returncode:
            tail = text[-3000:]
            raise RuntimeError(f"{' '.join(args)} exited with {process.returncode}:\n{tail}")
    return Run(wall, peak[0], text, cpu)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _watch_rss(process: subprocess.Popen, peak: list[int]) -> None:
    status = f"/proc/{process.pid}/status"
    while process.returncode is None:
        try:
            with open(status) as file:
                for line in file:
                    if line.startswith("VmHWM:"):
                        peak[0] = max(peak[0], int(line.split()[1]) * 1024)
                        break
        except (FileNotFoundError, ProcessLookupError, ValueError):
            return
        time.sleep(0.01)


def repeat(
    times: int, action: Callable[[], Any], before: Callable[[], Any] | None = None
) -> list[Any]:
    """Call ``before`` (untimed set-up) then ``action`` ``times`` times; return the results."""
    results = []
    for _ in range(times):
        if before is not None:
            before()
        results.append(action())
    return results


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


MIB = 1024 * 1024


@dataclass
class Row:
    """One line of the results table."""

    workload: str
    case: str
    tool: str
    seconds: float | None = None
    ratio: float | None = None  # this tool's time over the reference's, < 1 is faster
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Target:
    workload: str
    text: str
    measured: str
    met: bool


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def target(self, workload: str, text: str, measured: str, met: bool) -> None:
        self.targets.append(Target(workload, text, measured, met))

    def note(self, text: str) -> None:
        self.notes.append(text)


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1e-3:
        return f"{value * 1e6:.1f} µs"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def fmt_extra(extra: dict[str, Any]) -> str:
    parts = []
    for key, value in extra.items():
        if isinstance(value, float):
            value = f"{value:.2f}"
        parts.append(f"{key}={value}")
    return ", ".join(parts)


def table(report: Report) -> list[list[str]]:
    rows = [["workload", "case", "tool", "median", "ratio", "details"]]
    for row in report.rows:
        ratio = "-" if row.ratio is None else f"{row.ratio:.2f}"
        rows.append(
            [
                row.workload,
                row.case,
                row.tool,
                fmt_seconds(row.seconds),
                ratio,
                fmt_extra(row.extra),
            ]
        )
    return rows


def render_text(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def render_rst(rows: list[list[str]]) -> str:
    """Return ``rows`` (the first is the header) as an RST list-table."""
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in rows:
        lines.append(f"   * - {row[0] or ' '}")
        lines.extend(f"     - {cell or ' '}" for cell in row[1:])
    return "\n".join(lines)
