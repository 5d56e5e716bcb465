"""The admin file browser through Django's test client, on local and memory mounts."""

from __future__ import annotations

import io
import json
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import Resolver404, resolve, reverse

from genro_storage_django import get_storage
from genro_storage_django.storage import MountStorage

pytestmark = pytest.mark.django_db


def make_png(width: int, height: int) -> bytes:
    """Return a valid red RGB PNG image of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(rows)),
            chunk(b"IEND", b""),
        ]
    )


PNG = make_png(48, 32)
XSS = "<img src=x onerror=alert(1)>.txt"


def url(view: str, mount: str = "files", path: str = "") -> str:
    return reverse(
        f"admin:genro_storage_django_storagemount_{view}", kwargs={"mount": mount, "path": path}
    )


MOUNTS_URL = "/admin/genro_storage_django/storagemount/"


@pytest.fixture
def mounts(tmp_path: Path) -> Any:
    """A writable local mount, a memory mount, a read-only and a read-write mount."""
    config = {}
    for name, extra in [("files", {}), ("ro", {"permissions": "readonly"}), ("rw", {})]:
        root = tmp_path / name
        root.mkdir()
        config[name] = {"type": "local", "path": str(root), **extra}
    config["rw"]["permissions"] = "readwrite"
    config["memory"] = {"type": "memory", "serve": True}
    with override_settings(STORAGE_MOUNTS=config):
        yield config


@pytest.fixture(params=["files", "memory"])
def mount(request: pytest.FixtureRequest, mounts: Any) -> str:
    """The name of a writable mount, once local and once in memory."""
    return request.param


def put(mount: str, name: str, data: bytes = b"data") -> str:
    return get_storage(mount).save(name, ContentFile(data))


def staff_client(django_user_model: Any, *codenames: str, superuser: bool = False) -> Client:
    user = django_user_model.objects.create_user(
        "staff", password="pw", is_staff=True, is_superuser=superuser
    )
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="genro_storage_django", codename__in=codenames
        )
    )
    client = Client()
    client.force_login(user)
    return client


def texts(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def names(response: Any) -> list[str]:
    return [row["entry"].name for row in response.context["rows"]]


# The admin index and the list of mounts


def test_index_has_the_storage_section(admin_client: Client, mounts: Any) -> None:
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    app = next(a for a in response.context["app_list"] if a["app_label"] == "genro_storage_django")
    assert app["name"] == "Storage"
    assert app["models"][0]["admin_url"] == MOUNTS_URL
    assert app["models"][0]["add_url"] is None
    app_page = admin_client.get("/admin/genro_storage_django/")
    assert app_page.status_code == 200 and MOUNTS_URL in app_page.content.decode()


def test_mount_list_shows_type_and_permissions_but_no_options(
    admin_client: Client, mounts: Any
) -> None:
    response = admin_client.get(MOUNTS_URL)
    assert response.status_code == 200
    assert [row["mount"].name for row in response.context["rows"]] == [
        "files",
        "ro",
        "rw",
        "memory",
    ]
    content = response.content.decode()
    assert "read only" in content and "read and write" in content
    assert "memory" in content and "local" in content
    assert mounts["files"]["path"] not in content


def test_storage_admin_mounts_limits_what_is_shown(admin_client: Client, mounts: Any) -> None:
    (Path(mounts["ro"]["path"]) / "x.txt").write_bytes(b"x")
    with override_settings(STORAGE_ADMIN_MOUNTS=["memory"]):
        response = admin_client.get(MOUNTS_URL)
        assert [row["mount"].name for row in response.context["rows"]] == ["memory"]
        assert admin_client.get(url("browse", "ro")).status_code == 404
        assert admin_client.get(url("download", "ro", "x.txt")).status_code == 404


def test_unknown_mount_is_404(admin_client: Client, mounts: Any) -> None:
    assert admin_client.get(url("browse", "nope")).status_code == 404


# Browsing


def test_directory_lists_folders_first_with_sizes(admin_client: Client, mount: str) -> None:
    put(mount, "b.txt", b"x" * 2048)
    put(mount, "a.txt", b"x")
    put(mount, "zdir/inner.txt")
    response = admin_client.get(url("browse", mount))
    assert response.status_code == 200
    assert names(response) == ["zdir", "a.txt", "b.txt"]
    content = response.content.decode()
    assert "2.0\xa0KB" in content
    assert url("browse", mount, "zdir") in content
    assert url("file", mount, "a.txt") in content


def test_directory_sorts_by_each_column(admin_client: Client, mount: str) -> None:
    put(mount, "small.txt", b"1")
    put(mount, "big.txt", b"1" * 100)
    put(mount, "mid.txt", b"1" * 10)
    put(mount, "folder/x.txt")
    browse = url("browse", mount)
    assert names(admin_client.get(browse, {"o": "size"})) == [
        "folder",
        "small.txt",
        "mid.txt",
        "big.txt",
    ]
    assert names(admin_client.get(browse, {"o": "-size"}))[1:] == [
        "big.txt",
        "mid.txt",
        "small.txt",
    ]
    assert names(admin_client.get(browse, {"o": "-name"}))[1:] == [
        "small.txt",
        "mid.txt",
        "big.txt",
    ]
    modified = names(admin_client.get(browse, {"o": "modified"}))
    assert modified[0] == "folder" and sorted(modified[1:]) == ["big.txt", "mid.txt", "small.txt"]
    response = admin_client.get(browse, {"o": "size"})
    assert response.context["sort"]["size"]["query"] == "o=-size"


def test_filter_box_keeps_matching_names(admin_client: Client, mount: str) -> None:
    for name in ["report-2024.pdf", "Report-2025.pdf", "photo.jpg"]:
        put(mount, name)
    response = admin_client.get(url("browse", mount), {"q": "REPORT"})
    assert names(response) == ["report-2024.pdf", "Report-2025.pdf"]
    assert 'value="REPORT"' in response.content.decode()
    empty = admin_client.get(url("browse", mount), {"q": "nothing"})
    assert "No names match the filter." in empty.content.decode()


def test_pagination_shows_one_page(admin_client: Client, mount: str) -> None:
    for index in range(250):
        put(mount, f"f{index:03}.txt")
    first = admin_client.get(url("browse", mount))
    assert names(first)[:2] == ["f000.txt", "f001.txt"] and len(names(first)) == 100
    last = admin_client.get(url("browse", mount), {"p": "3"})
    assert names(last)[0] == "f200.txt" and len(names(last)) == 50
    assert "250 items" in last.content.decode()


def test_ten_thousand_entries_open_with_one_listing(
    admin_client: Client, mounts: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(mounts["files"]["path"]) / "big"
    root.mkdir()
    for index in range(10_000):
        (root / f"{index:05}.bin").write_bytes(b"")
    storage = get_storage("files")
    calls = []
    real_scandir = MountStorage.scandir

    def counting_scandir(self: MountStorage, path: str = "") -> Any:
        calls.append(path)
        return real_scandir(self, path)

    monkeypatch.setattr(MountStorage, "scandir", counting_scandir)
    response = admin_client.get(url("browse", "files", "big"))
    assert response.status_code == 200
    assert calls == ["big"]
    assert len(names(response)) == 100 and response.context["page"].paginator.count == 10_000
    assert response.content.decode().count('class="storage-file"') == 100
    assert storage.exists("big/09999.bin")


def test_browse_a_file_redirects_to_its_detail(admin_client: Client, mount: str) -> None:
    put(mount, "a.txt")
    response = admin_client.get(url("browse", mount, "a.txt"))
    assert response.status_code == 302 and response.url == url("file", mount, "a.txt")
    assert admin_client.get(url("browse", mount, "missing")).status_code == 404


def test_breadcrumbs_lead_back_up(admin_client: Client, mount: str) -> None:
    put(mount, "a/b/c.txt")
    response = admin_client.get(url("browse", mount, "a/b"))
    content = response.content.decode()
    assert url("browse", mount, "a") in content and url("browse", mount) in content


# Detail, preview, download


def test_detail_of_a_text_file_previews_escaped_text(admin_client: Client, mount: str) -> None:
    put(mount, "notes.txt", b"line one\n<script>alert(1)</script>\n")
    response = admin_client.get(url("file", mount, "notes.txt"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<script>alert(1)" not in content
    assert "text/plain" in content
    assert response.context["file"].size == 35


def test_large_or_binary_files_get_no_text_preview(admin_client: Client, mount: str) -> None:
    put(mount, "big.txt", b"x" * (1024 * 1024 + 1))
    put(mount, "blob.bin", b"\x00\x01")
    assert admin_client.get(url("file", mount, "big.txt")).context["file"].text is None
    binary = admin_client.get(url("file", mount, "blob.bin"))
    assert binary.context["file"].text is None and not binary.context["file"].is_image
    assert "storage-preview" not in binary.content.decode()


def test_svg_is_neither_previewed_nor_served_inline(admin_client: Client, mount: str) -> None:
    put(mount, "logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>')
    assert "storage-image" not in admin_client.get(url("file", mount, "logo.svg")).content.decode()
    response = admin_client.get(url("download", mount, "logo.svg"), {"inline": "1"})
    assert response["Content-Disposition"].startswith("attachment")


def test_detail_of_an_image_shows_a_preview(admin_client: Client, mount: str) -> None:
    put(mount, "pic.png", PNG)
    response = admin_client.get(url("file", mount, "pic.png"))
    assert f'src="{url("download", mount, "pic.png")}?inline=1"' in response.content.decode()
    inline = admin_client.get(url("download", mount, "pic.png"), {"inline": "1"})
    assert inline["Content-Type"] == "image/png"
    assert inline["Content-Disposition"].startswith("inline")
    assert b"".join(inline.streaming_content) == PNG


def test_detail_shows_the_storage_url_when_there_is_one(admin_client: Client, mounts: Any) -> None:
    put("memory", "a.txt")
    put("files", "a.txt")
    served = admin_client.get(url("file", "memory", "a.txt"))
    assert served.context["file"].url == "/storage/serve/memory/a.txt"
    assert admin_client.get(url("file", "files", "a.txt")).context["file"].url is None


def test_download_streams_an_attachment(admin_client: Client, mount: str) -> None:
    put(mount, "dir/page.html", b"<h1>hi</h1>")
    response = admin_client.get(url("download", mount, "dir/page.html"), {"inline": "1"})
    assert response.status_code == 200
    # Only raster images are ever shown inline: HTML is always an attachment.
    assert response["Content-Disposition"] == 'attachment; filename="page.html"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"<h1>hi</h1>"
    assert admin_client.get(url("download", mount, "dir")).status_code == 404
    assert admin_client.get(url("download", mount, "nope.txt")).status_code == 404


# Upload and folders


def test_upload_several_files(admin_client: Client, mount: str) -> None:
    files = [SimpleUploadedFile("one.txt", b"1"), SimpleUploadedFile("two.txt", b"22")]
    response = admin_client.post(url("upload", mount, "docs"), {"files": files})
    assert response.status_code == 302 and response.url == url("browse", mount, "docs")
    storage = get_storage(mount)
    assert storage.open("docs/one.txt").read() == b"1"
    assert storage.open("docs/two.txt").read() == b"22"
    assert texts(response) == ["Uploaded 2 files: one.txt, two.txt."]


def test_upload_by_script_answers_with_the_next_location(admin_client: Client, mount: str) -> None:
    put(mount, "one.txt", b"old")
    response = admin_client.post(
        url("upload", mount),
        {"files": [SimpleUploadedFile("one.txt", b"new")]},
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    assert response.status_code == 200
    assert json.loads(response.content) == {"location": url("browse", mount)}
    # An existing name is never replaced: the upload gets a new one.
    storage = get_storage(mount)
    assert storage.open("one.txt").read() == b"old"
    _, saved = storage.listdir("")
    assert len(saved) == 2


def test_upload_without_files_says_so(admin_client: Client, mount: str) -> None:
    response = admin_client.post(url("upload", mount), {})
    assert response.status_code == 302
    assert texts(response) == ["Choose at least one file to upload."]
    assert admin_client.get(url("upload", mount)).status_code == 405


def test_create_folder(admin_client: Client, mount: str) -> None:
    response = admin_client.post(url("mkdir", mount, "a"), {"name": "new"})
    assert response.status_code == 302 and response.url == url("browse", mount, "a")
    assert get_storage(mount).isdir("a/new")
    assert texts(response) == ["Created the folder “a/new”."]
    again = admin_client.post(url("mkdir", mount, "a"), {"name": "new"})
    assert texts(again)[-1] == "“a/new” already exists."


# Rename and move


def test_rename_a_file(admin_client: Client, mount: str) -> None:
    put(mount, "old.txt", b"content")
    form = admin_client.get(url("rename", mount, "old.txt"))
    assert form.status_code == 200 and form.context["form"].initial == {"new_name": "old.txt"}
    response = admin_client.post(url("rename", mount, "old.txt"), {"new_name": "sub/new.txt"})
    assert response.status_code == 302 and response.url == url("browse", mount, "sub")
    storage = get_storage(mount)
    assert not storage.exists("old.txt")
    assert storage.open("sub/new.txt").read() == b"content"
    assert texts(response) == ["Renamed “old.txt” to “sub/new.txt”."]


def test_rename_a_folder(admin_client: Client, mount: str) -> None:
    put(mount, "a/x.txt", b"x")
    response = admin_client.post(url("rename", mount, "a"), {"new_name": "b"})
    assert response.status_code == 302
    storage = get_storage(mount)
    assert storage.open("b/x.txt").read() == b"x" and not storage.exists("a/x.txt")


def test_rename_never_replaces(admin_client: Client, mount: str) -> None:
    put(mount, "a.txt", b"a")
    put(mount, "b.txt", b"b")
    response = admin_client.post(url("rename", mount, "a.txt"), {"new_name": "b.txt"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"new_name": ["“b.txt” already exists."]}
    storage = get_storage(mount)
    assert storage.open("a.txt").read() == b"a" and storage.open("b.txt").read() == b"b"


def test_a_folder_cannot_move_into_itself(admin_client: Client, mount: str) -> None:
    put(mount, "a/x.txt")
    response = admin_client.post(url("rename", mount, "a"), {"new_name": "a/b"})
    assert response.context["form"].errors == {
        "new_name": ["A folder cannot be moved inside itself."]
    }
    assert get_storage(mount).exists("a/x.txt")


# Delete


def test_delete_a_folder_after_confirmation(admin_client: Client, mount: str) -> None:
    put(mount, "old/one.txt")
    put(mount, "old/deep/two.txt")
    confirm = admin_client.get(url("delete", mount, "old"))
    assert confirm.status_code == 200
    assert set(confirm.context["contents"]) == {"old/deep/", "old/one.txt", "old/deep/two.txt"}
    assert "old/deep/two.txt" in confirm.content.decode()
    assert get_storage(mount).exists("old/one.txt")
    response = admin_client.post(url("delete", mount, "old"))
    assert response.status_code == 302 and response.url == url("browse", mount)
    storage = get_storage(mount)
    assert not storage.exists("old/one.txt") and not storage.exists("old/deep/two.txt")
    assert texts(response) == ["Deleted “old”."]


def test_delete_a_file(admin_client: Client, mount: str) -> None:
    put(mount, "d/a.txt")
    put(mount, "d/b.txt")
    assert "d/a.txt" in admin_client.get(url("delete", mount, "d/a.txt")).content.decode()
    response = admin_client.post(url("delete", mount, "d/a.txt"))
    assert response.url == url("browse", mount, "d")
    assert get_storage(mount).listdir("d") == ([], ["b.txt"])


def test_the_root_cannot_be_deleted_or_renamed(admin_client: Client, mount: str) -> None:
    put(mount, "a.txt")
    assert admin_client.post(url("delete", mount)).status_code == 404
    assert admin_client.post(url("rename", mount), {"new_name": "x"}).status_code == 404
    assert get_storage(mount).exists("a.txt")


# Refusals


VIEWS = ["browse", "file", "download", "rename", "delete"]


@pytest.mark.parametrize("view", VIEWS)
def test_anonymous_users_are_sent_to_login(client: Client, mounts: Any, view: str) -> None:
    put("files", "a.txt")
    response = client.get(url(view, "files", "a.txt"))
    assert response.status_code == 302 and response.url.startswith("/admin/login/")


def test_non_staff_users_are_sent_to_login(django_user_model: Any, mounts: Any) -> None:
    put("files", "a.txt")
    user = django_user_model.objects.create_user("plain", password="pw")
    user.user_permissions.set(Permission.objects.filter(codename__endswith="_files"))
    client = Client()
    client.force_login(user)
    for address in [MOUNTS_URL, url("browse"), url("file", "files", "a.txt")]:
        assert client.get(address).url.startswith("/admin/login/")
    assert client.post(url("delete", "files", "a.txt")).status_code == 302
    assert get_storage("files").exists("a.txt")


def test_inactive_staff_is_sent_to_login(django_user_model: Any, mounts: Any) -> None:
    user = django_user_model.objects.create_user("gone", is_staff=True, is_active=False)
    client = Client()
    client.force_login(user)
    assert client.get(MOUNTS_URL).status_code == 302


def test_staff_without_permissions_is_refused(django_user_model: Any, mounts: Any) -> None:
    client = staff_client(django_user_model)
    assert client.get(MOUNTS_URL).status_code == 403
    assert client.get(url("browse")).status_code == 403
    index = client.get("/admin/")
    assert all(app["app_label"] != "genro_storage_django" for app in index.context["app_list"])


def test_view_permission_alone_browses_but_changes_nothing(
    django_user_model: Any, mounts: Any
) -> None:
    put("files", "a.txt", b"a")
    client = staff_client(django_user_model, "view_files")
    page = client.get(url("browse"))
    assert page.status_code == 200
    content = page.content.decode()
    assert url("upload") not in content and url("delete", "files", "a.txt") not in content
    forged = [
        client.post(url("upload"), {"files": [SimpleUploadedFile("b.txt", b"b")]}),
        client.post(url("mkdir"), {"name": "dir"}),
        client.post(url("rename", "files", "a.txt"), {"new_name": "c.txt"}),
        client.post(url("delete", "files", "a.txt")),
    ]
    assert [response.status_code for response in forged] == [403, 403, 403, 403]
    assert get_storage("files").listdir("") == ([], ["a.txt"])


@pytest.mark.parametrize(
    ("codename", "allowed_view"),
    [("add_files", "upload"), ("change_files", "rename"), ("delete_files", "delete")],
)
def test_each_permission_allows_its_action_only(
    django_user_model: Any, mounts: Any, codename: str, allowed_view: str
) -> None:
    put("files", "a.txt", b"a")
    client = staff_client(django_user_model, "view_files", codename)
    attempts = {
        "upload": lambda: client.post(url("upload"), {"files": [SimpleUploadedFile("b.txt", b"")]}),
        "rename": lambda: client.post(url("rename", "files", "a.txt"), {"new_name": "c.txt"}),
        "delete": lambda: client.post(url("delete", "files", "a.txt")),
    }
    for view, attempt in attempts.items():
        if view != allowed_view:
            assert attempt().status_code == 403, view
    assert attempts[allowed_view]().status_code == 302


def test_action_permissions_need_the_view_permission(django_user_model: Any, mounts: Any) -> None:
    put("files", "a.txt")
    client = staff_client(django_user_model, "add_files", "change_files", "delete_files")
    assert client.post(url("delete", "files", "a.txt")).status_code == 403
    assert get_storage("files").exists("a.txt")


def test_readonly_mount_refuses_every_write(admin_client: Client, mounts: Any) -> None:
    (Path(mounts["ro"]["path"]) / "a.txt").write_bytes(b"a")
    page = admin_client.get(url("browse", "ro"))
    assert page.status_code == 200 and url("upload", "ro") not in page.content.decode()
    forged = [
        admin_client.post(url("upload", "ro"), {"files": [SimpleUploadedFile("b.txt", b"b")]}),
        admin_client.post(url("mkdir", "ro"), {"name": "dir"}),
        admin_client.post(url("rename", "ro", "a.txt"), {"new_name": "c.txt"}),
        admin_client.post(url("delete", "ro", "a.txt")),
        admin_client.get(url("delete", "ro", "a.txt")),
    ]
    assert [response.status_code for response in forged] == [403] * 5
    assert sorted(p.name for p in Path(mounts["ro"]["path"]).iterdir()) == ["a.txt"]


def test_readwrite_mount_refuses_delete(admin_client: Client, mounts: Any) -> None:
    put("rw", "a.txt")
    put("rw", "dir/b.txt")
    page = admin_client.get(url("browse", "rw")).content.decode()
    assert url("upload", "rw") in page and url("delete", "rw", "a.txt") not in page
    assert admin_client.post(url("delete", "rw", "a.txt")).status_code == 403
    assert admin_client.post(url("delete", "rw", "dir")).status_code == 403
    assert get_storage("rw").exists("a.txt") and get_storage("rw").exists("dir/b.txt")
    assert admin_client.post(url("rename", "rw", "a.txt"), {"new_name": "c.txt"}).status_code == 302


def test_csrf_is_required(django_user_model: Any, mounts: Any) -> None:
    put("files", "a.txt")
    user = django_user_model.objects.create_superuser("root", password="pw")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(url("delete", "files", "a.txt")).status_code == 403
    assert (
        client.post(url("upload"), {"files": [SimpleUploadedFile("b.txt", b"")]}).status_code == 403
    )
    assert get_storage("files").listdir("") == ([], ["a.txt"])


@pytest.mark.parametrize("view", ["browse", "file", "download", "rename", "delete"])
def test_traversal_in_the_path_is_400(admin_client: Client, mounts: Any, view: str) -> None:
    assert admin_client.get(url(view, "files", "../ro")).status_code == 400
    assert admin_client.get(url(view, "files", "a/../../x")).status_code == 400


def test_traversal_in_posted_names_is_400(
    admin_client: Client, mounts: Any, tmp_path: Path
) -> None:
    put("files", "a.txt", b"a")
    moved = admin_client.post(url("rename", "files", "a.txt"), {"new_name": "../ro/a.txt"})
    assert moved.status_code == 400
    assert admin_client.post(url("mkdir", "files"), {"name": "../escaped"}).status_code == 400
    assert admin_client.post(url("mkdir", "files"), {"name": "/abs"}).status_code == 400
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "ro" / "a.txt").exists()
    assert get_storage("files").exists("a.txt")


def test_xss_looking_names_are_escaped(admin_client: Client, mount: str) -> None:
    put(mount, XSS, b"x")
    put(mount, "<script>alert(1)</script>.txt", b"y")
    admin_client.post(url("mkdir", mount), {"name": "<b onmouseover=alert(2)>"})
    pages = [
        admin_client.get(url("browse", mount)),
        admin_client.get(url("file", mount, XSS)),
        admin_client.get(url("rename", mount, XSS)),
        admin_client.get(url("delete", mount, XSS)),
        admin_client.get(url("browse", mount, "<script>alert(1)<")),
        admin_client.post(url("delete", mount, XSS), follow=True),
    ]
    for response in pages:
        assert response.status_code == 200
        content = response.content.decode()
        assert "<img src=x" not in content and "<script>alert" not in content
        assert "<b onmouseover" not in content
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in pages[0].content.decode()
    assert "&lt;b onmouseover=alert(2)&gt;" in pages[0].content.decode()
    assert not get_storage(mount).exists(XSS)


def test_upload_name_cannot_leave_the_folder(admin_client: Client, mounts: Any) -> None:
    upload = SimpleUploadedFile("x.txt", b"x")
    upload.name = "../../escape.txt"
    response = admin_client.post(url("upload", "files", "a"), {"files": [upload]})
    # Django keeps only the base name of an uploaded file.
    assert response.status_code == 302
    assert get_storage("files").listdir("a") == ([], ["escape.txt"])


def test_the_mount_refusing_is_a_403_even_past_the_view_checks(
    admin_client: Client, mounts: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    put("rw", "a.txt")
    # As if the mount's permissions changed between the check and the call.
    monkeypatch.setattr("genro_storage_django.admin.access.allowed", _allow_everything)
    assert admin_client.post(url("delete", "rw", "a.txt")).status_code == 403
    assert get_storage("rw").exists("a.txt")


def _allow_everything(user: Any, storage: MountStorage) -> Any:
    from genro_storage_django.admin.access import Allowed

    return Allowed(view=True, add=True, change=True, delete=True)


def test_listing_errors_show_a_message(admin_client: Client, mounts: Any) -> None:
    put("files", "a.txt")
    with override_settings(STORAGE_MOUNTS={"files": {**mounts["files"], "path": str(io.__file__)}}):
        response = admin_client.get(url("browse", "files"))
    assert response.status_code == 200
    assert texts(response) == ["This folder could not be listed."]


@pytest.mark.parametrize("view", ["browse", "file", "download"])
def test_a_backend_that_does_not_answer_gives_a_message_not_a_500(
    admin_client: Client, view: str
) -> None:
    # Port 9 (discard) refuses connections on this machine: the server is "down".
    down = {"down": {"type": "http", "base_url": "http://127.0.0.1:9/"}}
    with override_settings(STORAGE_MOUNTS=down):
        response = admin_client.get(url(view, "down", "dir/file.txt"))
        assert response.status_code == 302
        assert response["Location"] == MOUNTS_URL
        shown = [str(message) for message in get_messages(response.wsgi_request)]
        assert any("did not answer" in message for message in shown), shown


# A second admin site (tests/urls_second_site.py)

OTHER_PREFIX = "/other-admin/"


def other_url(view: str, mount: str, path: str = "") -> str:
    return reverse(
        f"other:genro_storage_django_storagemount_{view}", kwargs={"mount": mount, "path": path}
    )


class _Links(HTMLParser):
    """Collects the ``href``, ``action`` and ``src`` of every element of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value for key, value in attrs if key in {"href", "action", "src"} and value]


