"""The benchmarks keep working: each workload once, at a tiny size (``--smoke``).

Comparison tools that are not installed (``make bench`` installs them) are skipped;
the numbers are not checked, only that every workload runs to the end.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import django
import pytest

ROOT = Path(__file__).resolve().parent.parent


# `make bench` runs the benchmarks in .venv only (Django 5.2): the Django 6
# run would check an environment they never run in, for 90 s of the suite.
@pytest.mark.skipif(django.VERSION >= (6,), reason="make bench runs in .venv (Django 5.2) only")
def test_every_workload_runs_once_at_a_tiny_size() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for workload in ("WL1", "WL2", "WL3", "WL4", "WL5", "WL6", "WL7", "WL8"):
        assert f"{workload} done" in done.stdout
    assert "Targets:" in done.stdout
