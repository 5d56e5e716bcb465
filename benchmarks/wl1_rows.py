"""WL1's rows and targets, for the direct runs and those through the delaying proxy."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.harness import Report, Row, median

# storage_copy's, and rclone's --transfers.
DEFAULT_WORKERS = 4


@dataclass
class Sample:
    """One timed run: wall seconds, requests and CPU seconds of the server and the client."""

    seconds: float
    requests: int
    server_cpu: float
    client_cpu: float
    # This process's CPU seconds during the run: the proxy's, when there is one
    # (a thread here), and the harness's polling of the child's memory.
    own_cpu: float = 0.0
    # The requests the proxy held at once, at most (None without a proxy).
    overlap: int | None = None


def middle(samples: list[Sample], attribute: str) -> float:
    """Return the median of ``attribute`` over ``samples``."""
    return median([getattr(sample, attribute) for sample in samples])


def startup_rows(
    report: Report, case: str, results: dict[str, list[Sample]], ours_label: str
) -> None:
    """Add the rows of the one-file runs: what each tool pays whatever the number of files."""
    ours_time = middle(results[ours_label], "seconds")
    for label, samples in results.items():
        seconds = middle(samples, "seconds")
        extra = {"client CPU s": middle(samples, "client_cpu")}
        report.add(Row("WL1", f"{case}, 1 file", label, seconds, seconds / ours_time, extra))


def rows(
    report: Report, case: str, results: dict[str, list[Sample]], files: int, ours_label: str
) -> None:
    """Add one row per contender: time, ratio to ``ours_label``, requests and CPU per file."""
    ours_time = middle(results[ours_label], "seconds")
    for label, samples in results.items():
        seconds = middle(samples, "seconds")
        extra = {
            "files/s": files / seconds,
            "requests/file": middle(samples, "requests") / files,
            # The server is one process held by its GIL: no client can
            # finish sooner than the CPU time the server spends on it.
            "server CPU s": middle(samples, "server_cpu"),
            "client CPU s/1k files": middle(samples, "client_cpu") * 1000 / files,
            "server CPU s/1k files": middle(samples, "server_cpu") * 1000 / files,
        }
        if samples[0].overlap is not None:
            extra["most delayed at once"] = max(sample.overlap or 0 for sample in samples)
            extra["proxy CPU s"] = middle(samples, "own_cpu")
        report.add(Row("WL1", case, label, seconds, seconds / ours_time, extra))


def cpu_target(report: Report, case: str, results: dict[str, list[Sample]]) -> None:
    """The client's CPU: storage_copy at its defaults against aws s3 sync at its default."""
    ours_label = next((label for label in results if label.startswith("storage_copy")), None)
    theirs = next((label for label in results if label.startswith("aws s3 sync (default")), None)
    if ours_label is None or theirs is None:
        return
    ours_cpu = middle(results[ours_label], "client_cpu")
    aws_cpu = middle(results[theirs], "client_cpu")
    report.target(
        "WL1",
        f"{case}: storage_copy's client CPU ≤ aws s3 sync's",
        f"{ours_cpu:.2f} s vs {aws_cpu:.2f} s of user + system time",
        ours_cpu <= aws_cpu,
    )


def targets(
    report: Report,
    case: str,
    results: dict[str, list[Sample]],
    workers: int,
    startup: dict[str, list[Sample]],
    ours_label: str,
) -> None:
    """WL1's speed targets on 127.0.0.1: against rclone and aws, and the django-storages loop."""
    ours_time = middle(results[ours_label], "seconds")
    same = "rclone copy (default" if workers == DEFAULT_WORKERS else f"rclone copy ({workers}"
    rivals = [label for label in results if label.startswith(("aws", same))]
    if rivals:
        best = min(rivals, key=lambda label: middle(results[label], "seconds"))
        best_time = middle(results[best], "seconds")
        ours_alone = ours_time - middle(startup[ours_label], "seconds")
        best_alone = best_time - middle(startup[best], "seconds")
        report.target(
            "WL1",
            f"{case}: storage_copy no slower than rclone ({workers}) and aws s3 sync",
            f"{ours_time:.2f} s vs {best_time:.2f} s ({best}); less the time each takes "
            f"for one file (start-up): {ours_alone:.2f} s vs {best_alone:.2f} s",
            ours_time <= best_time,
        )
    loop = [values for label, values in results.items() if label.startswith("django-storages")]
    if loop:
        loop_time = middle(loop[0], "seconds")
        server_cpu = middle(results[ours_label], "server_cpu")
        report.target(
            "WL1",
            f"{case}: storage_copy ≥ 3x faster than the django-storages loop",
            f"{loop_time / ours_time:.1f}x faster (the server's own CPU time for our copy "
            f"allows at most {loop_time / server_cpu:.1f}x)",
            loop_time / ours_time >= 3,
        )
