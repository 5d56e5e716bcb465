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
    assert texts(done) == ["Copied 2 files to “memory”; 1 was there already."]
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


# "Select all N items": the page posts select_across=1 and its filter, the server lists again.


def fill(mount: str, count: int, folder: str = "many") -> None:
    for index in range(count):
        put(mount, f"{folder}/f{index:03}.txt", b"x")


def across(client: Client, mount: str, path: str, action: str, **extra: Any) -> Any:
    return client.post(url("bulk", mount, path), {"action": action, "select_across": "1", **extra})


def confirmed(client: Client, mount: str, path: str, action: str, **extra: Any) -> Any:
    """Post ``action`` on all the items of ``path``, then confirm what the page listed."""
    page = across(client, mount, path, action, **extra)
    assert page.status_code == 200
    digest = page.context["digest"]
    return across(client, mount, path, action, confirm="1", digest=digest, **extra)


def shown(page: Any) -> list[str]:
    return sorted(row["item"].name for row in page.context["rows"])


def test_a_folder_of_many_pages_offers_to_select_them_all(admin_client: Client, mount: str) -> None:
    fill(mount, 105)
    html = admin_client.get(url("browse", mount, "many")).content.decode()
    assert "Select all 105 items" in html and 'name="select_across" value="0"' in html
    assert "storage-across" not in admin_client.get(url("browse", mount)).content.decode()


def test_select_across_deletes_every_page_after_a_bounded_list(
    admin_client: Client, mount: str
) -> None:
    fill(mount, 130)
    put(mount, "many/sub/inner.txt")
    put(mount, "keep.txt")
    page = across(admin_client, mount, "many", "delete")
    html = page.content.decode()
    assert page.context["count"] == 131 and len(page.context["rows"]) == 100
    assert "delete these 131 items" in html and "…and 31 more items." in html
    assert 'name="select_across" value="1"' in html and 'name="names"' not in html
    assert get_storage(mount).exists("many/f000.txt")
    done = confirmed(admin_client, mount, "many", "delete")
    assert done.status_code == 302 and texts(done) == ["Deleted 131 items."]
    assert get_storage(mount).scandir("many") == []
    assert get_storage(mount).exists("keep.txt")


def test_select_across_does_not_run_on_a_folder_changed_since_the_list(
    admin_client: Client, mount: str
) -> None:
    fill(mount, 3)
    page = across(admin_client, mount, "many", "delete")
    put(mount, "many/new.txt")
    digest = page.context["digest"]
    again = across(admin_client, mount, "many", "delete", confirm="1", digest=digest)
    assert again.status_code == 200 and again.context["count"] == 4
    assert texts(again) == ["The folder changed since this list was shown: check it again."]
    assert get_storage(mount).exists("many/f000.txt")
    admin_client.get(url("browse", mount))
    forged = across(admin_client, mount, "many", "delete", confirm="1")  # no digest
    assert forged.status_code == 200 and get_storage(mount).exists("many/new.txt")


def test_select_across_moves_and_zips_every_page(admin_client: Client, mount: str) -> None:
    fill(mount, 105)
    archive = _zip_of(across(admin_client, mount, "many", "download"))
    assert sorted(archive.namelist()) == [f"f{index:03}.txt" for index in range(105)]
    done = confirmed(admin_client, mount, "many", "move", target="moved")
    assert texts(done) == ["Moved 105 items to “moved”."]
    storage = get_storage(mount)
    assert storage.scandir("many") == [] and len(storage.scandir("moved")) == 105


def test_select_across_keeps_the_page_filter_and_search(admin_client: Client, mount: str) -> None:
    for name in ("a/report-1.txt", "a/b/report-2.txt", "a/b/other.txt", "a/notes.txt"):
        put(mount, name)
    flat = across(admin_client, mount, "a", "delete", q="REPORT")
    assert shown(flat) == ["a/report-1.txt"]
    searched = across(admin_client, mount, "a", "delete", q="report", r="1")
    assert shown(searched) == ["a/b/report-2.txt", "a/report-1.txt"]
    assert 'name="r" value="1"' in searched.content.decode()
    done = confirmed(admin_client, mount, "a", "delete", q="report", r="1")
    assert texts(done) == ["Deleted 2 items."]
    assert get_storage(mount).exists("a/b/other.txt") and get_storage(mount).exists("a/notes.txt")


