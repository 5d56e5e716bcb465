"""The released artefacts: build the sdist and wheel, install the wheel, run the demo on it.

One module-scoped build serves every test here. The wheel goes into a fresh
virtual environment (Django and fsspec come from the package index, through
pip's cache), and ``manage.py check`` runs on a copy of the demo project with
that environment's Python, so the app is imported from the wheel and never
from the source tree. Deselect with ``-m "not packaging"``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import genro_storage_django

pytestmark = pytest.mark.packaging
# ``build`` comes with the dev extra; the tox test environments deselect this module.
pytest.importorskip("build")

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "genro_storage_django"
NAME = f"genro_storage_django-{genro_storage_django.__version__}"


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _package_data() -> list[str]:
    """Return the files under templates/, static/ and migrations/ that a wheel must carry."""
    files = []
    for folder in ("templates", "static", "migrations"):
        for path in (PACKAGE / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                files.append(path.relative_to(ROOT).as_posix())
    return files


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the sdist, then the wheel from it (as ``python -m build`` does by default)."""
    outdir = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--outdir", outdir, ROOT, cwd=ROOT)
    return outdir


def _wheel(dist: Path) -> Path:
    (wheel,) = dist.glob("*.whl")
    return wheel


def test_version_is_single_sourced(dist: Path) -> None:
    assert _wheel(dist).name.startswith(f"{NAME}-")
    assert (dist / f"{NAME}.tar.gz").exists()


def test_wheel_contains_package_data(dist: Path) -> None:
    names = set(zipfile.ZipFile(_wheel(dist)).namelist())
    expected = ["genro_storage_django/py.typed", *_package_data()]
    assert [name for name in expected if name not in names] == []
    assert any(name.startswith("genro_storage_django/templates/") for name in names)
    assert any(name.startswith("genro_storage_django/migrations/") for name in names)
    assert f"{NAME}.dist-info/licenses/LICENSE" in names
    # Nothing of the repository beyond the package itself.
    assert {name.split("/")[0] for name in names} == {
        "genro_storage_django",
        f"{NAME}.dist-info",
    }


def test_sdist_contains_package_data_and_changelog(dist: Path) -> None:
    with tarfile.open(dist / f"{NAME}.tar.gz") as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    expected = ["README.md", "CHANGELOG.md", "LICENSE", "pyproject.toml", *_package_data()]
    assert [name for name in expected if name not in names] == []


def test_installed_wheel_runs_the_demo_project(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # No pip inside the new environment: the running pip installs into it,
    # which saves bootstrapping one and shares its download cache.
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--quiet", _wheel(dist),
        cwd=tmp_path,
    )  # fmt: skip

    project = tmp_path / "testproject"
    shutil.copytree(
        ROOT / "testproject", project, ignore=shutil.ignore_patterns("var", "__pycache__")
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV")
    }
    env["DEMO_VAR_DIR"] = str(tmp_path / "var")
    manage = [python, project / "manage.py"]

    _run(*manage, "check", "--fail-level", "WARNING", cwd=tmp_path, env=env)
    where = _run(
        *manage, "shell", "-c", "import genro_storage_django as g; print(g.__file__)",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    # The last line: Django's shell may first announce its automatic imports.
    assert Path(where.strip().splitlines()[-1]).is_relative_to(venv), where
    _run(*manage, "migrate", "--noinput", cwd=tmp_path, env=env)
