"""The storages in Django: FileField, callable storage, STORAGES, migrations, isolation."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import fsspec
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.test import override_settings

from demo.models import Document
from genro_storage_django import get_storage
from genro_storage_django.storage import MountStorage

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo_mounts(tmp_path):
    mounts = {
        "media": {"type": "local", "path": str(tmp_path / "media"), "serve": True},
        "scratch": {"type": "memory", "serve": True},
    }
    with override_settings(STORAGE_MOUNTS=mounts):
        yield tmp_path / "media"


def test_get_storage_returns_one_instance_per_mount(demo_mounts):
    media = get_storage("media")
    assert get_storage("media") is media
    assert isinstance(media, MountStorage)
    assert type(media).__name__ == "MediaMountStorage"
    assert type(get_storage("scratch")) is not type(media)


def test_filesystem_is_created_lazily_and_reused(demo_mounts):
    storage = get_storage("scratch")
    assert "backend" not in storage.__dict__
    storage.exists("x")
    assert storage.backend.fs is storage.backend.fs


@pytest.mark.django_db
def test_file_field_saves_through_the_mount(demo_mounts):
    document = Document(title="Report")
    document.file.save("report.txt", ContentFile(b"quarterly"), save=True)
    document.attachment.save("notes.txt", ContentFile(b"scratch notes"), save=True)
    document.refresh_from_db()
    assert document.file.name.startswith("documents/")
    assert (demo_mounts / document.file.name).read_bytes() == b"quarterly"
    assert document.file.url == f"/storage/serve/media/{document.file.name}"
    assert document.attachment.storage == get_storage("scratch")
    assert document.attachment.read() == b"scratch notes"
    assert get_storage("scratch").open(document.attachment.name).read() == b"scratch notes"


def test_storages_setting_builds_a_mount_storage(demo_mounts):
    setting = {
        "default": {
            "BACKEND": "genro_storage_django.storage.MountStorage",
            "OPTIONS": {"mount": "scratch"},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=setting):
        assert isinstance(storages["default"], MountStorage)
        name = default_storage.save("via-default.txt", ContentFile(b"d"))
        assert default_storage is not get_storage("scratch")
        # Two storages of one memory mount share its namespace.
        assert get_storage("scratch").open(name).read() == b"d"


def test_mount_storage_without_a_mount_is_improperly_configured():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="needs a mount name"):
        MountStorage()


def test_deconstruct_and_equality(demo_mounts):
    assert get_storage("media").deconstruct() == (
        "genro_storage_django.storage.MountStorage",
        (),
        {"mount": "media"},
    )
    assert MountStorage(mount="media") == get_storage("media")
    assert MountStorage(mount="media") != get_storage("scratch")


def assert_no_migration_changes(tmp_path: Path, settings_module: str, **env: str) -> None:
    """Run ``makemigrations --check`` on the testproject in a child process."""
    env = {
        **os.environ,
        "DEMO_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": settings_module,
        **env,
    }
    result = subprocess.run(
        [sys.executable, "testproject/manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_migrations_are_stable_and_hold_no_settings(tmp_path):
    assert_no_migration_changes(tmp_path, "testproject.settings")
    migration = (REPO / "testproject/demo/migrations/0001_initial.py").read_text()
    assert 'MountStorage(mount="media")' in migration
    assert "path" not in migration.split("MountStorage(")[1].split(")")[0]


def test_makemigrations_is_unchanged_when_mount_settings_change(tmp_path):
    settings_module = tmp_path / "moved_settings.py"
    settings_module.write_text(
        "from testproject.settings import *\n"
        "STORAGE_MOUNTS = {'media': {'type': 'memory', 'file_overwrite': True},\n"
        "                  'scratch': {'type': 'local', 'path': '/tmp/elsewhere'}}\n"
    )
    assert_no_migration_changes(tmp_path, "moved_settings", PYTHONPATH=str(tmp_path))


def test_memory_mounts_are_isolated_from_each_other_and_from_fsspec():
    mounts = {"one": {"type": "memory"}, "two": {"type": "memory"}}
    with override_settings(STORAGE_MOUNTS=mounts):
        get_storage("one").save("shared-name.txt", ContentFile(b"one"))
        assert not get_storage("two").exists("shared-name.txt")
        assert get_storage("two").listdir("") == ([], [])
        global_memory = fsspec.filesystem("memory")
        assert not global_memory.find("/", withdirs=True)
        global_memory.pipe_file("/files/intruder.txt", b"x")
        try:
            assert get_storage("one").listdir("") == ([], ["shared-name.txt"])
        finally:
            global_memory.rm_file("/files/intruder.txt")


def test_local_save_leaves_no_temporary_file_and_is_atomic_on_failure(tmp_path):
    class Exploding(io.RawIOBase):
        def __init__(self):
            self.calls = 0

        def readable(self):
            return True

        def read(self, n=-1):
            self.calls += 1
            if self.calls > 2:
                raise OSError("disk on fire")
            return b"x" * min(n, 1024)

    from django.core.files import File

    with override_settings(STORAGE_MOUNTS={"m": {"type": "local", "path": str(tmp_path)}}):
        storage = get_storage("m")
        storage.save("ok.txt", ContentFile(b"ok"))
        with pytest.raises(OSError, match="disk on fire"):
            storage.save("broken.bin", File(Exploding(), name="broken.bin"))
    assert sorted(os.listdir(tmp_path)) == ["ok.txt"]


@override_settings(FILE_UPLOAD_PERMISSIONS=0o640, FILE_UPLOAD_DIRECTORY_PERMISSIONS=0o750)
def test_local_upload_permissions(tmp_path):
    with override_settings(STORAGE_MOUNTS={"m": {"type": "local", "path": str(tmp_path)}}):
        get_storage("m").save("sub/dir/file.txt", ContentFile(b"p"))
    assert stat.S_IMODE((tmp_path / "sub/dir/file.txt").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "sub/dir").stat().st_mode) == 0o750
    assert stat.S_IMODE((tmp_path / "sub").stat().st_mode) == 0o750


def test_local_mount_path_is_confined(tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    (tmp_path / "mount").mkdir()
    from django.core.exceptions import SuspiciousFileOperation

    with (
        override_settings(STORAGE_MOUNTS={"m": {"type": "local", "path": str(tmp_path / "mount")}}),
        pytest.raises(SuspiciousFileOperation),
    ):
        get_storage("m").open("../secret.txt")
    assert outside.read_text() == "secret"
