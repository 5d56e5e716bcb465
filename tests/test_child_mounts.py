"""Child mounts: a folder of another mount, its own name and narrower permissions.

Run on every writable kind of parent (local, memory, s3, gcs, azure), through
the Storage API, the admin (forged POSTs by a superuser) and storage_copy.
"""

from __future__ import annotations

import io
import urllib.parse
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.checks import run_checks
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import models
from django.test import Client, override_settings
from django.urls import reverse
from hypothesis import HealthCheck, given, settings, strategies

from genro_storage_django import get_storage
from genro_storage_django.exceptions import MountPermissionError
from tests.test_differential import read

ADMIN = "admin:genro_storage_django_storagemount"


@pytest.fixture
def family(mount_config: dict[str, Any]) -> Any:
    """A parent "data" of each kind, its readonly child "public" and a chain below it."""
    mounts = {
        "data": mount_config,
        "public": {
            "type": "child",
            "parent": "data",
            "path": "public",
            "permissions": "readonly",
            "base_url": "https://cdn.test/public/",
        },
        "drafts": {"path": "data:drafts", "file_overwrite": True, "serve": True},
        "deep": {"path": "drafts:a/b"},
    }
    with override_settings(STORAGE_MOUNTS=mounts):
        data = get_storage("data")
        data.save("public/a.txt", ContentFile(b"public a"))
        data.save("private/secret.txt", ContentFile(b"secret"))
        yield data


def test_a_child_sees_its_folder_only(family):
    public = get_storage("public")
    assert public.listdir("") == ([], ["a.txt"])
    assert read(public, "a.txt") == b"public a"
    assert not public.exists("private/secret.txt")
    with pytest.raises(SuspiciousFileOperation):
        public.open("../private/secret.txt")


def test_a_child_shares_its_parents_filesystem(family):
    for name in ("public", "drafts", "deep"):
        assert get_storage(name).backend.fs is family.backend.fs


def test_writes_of_a_child_land_in_its_folder(family):
    drafts, deep = get_storage("drafts"), get_storage("deep")
    assert drafts.save("note.txt", ContentFile("v1")) == "note.txt"
    # Its own file_overwrite: the same name again replaces the file.
    assert drafts.save("note.txt", ContentFile("v2")) == "note.txt"
    assert read(family, "drafts/note.txt") == b"v2"
    deep.save("x.txt", ContentFile(b"deep"))
    assert read(family, "drafts/a/b/x.txt") == b"deep"
    assert read(drafts, "a/b/x.txt") == b"deep"
    assert deep.listdir("") == ([], ["x.txt"])
    drafts.delete("note.txt")
    assert not family.exists("drafts/note.txt")


def test_permissions_are_inherited_and_narrowed(family):
    assert get_storage("drafts").mount.permissions == family.mount.permissions
    assert get_storage("public").mount.permissions == "readonly"


def test_a_readonly_child_refuses_every_write_of_the_storage_api(family):
    public = get_storage("public")
    refused = [
        lambda: public.save("new.txt", ContentFile(b"x")),
        lambda: public.open("new.txt", "wb"),
        lambda: public.open("a.txt", "ab"),
        lambda: public.delete("a.txt"),
        lambda: public.makedirs("dir"),
        lambda: public.move("a.txt", "b.txt"),
        lambda: public.delete_tree("dir"),
    ]
    for call in refused:
        with pytest.raises(MountPermissionError, match="'public'"):
            call()
    assert family.listdir("public") == ([], ["a.txt"])


@pytest.mark.django_db
def test_a_readonly_child_refuses_forged_admin_posts(family):
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    posts = [
        ("upload", "", {"files": SimpleUploadedFile("new.txt", b"new")}),
        ("mkdir", "", {"name": "made"}),
        ("rename", "a.txt", {"new_name": "renamed.txt"}),
        ("delete", "a.txt", {}),
    ]
    for view, path, data in posts:
        address = reverse(f"{ADMIN}_{view}", kwargs={"mount": "public", "path": path})
        response = client.post(address, data)
        assert response.status_code in (302, 403), (view, response.status_code)
    assert family.listdir("public") == ([], ["a.txt"])
    assert read(family, "public/a.txt") == b"public a"
    # The browser lists the child's folder as its root.
    page = client.get(reverse(f"{ADMIN}_browse", kwargs={"mount": "public", "path": ""}))
    assert page.status_code == 200 and b"a.txt" in page.content and b"secret" not in page.content


