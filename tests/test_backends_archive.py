"""zip and tar mounts: archives built by the test on local and s3 mounts, read in place."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings

from genro_storage_django import get_storage
from genro_storage_django.exceptions import MountPermissionError

MEMBERS = {
    "readme.txt": b"hello archive\n",
    "docs/guide.txt": b"guide\n" * 100,
    "docs/deep/data.bin": bytes(range(256)) * 64,
}


def build_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def build_tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


BUILDERS = {"zip": build_zip, "tar": build_tar}


@pytest.fixture(params=["local", "s3"])
def source_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(request.getfixturevalue(f"{request.param}_mount_config"))


@pytest.fixture(params=["zip", "tar"])
def archive(request: pytest.FixtureRequest, source_config) -> Iterator[Any]:
    kind = request.param
    mounts = {
        "media": source_config,
        "packed": {"type": kind, "source": f"media:exports/2024.{kind}"},
    }
    with override_settings(STORAGE_MOUNTS=mounts):
        get_storage("media").save(f"exports/2024.{kind}", ContentFile(BUILDERS[kind](MEMBERS)))
        yield get_storage("packed")


def test_members_read_list_and_stat(archive):
    assert archive.listdir("") == (["docs"], ["readme.txt"])
    assert archive.listdir("docs") == (["deep"], ["guide.txt"])
    for name, data in MEMBERS.items():
        with archive.open(name) as file:
            assert file.read() == data
        assert archive.size(name) == len(data)
        assert archive.exists(name)
    assert archive.exists("docs") and not archive.exists("missing.txt")
    with pytest.raises(FileNotFoundError):
        archive.open("missing.txt").read()


def test_archives_are_read_only(archive):
    assert archive.mount.permissions == "readonly"
    with pytest.raises(MountPermissionError):
        archive.save("new.txt", ContentFile(b"x"))
    with pytest.raises(MountPermissionError):
        archive.delete("readme.txt")


def test_storage_copy_from_an_archive(archive, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    mounts = {**_mounts(archive), "out": {"type": "local", "path": str(out)}}
    with override_settings(STORAGE_MOUNTS=mounts):
        call_command("storage_copy", "packed:", "out:", stdout=io.StringIO(), stderr=io.StringIO())
    for name, data in MEMBERS.items():
        assert (out / name).read_bytes() == data


def _mounts(storage) -> dict[str, Any]:
    from django.conf import settings

    return dict(settings.STORAGE_MOUNTS)


@pytest.mark.parametrize(
    ("setting", "check_id"),
    [
        ({"type": "zip"}, "E005"),
        ({"type": "zip", "source": "no-colon.zip"}, "E012"),
        ({"type": "tar", "source": "media:"}, "E012"),
    ],
)
def test_a_bad_source_is_a_check_error(setting, check_id):
    with override_settings(STORAGE_MOUNTS={"packed": setting}):
        ids = [m.id for m in run_checks() if m.id and m.id.startswith("genro_storage_django.")]
    assert ids == [f"genro_storage_django.{check_id}"]


def test_one_member_of_a_50_mib_zip_on_s3_fetches_under_2_mib(s3_mount_config, s3_server):
    members = {f"filler/{i:03}.bin": os.urandom(2**20) for i in range(50)}
    members["wanted.txt"] = b"the one member\n"
    data = build_zip_stored(members)
    assert len(data) > 50 * 2**20
    mounts = {
        "media": s3_mount_config,
        "packed": {"type": "zip", "source": "media:big.zip"},
    }
    with override_settings(STORAGE_MOUNTS=mounts):
        get_storage("media").save("big.zip", ContentFile(data))
        s3_server.log.clear()
        with get_storage("packed").open("wanted.txt") as file:
            assert file.read() == b"the one member\n"
        requests = s3_server.log.snapshot()
    gets = [entry for entry in requests if entry[0] == "GET" and "big.zip" in entry[1]]
    assert gets, requests
    assert all(entry[2].startswith("bytes=") for entry in gets), gets  # no whole download
    fetched = sum(_range_length(entry[2]) for entry in gets)
    assert fetched < 2 * 2**20, (fetched, gets)


def build_zip_stored(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _range_length(header: str) -> int:
    start, end = header.removeprefix("bytes=").split("-")
    return int(end) - int(start) + 1


def test_a_missing_archive_names_the_mount(local_mount_config):
    mounts = {"media": local_mount_config, "packed": {"type": "zip", "source": "media:none.zip"}}
    with override_settings(STORAGE_MOUNTS=mounts), pytest.raises(FileNotFoundError):
        get_storage("packed").listdir("")


def test_local_archive_path_is_read_in_place(local_mount_config):
    root = Path(local_mount_config["path"])
    (root / "a.zip").write_bytes(build_zip(MEMBERS))
    mounts = {"media": local_mount_config, "packed": {"type": "zip", "source": "media:a.zip"}}
    with override_settings(STORAGE_MOUNTS=mounts):
        assert get_storage("packed").open("readme.txt").read() == MEMBERS["readme.txt"]


@pytest.mark.django_db
def test_the_admin_browses_an_archive(archive, admin_client):
    from django.urls import reverse

    def url(view: str, path: str = "") -> str:
        name = f"admin:genro_storage_django_storagemount_{view}"
        return reverse(name, kwargs={"mount": "packed", "path": path})

    response = admin_client.get(url("browse", "docs"))
    assert response.status_code == 200
    assert [row["entry"].name for row in response.context["rows"]] == ["deep", "guide.txt"]
    download = admin_client.get(url("download", "docs/guide.txt"))
    assert b"".join(download.streaming_content) == MEMBERS["docs/guide.txt"]