def admin_links(response: Any) -> dict[str, str]:
    """Return the page's links into any admin site, with the site each resolves to."""
    parser = _Links()
    parser.feed(response.content.decode())
    found = {}
    for link in parser.links:
        try:
            match = resolve(urlsplit(link).path)
        except Resolver404:
            continue  # static files, "View site"
        if "admin" in match.app_names:
            found[link] = match.namespace
    return found


@override_settings(ROOT_URLCONF="tests.urls_second_site")
def test_a_second_admin_site_links_to_its_own_pages(admin_client: Client, mount: str) -> None:
    put(mount, "sub/a.txt")
    pages = [
        f"{OTHER_PREFIX}genro_storage_django/storagemount/",
        other_url("browse", mount),
        other_url("browse", mount, "sub"),
        other_url("file", mount, "sub/a.txt"),
        other_url("rename", mount, "sub/a.txt"),
        other_url("delete", mount, "sub/a.txt"),
        other_url("rename", mount, "sub"),
        other_url("delete", mount, "sub"),
    ]
    seen: set[str] = set()
    for page in pages:
        assert page.startswith(OTHER_PREFIX)
        response = admin_client.get(page)
        assert response.status_code == 200, page
        links = admin_links(response)
        assert set(links.values()) == {"other"}, (page, links)
        assert all(link.startswith(OTHER_PREFIX) for link in links), (page, links)
        seen.update(links)
    # The browser's own links were among them, not only the admin's header.
    expected = [
        other_url("browse", mount),
        other_url("browse", mount, "sub"),
        other_url("file", mount, "sub/a.txt"),
        other_url("download", mount, "sub/a.txt"),
        other_url("rename", mount, "sub/a.txt"),
        other_url("delete", mount, "sub/a.txt"),
        other_url("upload", mount, "sub"),
        other_url("mkdir", mount, "sub"),
        f"{OTHER_PREFIX}genro_storage_django/storagemount/",
        f"{OTHER_PREFIX}genro_storage_django/",
        OTHER_PREFIX,
    ]
    assert set(expected) <= seen, set(expected) - seen