def test_storage_copy_into_a_readonly_child_fails_and_changes_nothing(family, tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (source / "new.txt").write_bytes(b"new")
    mounts = {**_mounts(family), "src": {"type": "local", "path": str(source)}}
    with override_settings(STORAGE_MOUNTS=mounts), pytest.raises(CommandError):
        call_command("storage_copy", "src:", "public:", stdout=io.StringIO(), stderr=io.StringIO())
    assert family.listdir("public") == ([], ["a.txt"])


def test_storage_copy_from_a_child_reads_its_folder_only(family, tmp_path):
    target = tmp_path / "target"
    mounts = {**_mounts(family), "dst": {"type": "local", "path": str(target)}}
    with override_settings(STORAGE_MOUNTS=mounts):
        call_command("storage_copy", "public:", "dst:", stdout=io.StringIO())
    assert sorted(p.name for p in target.rglob("*") if p.is_file()) == ["a.txt"]


def _mounts(storage: Any) -> dict[str, Any]:
    from django.conf import settings as django_settings

    return dict(django_settings.STORAGE_MOUNTS)


# Segments joined by separators: "..", drive letters, encodings, empty parts.
SEGMENTS = strategies.sampled_from(["a", "..", ".", "", "C:", "%2e%2e", "é", "b c", "~"])
NAMES = strategies.builds(
    lambda parts, seps: "".join(p + s for p, s in zip(parts, seps, strict=False)),
    strategies.lists(SEGMENTS, min_size=1, max_size=5),
    strategies.lists(strategies.sampled_from(["/", "\\", "//"]), min_size=5, max_size=5),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=NAMES)
def test_no_name_leaves_the_childs_folder(family, name):
    drafts = get_storage("drafts")
    root = drafts.backend.mount_root
    try:
        path = drafts._path(name)
    except SuspiciousFileOperation:
        return
    assert path == root or path.startswith(root.rstrip("/\\") + ("/" if "/" in root else "\\"))
    assert path.startswith(family.backend.full_path("drafts"))


def test_urls_of_a_child(family, kind):
    drafts = get_storage("drafts")
    drafts.save("page.txt", ContentFile(b"page"))
    url = drafts.url("page.txt")
    if kind in ("local", "memory"):
        assert url == reverse("genro_storage_django:serve", args=["drafts", "page.txt"])
        response = Client().get(url)
        assert b"".join(response.streaming_content) == b"page"
    else:
        assert "drafts/page.txt" in urllib.parse.unquote(url)


def test_a_childs_own_base_url_names_its_files(family):
    # The child's names, below its own base_url; the parent keeps its own URLs.
    assert get_storage("public").url("a.txt") == "https://cdn.test/public/a.txt"
    assert get_storage("public").mount.base_url != family.mount.base_url


def test_migrations_record_only_the_childs_name(family):
    field = models.FileField(storage=get_storage("public"))
    _name, _path, _args, kwargs = field.deconstruct()
    assert kwargs["storage"].deconstruct() == (
        "genro_storage_django.storage.MountStorage",
        (),
        {"mount": "public"},
    )


CHECKS = [
    ({"c": {"type": "child", "parent": "nowhere", "path": "x"}}, "E023", ["'c'", "'nowhere'"]),
    ({"c": {"path": "nowhere:x"}}, "E023", ["'nowhere'"]),
    ({"p": {"type": "memory"}, "c": {"type": "child", "parent": "p", "path": "../x"}}, "E024", []),
    ({"p": {"type": "memory"}, "c": {"type": "child", "parent": "p", "path": ""}}, "E024", []),
    (
        {"a": {"type": "child", "parent": "b", "path": "x"}, "b": {"path": "a:y"}},
        "E025",
        ["'a'", "'b'"],
    ),
    (
        {
            "p": {"type": "memory", "permissions": "readwrite"},
            "c": {"path": "p:x", "permissions": "delete"},
        },
        "E026",
        ["'c'", "'p'", "'delete'", "'readwrite'"],
    ),
    ({"p": {"type": "memory"}, "c": {"path": "p:x", "bucket": "b"}}, "E006", ["'bucket'"]),
    ({"p": {"type": "memory", "pth": 1}, "c": {"path": "p:x"}}, "E023", ["'p' is invalid"]),
]


@pytest.mark.parametrize(("mounts", "check_id", "named"), CHECKS)
def test_checks_of_child_mounts(mounts, check_id, named):
    with override_settings(STORAGE_MOUNTS=mounts):
        messages = [m for m in run_checks(tags=["storage_mounts"]) if m.id.endswith(check_id)]
    assert messages, check_id
    for text in named:
        assert any(text in m.msg for m in messages), (text, [m.msg for m in messages])


def test_a_child_of_a_readonly_type_is_readonly(http_mount_config):
    with override_settings(STORAGE_MOUNTS={"web": http_mount_config, "docs": {"path": "web:docs"}}):
        docs = get_storage("docs")
        assert docs.mount.permissions == "readonly"
        assert read(docs, "guide.txt") == b"guide\n"
        assert "guide.txt" in docs.listdir("")[1]
