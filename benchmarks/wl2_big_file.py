"""WL2: one big file, local → local (against cp) and local → S3 (against rclone).

Wall time and the peak RSS of the copying process itself (``wait4``).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from benchmarks import tools
from benchmarks.harness import MIB, Report, Row, median, run
from benchmarks.servers import S3Server

BUCKET = "wl2"


def make_file(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    block = os.urandom(MIB)
    with open(path, "wb") as file:
        for _ in range(size // MIB):
            file.write(block)
        file.write(block[: size % MIB])


def bench(
    report: Report,
    server: S3Server,
    bench_dir: Path,
    *,
    size: int,
    repeats: int,
    available: dict[str, bool],
) -> None:
    source = bench_dir / "disk" / "wl2" / "big.bin"
    make_file(source, size)
    out = bench_dir / "disk" / "wl2-out"
    server.create_bucket(BUCKET)
    env = tools.ours_env(bench_dir, server.url, BUCKET)
    rclone_env = tools.rclone_env(server.url)
    local: dict[str, list] = {"storage_copy": [], "cp": []}
    remote: dict[str, list] = {"storage_copy": [], "rclone copy": []}
    for number in range(repeats):
        for label in local:
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            if label == "cp":
                args = ["cp", str(source), str(out / "big.bin")]
            else:
                args = tools.storage_copy("disk:wl2/big.bin", "disk:wl2-out/big.bin", summary=True)
            local[label].append(run(args, env))
            if (out / "big.bin").stat().st_size != size:
                raise RuntimeError(f"{label}: incomplete copy")
        for label in remote:
            if label == "rclone copy" and not available["rclone"]:
                continue
            if label == "rclone copy":
                args = tools.rclone_copy(str(source.parent), f"s3:{BUCKET}/rclone-{number}")
                remote[label].append(run(args, rclone_env))
            else:
                args = tools.storage_copy(
                    "disk:wl2/big.bin", f"s3:ours-{number}/big.bin", summary=True
                )
                remote[label].append(run(args, env))
            _empty_bucket(server)
    # What every storage_copy pays before copying: Python, Django, the listing.
    (source.parent / "tiny.bin").write_bytes(b"x")
    startup = [
        run(tools.storage_copy("disk:wl2/tiny.bin", f"disk:wl2-out/tiny-{n}.bin"), env).wall
        for n in range(repeats)
    ]
    # The floor of every manage.py command of the same project: Python and django.setup().
    floor = [run(tools.manage("version"), env).wall for _ in range(repeats)]
    shutil.rmtree(out, ignore_errors=True)
    report.add(Row("WL2", "local → local (1 byte)", "storage_copy (start-up)", median(startup)))
    report.add(
        Row("WL2", "local → local (1 byte)", "manage.py version (Django alone)", median(floor))
    )
    _rows(report, "local → local", local, size, "cp", median(floor))
    _rows(report, "local → S3", remote, size, "rclone copy")


def _empty_bucket(server: S3Server) -> None:
    import s3fs

    fs = s3fs.S3FileSystem(
        key="testing", secret="testing", endpoint_url=server.url, skip_instance_cache=True
    )
    found = fs.find(BUCKET)
    if len(found) != 1:
        raise RuntimeError(f"expected one object in {BUCKET}, found {found}")
    if fs.size(found[0]) <= 0:
        raise RuntimeError("empty upload")
    fs.rm(found)


def _copy_time(runs: list) -> float:
    """The median time of the copy itself, from storage_copy's JSON summary."""
    # NDJSON: one event per file, then the summary, on the last line.
    summaries = [json.loads(r.output.strip().splitlines()[-1]) for r in runs]
    return median([summary["elapsed"] for summary in summaries])


def _rows(
    report: Report,
    case: str,
    runs: dict[str, list],
    size: int,
    reference: str,
    django_startup: float = 0.0,
) -> None:
    ours = median([r.wall for r in runs["storage_copy"]])
    label = f"{case} ({size // MIB} MiB)"
    for tool, values in runs.items():
        if not values:
            report.note(f"WL2: {tool} skipped (not installed).")
            continue
        seconds = median([r.wall for r in values])
        rss = max(r.max_rss for r in values) / MIB
        extra = {"MiB/s": size / MIB / seconds, "peak RSS MiB": rss}
        if tool == "storage_copy":
            extra["copy itself"] = f"{_copy_time(values):.2f} s"
        report.add(Row("WL2", label, tool, seconds, seconds / ours, extra))
    ours_rss = max(r.max_rss for r in runs["storage_copy"]) / MIB
    report.target(
        "WL2", f"{case}: storage_copy peak RSS < 150 MiB", f"{ours_rss:.0f} MiB", ours_rss < 150
    )
    if case == "local → local":
        cp = median([r.wall for r in runs["cp"]])
        report.target(
            "WL2",
            "local → local: storage_copy ≥ 0.7x the speed of cp",
            f"{cp / ours:.2f}x (the copy itself: {cp / _copy_time(runs['storage_copy']):.2f}x; "
            f"Django's start-up alone takes {django_startup / cp:.2f}x cp's whole time)",
            cp / ours >= 0.7,
        )
