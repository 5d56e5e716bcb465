"""The command lines of every contender: storage_copy, rclone, aws s3 sync, django-storages."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from benchmarks.servers import KEY, ROOT, SECRET, tool_env

COMPARE_PYTHON = ROOT / "benchmarks" / ".venv-compare" / "bin" / "python"
AWS = ROOT / "benchmarks" / ".venv-compare" / "bin" / "aws"
MANAGE = ROOT / "testproject" / "manage.py"


def available() -> dict[str, bool]:
    """Return which comparison tools are installed."""
    return {
        "rclone": shutil.which("rclone") is not None,
        "aws": AWS.exists(),
        "django-storages": COMPARE_PYTHON.exists(),
        "cp": shutil.which("cp") is not None,
    }


def ours_env(bench_dir: Path, s3_url: str, bucket: str = "bench-ours") -> dict[str, str]:
    return tool_env(
        DJANGO_SETTINGS_MODULE="benchmarks.settings",
        BENCH_DIR=str(bench_dir),
        BENCH_S3_URL=s3_url,
        BENCH_S3_BUCKET=bucket,
    )


def manage(*arguments: str) -> list[str]:
    """The command line of ``testproject/manage.py`` with ``arguments``."""
    return [sys.executable, str(MANAGE), *arguments]


def storage_copy(
    source: str, destination: str, workers: int | None = None, summary: bool = False
) -> list[str]:
    """The command line; ``summary`` prints its JSON summary (with the copy's own time)."""
    args = manage("storage_copy", source, destination, "--no-progress")
    if workers is not None:
        args += ["--workers", str(workers)]
    return [*args, "--json" if summary else "--verbosity=0"]


def rclone_env(s3_url: str) -> dict[str, str]:
    return tool_env(
        RCLONE_CONFIG_BENCH_TYPE="s3",
        RCLONE_CONFIG_BENCH_PROVIDER="Other",
        RCLONE_CONFIG_BENCH_ENDPOINT=s3_url,
        RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=KEY,
        RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=SECRET,
        RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE="true",
        RCLONE_CONFIG_BENCH_REGION="us-east-1",
        RCLONE_CONFIG="/dev/null",
    )


def rclone_copy(source: str, destination: str, transfers: int | None = None) -> list[str]:
    """``rclone copy``; ``s3:bucket/path`` locations become ``bench:bucket/path``."""
    args = ["rclone", "copy", _rclone(source), _rclone(destination), "--s3-no-check-bucket"]
    if transfers is not None:
        args += ["--transfers", str(transfers), "--checkers", str(transfers)]
    return args


def _rclone(location: str) -> str:
    return f"bench:{location[3:]}" if location.startswith("s3:") else location


def aws_sync(source: str, destination: str, s3_url: str) -> list[str]:
    def url(location: str) -> str:
        return f"s3://{location[3:]}" if location.startswith("s3:") else location

    return [
        str(AWS),
        "s3",
        "sync",
        url(source),
        url(destination),
        "--endpoint-url",
        s3_url,
        "--only-show-errors",
    ]


def aws_env(bench_dir: Path, concurrency: int | None = None) -> dict[str, str]:
    """The environment of ``aws``; ``concurrency`` sets ``s3.max_concurrent_requests``.

    That setting exists only in a config file (no option, no variable): one is
    written under ``bench_dir``. Without ``concurrency``, no config file at all
    (not the user's either): aws's default of 10.
    """
    if concurrency is None:
        return tool_env(AWS_CONFIG_FILE="/dev/null")
    config = bench_dir / f"aws-config-{concurrency}"
    config.write_text(f"[default]\ns3 =\n    max_concurrent_requests = {concurrency}\n")
    return tool_env(AWS_CONFIG_FILE=str(config))


def djstorages_copy(source: str, destination: str, s3_url: str) -> list[str]:
    """The django-storages loop; locations are ``local:/abs/dir`` or ``s3:bucket/prefix``."""
    return [
        str(COMPARE_PYTHON),
        "-m",
        "benchmarks.djstorages",
        "copy",
        source,
        destination,
        "--endpoint",
        s3_url,
    ]
