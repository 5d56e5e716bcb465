"""Bulk actions of the admin browser: delete, move, copy to another mount, ZIP download."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.http import StreamingHttpResponse
from django.test import Client, override_settings

from genro_storage_django import get_storage
from tests.test_admin import mounts, put, url  # noqa: F401 -- the fixture is used by name

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["files", "memory"])
def mount(request: pytest.FixtureRequest, mounts: Any) -> str:  # noqa: F811
    return request.param


def texts(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def bulk(client: Client, mount: str, path: str, action: str, names: list[str], **extra: Any) -> Any:
    return client.post(url("bulk", mount, path), {"action": action, "names": names, **extra})


def test_the_folder_page_has_checkboxes_and_bulk_buttons(admin_client: Client, mount: str) -> None:
    put(mount, "docs/a.txt")
    put(mount, "b.txt")
    html = admin_client.get(url("browse", mount)).content.decode()
    assert 'name="names" value="docs"' in html and 'name="names" value="b.txt"' in html
    assert f'action="{url("bulk", mount)}"' in html
    for action in ("download", "move", "copy", "delete"):
        assert f'name="action" value="{action}"' in html


def test_bulk_delete_asks_once_then_deletes_everything(admin_client: Client, mount: str) -> None:
    for name in ("docs/a.txt", "docs/sub/b.txt", "c.txt", "keep.txt"):
        put(mount, name)
    storage = get_storage(mount)
    page = bulk(admin_client, mount, "", "delete", ["docs", "c.txt"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "docs/a.txt" in html and "docs/sub/b.txt" in html and "c.txt" in html
    assert "keep.txt" not in html
    assert storage.exists("c.txt")  # nothing goes before the confirmation
    done = bulk(admin_client, mount, "", "delete", ["docs", "c.txt"], confirm="1")
    assert done.status_code == 302 and done["Location"] == url("browse", mount)
    assert texts(done) == ["Deleted 2 items."]
    assert not storage.exists("docs/a.txt") and not storage.exists("c.txt")
    assert storage.exists("keep.txt")


def test_bulk_move_into_a_folder(admin_client: Client, mount: str) -> None:
    put(mount, "a.txt", b"A")
    put(mount, "photos/p.png", b"P")
    put(mount, "archive/old.txt", b"O")
    storage = get_storage(mount)
    page = bulk(admin_client, mount, "", "move", ["a.txt", "photos"])
    assert page.status_code == 200 and 'name="target"' in page.content.decode()
    done = bulk(admin_client, mount, "", "move", ["a.txt", "photos"], confirm="1", target="archive")
    assert done.status_code == 302
    assert texts(done) == ["Moved 2 items to “archive”."]
    assert storage.open("archive/a.txt").read() == b"A"
    assert storage.open("archive/photos/p.png").read() == b"P"
    assert not storage.exists("a.txt") and not storage.exists("photos/p.png")


def test_bulk_move_reports_each_item_it_cannot_move(admin_client: Client, mount: str) -> None:
    put(mount, "a.txt", b"new")
    put(mount, "dest/a.txt", b"old")
    put(mount, "dir/x.txt")
    storage = get_storage(mount)
    done = bulk(admin_client, mount, "", "move", ["a.txt", "dir"], confirm="1", target="dir/inner")
    messages = texts(done)
    assert "A folder cannot be moved inside itself." in messages
    assert "Moved 1 item to “dir/inner”." in messages
    admin_client.get(url("browse", mount))  # shows, and so uses up, the messages so far
    done = bulk(
        admin_client, mount, "dir/inner", "move", ["dir/inner/a.txt"], confirm="1", target="dest"
    )
    assert texts(done) == ["“dest/a.txt” already exists."]
    assert storage.open("dest/a.txt").read() == b"old"
    assert storage.open("dir/inner/a.txt").read() == b"new"


def test_bulk_copy_to_another_mount(admin_client: Client, mounts: Any) -> None:  # noqa: F811
    put("files", "docs/a.txt", b"alpha")
    put("files", "docs/sub/b.txt", b"beta")
    put("files", "c.txt", b"gamma")
    put("memory", "backup/c.txt", b"there already")
    page = bulk(admin_client, "files", "", "copy", ["docs", "c.txt"])
    html = page.content.decode()
    # Mounts one may upload to, without the source and the read-only one.
    assert page.context["targets"] == ["rw", "memory"]
    assert 'value="ro"' not in html
    done = bulk(
        admin_client,
        "files",
        "",
        "copy",
        ["docs", "c.txt"],
        confirm="1",
        target_mount="memory",
        target="backup",
    )
    assert done.status_code == 302
    assert texts(done) == ["Copied 2 files to “memory”; 1 were there already."]
    memory = get_storage("memory")
    assert memory.open("backup/docs/a.txt").read() == b"alpha"
    assert memory.open("backup/docs/sub/b.txt").read() == b"beta"
    assert memory.open("backup/c.txt").read() == b"there already"
    assert get_storage("files").exists("c.txt")


def test_a_large_copy_says_it_needs_celery(admin_client: Client, mounts: Any) -> None:  # noqa: F811
    for index in range(3):
        put("files", f"many/{index}.txt", b"x" * 10)
    with override_settings(STORAGE_ADMIN_COPY_MAX_FILES=2):
        page = bulk(admin_client, "files", "", "copy", ["many"], confirm="1", target_mount="memory")
    assert page.status_code == 200
    assert "needs Celery" in page.content.decode()
    assert get_storage("memory").listdir("") == ([], [])
    with override_settings(STORAGE_ADMIN_COPY_MAX_BYTES=25):
        page = bulk(admin_client, "files", "", "copy", ["many"], confirm="1", target_mount="memory")
    assert page.context["too_large"] and get_storage("memory").listdir("") == ([], [])


def test_names_that_do_not_exist_are_reported_and_skipped(admin_client: Client, mount: str) -> None:
    put(mount, "a.txt")
    done = bulk(admin_client, mount, "", "delete", ["a.txt", "gone.txt"], confirm="1")
    assert texts(done) == ["“gone.txt” does not exist.", "Deleted 1 item."]
    admin_client.get(url("browse", mount))
    nothing = bulk(admin_client, mount, "", "delete", [], confirm="1")
    assert texts(nothing) == ["Select at least one file or folder."]


def test_an_unknown_action_is_400(admin_client: Client, mount: str) -> None:
    put(mount, "a.txt")
    assert bulk(admin_client, mount, "", "chmod", ["a.txt"]).status_code == 400
    assert admin_client.get(url("bulk", mount)).status_code == 405


def _zip_of(response: Any) -> zipfile.ZipFile:
    assert isinstance(response, StreamingHttpResponse)
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_zip_download_of_files_and_folders(admin_client: Client, mount: str) -> None:
    contents = {
        "docs/a.txt": b"alpha" * 1000,
        "docs/sub/b.bin": os.urandom(300_000),
        "docs/c.txt": b"gamma",
        "top.png": b"not really a png",
    }
    for name, data in contents.items():
        put(mount, name, data)
    response = bulk(admin_client, mount, "", "download", ["docs/sub", "top.png", "docs/c.txt"])
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="{mount}.zip"'
    archive = _zip_of(response)
    assert archive.testzip() is None
    files = {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
    assert files == {
        "docs/sub/b.bin": contents["docs/sub/b.bin"],
        "top.png": contents["top.png"],
        "docs/c.txt": contents["docs/c.txt"],
    }
    # From a folder page the members are named relative to it.
    inner = _zip_of(bulk(admin_client, mount, "docs", "download", ["docs/sub", "docs/a.txt"]))
    digests = {i.filename: hashlib.sha256(inner.read(i)).hexdigest() for i in inner.infolist()}
    assert digests["a.txt"] == hashlib.sha256(contents["docs/a.txt"]).hexdigest()
    assert "sub/b.bin" in digests and "sub/" in digests


def test_zip_with_deflate_compresses_text_but_not_images(admin_client: Client, mount: str) -> None:
    put(mount, "a.txt", b"a" * 100_000)
    put(mount, "p.png", b"p" * 100_000)
    with override_settings(STORAGE_ADMIN_ZIP_DEFLATE=True):
        archive = _zip_of(bulk(admin_client, mount, "", "download", ["a.txt", "p.png"]))
    assert archive.getinfo("a.txt").compress_type == zipfile.ZIP_DEFLATED
    assert archive.getinfo("a.txt").compress_size < 1000
    assert archive.getinfo("p.png").compress_type == zipfile.ZIP_STORED
    assert archive.read("a.txt") == b"a" * 100_000


MEMORY_PROBE = r"""
import hashlib, os, sys, tracemalloc, zipfile
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
import django
from django.conf import settings
root = sys.argv[1]
django.setup()
from django.test.utils import override_settings
from genro_storage_django.admin import selection, zipstream
with override_settings(STORAGE_MOUNTS={"big": {"type": "local", "path": root}}):
    from genro_storage_django import get_storage
    storage = get_storage("big")
    items = [selection.Item("big", True)]
    tracemalloc.start()
    total, digest, largest = 0, hashlib.sha256(), 0
    for chunk in zipstream.stream_zip(storage, selection.members(storage, items, "")):
        total += len(chunk)
        largest = max(largest, len(chunk))
        digest.update(chunk)
    peak = tracemalloc.get_traced_memory()[1]