def test_a_search_selects_a_folder_not_also_what_it_holds() -> None:
    from genro_storage_django.admin.across import outermost
    from genro_storage_django.admin.selection import Item

    items = [Item("r", True), Item("r/report.txt", False), Item("x/r", False), Item("rr", False)]
    assert outermost(items) == [Item("r", True), Item("x/r", False), Item("rr", False)]


def test_forged_select_across_is_refused(
    admin_client: Client,
    mounts: Any,  # noqa: F811
    django_user_model: Any,
    tmp_path: Path,
) -> None:
    from tests.test_admin import staff_client

    for index in range(3):
        (Path(mounts["ro"]["path"]) / "many").mkdir(exist_ok=True)
        (Path(mounts["ro"]["path"]) / "many" / f"f{index}.txt").write_bytes(b"x")
    fill("files", 3)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    # A mount that does not allow it, and a user who may only look.
    for action in ("delete", "move"):
        response = across(admin_client, "ro", "many", action, confirm="1", target="x")
        assert response.status_code == 403, action
    viewer = staff_client(django_user_model, "view_files")
    assert across(viewer, "files", "many", "delete", confirm="1").status_code == 403
    # Copies only to a mount the user may add files to.
    copy = confirmed(admin_client, "files", "many", "copy", target_mount="ro")
    assert copy.status_code == 403
    # A mount the browser does not show.
    with override_settings(STORAGE_ADMIN_MOUNTS=["files"]):
        assert across(admin_client, "ro", "many", "delete", confirm="1").status_code == 404
    # A folder outside the mount.
    client = Client(raise_request_exception=False)
    client.force_login(django_user_model.objects.get(username="admin"))
    for path in ("../ro/many", "/many", "many/../../ro"):
        response = client.post(
            url("bulk", "files", "") + path, {"action": "delete", "select_across": "1"}
        )
        assert response.status_code == 400, path
    # Without the CSRF token.
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(django_user_model.objects.get(username="admin"))
    assert across(strict, "files", "many", "delete", confirm="1").status_code == 403
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.fixture
def big_s3(s3_server: Any, s3_mount_config: dict[str, Any]) -> Any:
    """An S3 mount "s3" whose folder "big" holds 120 files and a folder; 20 keys a list page."""
    with override_settings(STORAGE_MOUNTS={"s3": s3_mount_config}, STORAGE_ADMIN_LIST_KEYS=20):
        storage = get_storage("s3")
        backend = storage.backend
        files = {backend.full_path(f"big/f{index:03}.txt"): b"x" for index in range(120)}
        files[backend.full_path("big/sub/inner.txt")] = b"i"
        backend.fs.pipe(files)
        yield storage


def test_select_across_on_s3_lists_every_list_page(admin_client: Client, big_s3: Any) -> None:
    page = admin_client.get(url("browse", "s3", "big"))
    assert page.context["partial"] and "Select all items in this folder" in page.content.decode()
    archive = _zip_of(across(admin_client, "s3", "big", "download"))
    assert len([name for name in archive.namelist() if name.startswith("f")]) == 120
    assert "sub/inner.txt" in archive.namelist()
    listed = across(admin_client, "s3", "big", "move")
    assert listed.context["count"] == 121 and "…and 21 more items." in listed.content.decode()
    done = confirmed(admin_client, "s3", "big", "move", target="moved")
    assert texts(done) == ["Moved 121 items to “moved”."]
    assert big_s3.scandir("big") == [] and big_s3.exists("moved/sub/inner.txt")
    done = confirmed(admin_client, "s3", "moved", "delete")
    assert texts(done) == ["Deleted 121 items."]
    assert big_s3.scandir("moved") == []
