"""What the command-line tests share: a seeded mount of each kind, running commands."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from genro_storage_django import transfer
from tests.test_transfer import TREE, storage_tree, write_tree

REPO = Path(__file__).resolve().parent.parent
KINDS = ["local", "memory", "s3"]


def second_config(kind: str, config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """Another, empty, mount of the same kind as ``config`` (on the same server)."""
    if kind == "local":
        (tmp_path / "other").mkdir()
        return {"type": "local", "path": str(tmp_path / "other")}
    if kind == "s3":
        return {**config, "prefix": f"{config['prefix']}-other"}
    return {"type": "memory"}


def seeded_mounts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """For a fixture with ``params=KINDS``: mount ``m`` of that kind holding ``TREE``;
    ``other`` of the same kind, empty.

    ``ro`` and ``rw`` are ``m`` with readonly and readwrite permissions
    (for memory mounts, empty ones: a memory mount's files are its own).
    """
    kind = request.param
    config = request.getfixturevalue(f"{kind}_mount_config")
    seed = tmp_path / "seed"
    write_tree(seed, TREE)
    mounts = {
        "seed": {"type": "local", "path": str(seed)},
        "m": config,
        "other": second_config(kind, config, tmp_path),
        "ro": {**config, "permissions": "readonly"},
        "rw": {**config, "permissions": "readwrite"},
    }
    with override_settings(STORAGE_MOUNTS=mounts):
        assert transfer.copy("seed:", "m:").ok
        yield kind


def copy_mounts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """For a fixture with ``params=KINDS``: copy from ``src`` (local, holding ``TREE``,
    yielded) to ``d`` of that kind; ``bak``, of the same kind, and ``ro`` beside it.
    """
    kind = request.param
    config = request.getfixturevalue(f"{kind}_mount_config")
    src = tmp_path / "src"
    write_tree(src, TREE)
    mounts = {
        "src": {"type": "local", "path": str(src)},
        "d": config,
        "bak": second_config(kind, config, tmp_path),
        "ro": {**config, "permissions": "readonly"},
    }
    with override_settings(STORAGE_MOUNTS=mounts):
        yield src


def run(command: str, *args: str) -> str:
    """Run ``command`` in process and return its standard output."""
    stdout = io.StringIO()
    call_command(command, *args, stdout=stdout, stderr=io.StringIO())
    return stdout.getvalue()


def refused(command: str, *args: str, returncode: int = 2) -> str:
    """Run ``command``, which must fail with ``returncode``; return the error message."""
    with pytest.raises(CommandError) as error:
        run(command, *args)
    assert error.value.returncode == returncode, str(error.value)
    return str(error.value)


def tree(mount: str, path: str = "") -> dict[str, bytes]:
    return storage_tree(mount, path)


def manage(
    tmp_path: Path, mounts: dict[str, Any], *args: str, stdin: Any = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """Start ``python -m django ARGS`` as a real process with ``mounts``; stdout piped."""
    settings = tmp_path / "cli_settings.py"
    settings.write_text(f"from tests.settings import *  # noqa\nSTORAGE_MOUNTS = {mounts!r}\n")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO), str(REPO / "testproject")]),
        "DJANGO_SETTINGS_MODULE": "cli_settings",
    }
    command = [sys.executable, "-m", "django", *args]
    return subprocess.Popen(
        command, env=env, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
