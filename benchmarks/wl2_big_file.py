"""WL2: one big file, local → local (against cp), local → S3 and S3 → local (against
rclone), and the fixed cost of a one-byte copy, local and to S3, against ``manage.py version``.

Wall time and the peak RSS of the copying process itself.
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
    download = _download(server, source, out, env, rclone_env, repeats, available)
    floor = _startup(report, server, source, env, repeats)
    shutil.rmtree(out, ignore_errors=True)
    _rows(report, "local → local", local, size, "cp", floor)
    _rows(report, "local → S3", remote, size, "rclone copy")
    _rows(report, "S3 → local", download, size, "rclone copy")


def _download(
    server: S3Server,
    source: Path,
    out: Path,
    env: dict[str, str],
    rclone_env: dict[str, str],
    repeats: int,
    available: dict[str, bool],
) -> dict[str, list]:
    """S3 → local of the big file, storage_copy and rclone in turn."""
    run(tools.storage_copy("disk:wl2/big.bin", "s3:seed/big.bin"), env)
    runs: dict[str, list] = {"storage_copy": [], "rclone copy": []}
    for _ in range(repeats):
        for label in runs:
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            if label == "rclone copy":
                if not available["rclone"]:
                    continue
                args = tools.rclone_copy(f"s3:{BUCKET}/seed", str(out))
                runs[label].append(run(args, rclone_env))
            else:
                args = tools.storage_copy("s3:seed/big.bin", "disk:wl2-out/big.bin", summary=True)
                runs[label].append(run(args, env))
            if (out / "big.bin").stat().st_size != source.stat().st_size:
                raise RuntimeError(f"{label}: incomplete download")
    _empty_bucket(server)
    return runs


def _startup(
    report: Report, server: S3Server, source: Path, env: dict[str, str], repeats: int
) -> float:
    """Add the one-byte rows and the fixed-cost targets; return ``manage.py version``'s time."""
    (source.parent / "tiny.bin").write_bytes(b"x")
    copies = {
        "local → local (1 byte)": lambda n: f"disk:wl2-out/tiny-{n}.bin",
        "local → S3 (1 byte)": lambda n: f"s3:tiny-{n}/tiny.bin",
    }
    times: dict[str, list[float]] = {case: [] for case in copies}
    # The floor of every manage.py command of the same project: Python and django.setup().
    floor: list[float] = []
    for n in range(repeats):
        floor.append(run(tools.manage("version"), env).wall)
        for case, destination in copies.items():
            args = tools.storage_copy("disk:wl2/tiny.bin", destination(n))
            times[case].append(run(args, env).wall)
    version = median(floor)
    report.add(Row("WL2", "1 byte", "manage.py version (Django alone)", version))
    for case, values in times.items():
        ours = median(values)
        report.add(Row("WL2", case, "storage_copy (start-up)", ours))
        report.target(
            "WL2",
            f"{case}: storage_copy ≤ manage.py version + 150 ms",
            f"{ours * 1000:.0f} ms vs {version * 1000:.0f} + 150 ms",
            ours <= version + 0.150,
        )
    _empty_bucket(server, expected=repeats, smallest=1)
    return version


def _empty_bucket(server: S3Server, expected: int = 1, smallest: int = 2) -> None:
    """Check that the bucket holds ``expected`` objects of ``smallest`` bytes or more; empty it."""
    import s3fs

    fs = s3fs.S3FileSystem(
        key="testing", secret="testing", endpoint_url=server.url, skip_instance_cache=True
    )
    found = fs.find(BUCKET)
    if len(found) != expected:
        raise RuntimeError(f"expected {expected} objects in {BUCKET}, found {found}")
    if any(fs.size(name) < smallest for name in found):
        raise RuntimeError("incomplete upload")
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
    if reference == "rclone copy" and runs[reference]:
        theirs = median([r.wall for r in runs[reference]])
        report.target(
            "WL2",
            f"{case}: storage_copy no slower than rclone",
            f"{ours:.2f} s vs {theirs:.2f} s",
            ours <= theirs,
        )
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