print(total, peak, largest)
"""


def test_zip_streams_in_bounded_memory(tmp_path: Path) -> None:
    """Three files of 40 MB: the archive streams past while at most a few MB are held."""
    root = tmp_path / "root"
    (root / "big").mkdir(parents=True)
    block = os.urandom(1024 * 1024)
    for index in range(3):
        with open(root / "big" / f"{index}.bin", "wb") as handle:
            for _ in range(40):
                handle.write(block)
    checkout = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(root)],
        capture_output=True,
        text=True,
        check=True,
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": f"{checkout}{os.pathsep}{checkout / 'testproject'}"},
        timeout=120,
    )
    total, peak, largest = (int(part) for part in result.stdout.split())
    assert total > 120 * 1024 * 1024
    # One chunk read, one written and zipfile's own buffers: far below one file's 40 MB.
    assert peak < 8 * 1024 * 1024, peak
    assert largest <= 2 * 1024 * 1024, largest


def test_zip64_headers_for_members_past_the_threshold(
    admin_client: Client, mount: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genro_storage_django.admin import zipstream

    monkeypatch.setattr(zipstream, "ZIP64_FROM", 1000)
    put(mount, "large.bin", b"L" * 5000)
    raw = b"".join(bulk(admin_client, mount, "", "download", ["large.bin"]).streaming_content)
    archive = zipfile.ZipFile(io.BytesIO(raw))
    assert archive.read("large.bin") == b"L" * 5000
    # The ZIP64 extra field (header id 0x0001) follows the local header's name.
    assert b"large.bin\x01\x00" in raw