@override_settings(ROOT_URLCONF="tests.urls_second_site")
def test_a_second_admin_site_redirects_to_its_own_pages(admin_client: Client, mount: str) -> None:
    put(mount, "a.txt")
    put(mount, "b.txt")
    root = other_url("browse", mount)
    posts = [
        (other_url("upload", mount), {"files": [SimpleUploadedFile("u.txt", b"u")]}, root),
        (other_url("upload", mount), {}, root),
        (other_url("mkdir", mount), {"name": "new"}, root),
        (other_url("mkdir", mount), {}, root),
        (other_url("rename", mount, "a.txt"), {"new_name": "new/a.txt"}, f"{root}new"),
        (other_url("delete", mount, "b.txt"), {}, root),
    ]
    for action, data, location in posts:
        response = admin_client.post(action, data)
        assert (response.status_code, response["Location"]) == (302, location), action
    by_script = admin_client.post(
        other_url("upload", mount, "new"),
        {"files": [SimpleUploadedFile("s.txt", b"s")]},
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    assert json.loads(by_script.content) == {"location": f"{root}new"}
    redirects = {
        other_url("browse", mount, "u.txt"): other_url("file", mount, "u.txt"),
        other_url("file", mount, "new"): f"{root}new",
    }
    for page, location in redirects.items():
        response = admin_client.get(page)
        assert (response.status_code, response["Location"]) == (302, location), page
    down = {"down": {"type": "http", "base_url": "http://127.0.0.1:9/"}}
    with override_settings(STORAGE_MOUNTS=down):
        response = admin_client.get(other_url("browse", "down", "dir"))
    assert response["Location"] == f"{OTHER_PREFIX}genro_storage_django/storagemount/"
