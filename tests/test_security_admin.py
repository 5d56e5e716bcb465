"""The admin browser: every user x every mount permission x every action, and its attack surface.

The matrix checks the outcome on the files themselves: an action either
does what it says (and the user and the mount both allow it) or is refused
(redirect to the login page, 403 or 405) and changes nothing.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from genro_storage_django import get_storage
from tests.serverkit import snapshot

pytestmark = pytest.mark.django_db

PREFIX = "admin:genro_storage_django_storagemount"
MOUNT_PERMISSIONS = ["readonly", "readwrite", "delete"]
PERMS = ["view", "add", "change", "delete"]

# name -> (is_active, is_staff, is_superuser, permissions)
USERS: dict[str, tuple[bool, bool, bool, tuple[str, ...]]] = {
    "anonymous": (False, False, False, ()),
    "non-staff with every permission": (True, False, False, tuple(PERMS)),
    "inactive superuser": (False, True, True, ()),
    "staff without permissions": (True, True, False, ()),
    **{f"staff with {p}": (True, True, False, (p,)) for p in PERMS},
    **{f"staff with view+{p}": (True, True, False, ("view", p)) for p in PERMS[1:]},
    "staff with all four": (True, True, False, tuple(PERMS)),
    "superuser": (True, True, True, ()),
}

# action -> (view name, method, needs: the browser permission, the mount's allowance)
ACTIONS = {
    "browse": ("browse", "get", "view", None),
    "detail": ("file", "get", "view", None),
    "download": ("download", "get", "view", None),
    "upload": ("upload", "post", "add", "write"),
    "mkdir": ("mkdir", "post", "add", "write"),
    "rename form": ("rename", "get", "change", "write"),
    "rename": ("rename", "post", "change", "write"),
    "delete confirm": ("delete", "get", "delete", "delete"),
    "delete": ("delete", "post", "delete", "delete"),
    "upload by GET": ("upload", "get", "add", "write"),
    "mkdir by GET": ("mkdir", "get", "add", "write"),
    "bulk zip": ("bulk", "post", "view", None),
    "bulk delete confirm": ("bulk", "post", "delete", "delete"),
    "bulk delete": ("bulk", "post", "delete", "delete"),
    "bulk move": ("bulk", "post", "change", "write"),
    "bulk copy form": ("bulk", "post", "view", None),
    "bulk by GET": ("bulk", "get", "delete", "delete"),
}

# The posted fields of each bulk action of the matrix.
BULK_DATA: dict[str, dict[str, Any]] = {
    "bulk zip": {"action": "download", "names": ["docs/a.txt", "docs"]},
    "bulk delete confirm": {"action": "delete", "names": ["docs/a.txt"]},
    "bulk delete": {"action": "delete", "names": ["docs/a.txt"], "confirm": "1"},
    "bulk move": {"action": "move", "names": ["docs/a.txt"], "confirm": "1", "target": "moved"},
    "bulk copy form": {"action": "copy", "names": ["docs/a.txt"]},
    "bulk by GET": {"action": "delete", "names": ["docs/a.txt"], "confirm": "1"},
}


def url(view: str, mount: str, path: str = "") -> str:
    return reverse(f"{PREFIX}_{view}", kwargs={"mount": mount, "path": path})


def make_user(name: str) -> User | None:
    active, staff, superuser, perms = USERS[name]
    if name == "anonymous":
        return None
    user = User.objects.create_user(
        username=name.replace(" ", "-")[:30],
        password="pw",
        is_active=active,
        is_staff=staff,
        is_superuser=superuser,
    )
    for perm in perms:
        user.user_permissions.add(
            Permission.objects.get(
                codename=f"{perm}_files", content_type__app_label="genro_storage_django"
            )
        )
    return user


def seed(root: Path) -> None:
    for path in list(Path(root).iterdir()) if root.exists() else []:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    root.mkdir(parents=True, exist_ok=True)
    (root / "docs").mkdir()
    (root / "docs" / "a.txt").write_bytes(b"alpha")
    (root / "docs" / "b.txt").write_bytes(b"beta")


@pytest.fixture
def mounts(tmp_path: Path):
    roots = {perm: tmp_path / perm for perm in MOUNT_PERMISSIONS}
    setting = {
        perm: {"type": "local", "path": str(root), "permissions": perm}
        for perm, root in roots.items()
    }
    (tmp_path / "outside.txt").write_bytes(b"outside")
    for root in roots.values():
        root.mkdir()
    with override_settings(STORAGE_MOUNTS=setting, STORAGE_ADMIN_MOUNTS=None):
        yield roots


def request(client: Client, action: str, mount: str) -> Any:
    view, method, _perm, _needs = ACTIONS[action]
    path = {
        "browse": "docs",
        **{name: "docs" for name in BULK_DATA},
        "upload": "docs",
        "mkdir": "docs",
        "upload by GET": "docs",
        "mkdir by GET": "docs",
    }.get(action, "docs/a.txt")
    data: dict[str, Any] = {}
    if action == "upload":
        data = {"files": SimpleUploadedFile("new.txt", b"new")}
    elif action == "mkdir":
        data = {"name": "made"}
    elif action == "rename":
        data = {"new_name": "docs/renamed.txt"}
    elif action in BULK_DATA:
        data = BULK_DATA[action]
    return getattr(client, method)(url(view, mount, path), data)


def expected_change(action: str) -> dict[str, bytes | None]:
    """What the files of a mount look like after ``action`` succeeded."""
    files: dict[str, bytes | None] = {"docs": None, "docs/a.txt": b"alpha", "docs/b.txt": b"beta"}
    if action == "upload":
        files["docs/new.txt"] = b"new"
    elif action == "mkdir":
        files["docs/made"] = None
    elif action == "rename":
        files["docs/renamed.txt"] = files.pop("docs/a.txt")
    elif action in ("delete", "bulk delete"):
        del files["docs/a.txt"]
    elif action == "bulk move":
        files["moved"] = None
        files["moved/a.txt"] = files.pop("docs/a.txt")
    return files


def may(user_name: str, action: str, mount_permission: str) -> bool:
    active, staff, superuser, perms = USERS[user_name]
    if not (active and staff):
        return False
    _view, _method, perm, needs = ACTIONS[action]
    has = superuser or ("view" in perms and perm in perms)
    allowed_by_mount = needs is None or (
        (needs == "write" and mount_permission in ("readwrite", "delete"))
        or (needs == "delete" and mount_permission == "delete")
    )
    return has and allowed_by_mount


_cases: list[tuple[str, str, str]] = []


@pytest.mark.parametrize("user_name", list(USERS))
def test_matrix(mounts, user_name: str) -> None:
    user = make_user(user_name)
    client = Client()
    if user is not None:
        client.force_login(user)
    for mount_permission, action in itertools.product(MOUNT_PERMISSIONS, ACTIONS):
        _cases.append((user_name, mount_permission, action))
        root = mounts[mount_permission]
        seed(root)
        before = snapshot(root)
        response = request(client, action, mount_permission)
        after = snapshot(root)
        case = (user_name, mount_permission, action, response.status_code)
        active, staff, _superuser, _perms = USERS[user_name]
        if not (active and staff):
            assert response.status_code == 302, case
            assert "/admin/login/" in response["Location"], case
            assert after == before, case
        elif action.endswith("by GET"):
            assert response.status_code in (403, 405), case
            assert after == before, case
        elif may(user_name, action, mount_permission):
            assert response.status_code in (200, 302), case
            if response.status_code == 302:
                assert response["Location"].startswith("/admin/"), case
            assert after == expected_change(action), case
        else:
            assert response.status_code == 403, case
            assert after == before, case


def test_matrix_size() -> None:
    if _cases:
        assert len(_cases) == len(USERS) * len(MOUNT_PERMISSIONS) * len(ACTIONS)


def test_csrf_is_enforced(mounts, admin_user) -> None:
    root = mounts["delete"]
    seed(root)
    before = snapshot(root)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    for action in ("upload", "mkdir", "rename", "delete"):
        response = request(client, action, "delete")
        assert response.status_code == 403, action
        assert snapshot(root) == before, action
    # A forged token is refused too; the page's own token works.
    client.cookies["csrftoken"] = "x" * 32
    response = client.post(url("delete", "delete", "docs/a.txt"), {"csrfmiddlewaretoken": "y" * 32})
    assert response.status_code == 403
    assert snapshot(root) == before
    page = client.get(url("delete", "delete", "docs/a.txt"))
    token = page.context["csrf_token"]
    response = client.post(url("delete", "delete", "docs/a.txt"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert "docs/a.txt" not in snapshot(root)


TRAVERSAL_PATHS = [
    "../outside.txt",
    "docs/../../outside.txt",
    "..%2foutside.txt",
    "%2e%2e/outside.txt",
    "..\\outside.txt",
    "/etc/passwd",
    "C:/windows/win.ini",
    "docs/%00",
    "../delete/docs/a.txt",
]


@pytest.mark.parametrize("path", TRAVERSAL_PATHS)
def test_traversal_through_the_url(mounts, admin_user, tmp_path: Path, path: str) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    for root in mounts.values():
        seed(root)
    before = snapshot(tmp_path)
    for view in ("browse", "file", "download", "rename", "delete"):
        response = client.get(f"/admin/genro_storage_django/storagemount/delete/{view}/{path}")
        assert response.status_code in (302, 400, 403, 404), (view, response.status_code)
        assert b"outside" not in b"".join(getattr(response, "streaming_content", [])), view
        if response.status_code == 302:
            assert response["Location"].startswith("/admin/")
    for view in ("upload", "mkdir", "rename", "delete"):
        response = client.post(
            f"/admin/genro_storage_django/storagemount/delete/{view}/{path}",
            {"name": "x", "new_name": "y", "files": SimpleUploadedFile("z.txt", b"z")},
        )
        assert response.status_code in (302, 400, 403, 404), (view, response.status_code)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("new_name", "../outside.txt"),
        ("new_name", "../../escaped.txt"),
        ("new_name", "/etc/evil.txt"),
        ("new_name", "..\\..\\evil.txt"),
        ("new_name", "../readonly/docs/a.txt"),
        ("name", "../made"),
        ("name", "../../made"),
        ("name", "/abs"),
        ("name", "..\\made"),
        ("upload", "../../evil.txt"),
        ("upload", "..\\..\\evil.txt"),
        ("relative_path", "../../evil/x.txt"),
        ("relative_path", "/abs/x.txt"),
        ("relative_path", "docs/../../../x.txt"),
    ],
)
def test_traversal_through_form_fields(
    mounts, admin_user, tmp_path: Path, field: str, value: str
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    for root in mounts.values():
        seed(root)
    outside_before = {
        key: data
        for key, data in snapshot(tmp_path).items()
        if not key.startswith("delete/") and key != "delete"
    }
    if field == "new_name":
        response = client.post(url("rename", "delete", "docs/a.txt"), {"new_name": value})
    elif field == "name":
        response = client.post(url("mkdir", "delete", "docs"), {"name": value})
    elif field == "relative_path":
        response = client.post(
            url("upload", "delete", "docs"),
            {"files": SimpleUploadedFile("x.txt", b"evil"), "relative_path": value},
        )
        assert response.status_code == 400
    else:
        response = client.post(
            url("upload", "delete", "docs"), {"files": SimpleUploadedFile(value, b"evil")}
        )
    assert response.status_code in (200, 302, 400, 403, 404), response.status_code
    outside_after = {
        key: data
        for key, data in snapshot(tmp_path).items()
        if not key.startswith("delete/") and key != "delete"
    }
    assert outside_after == outside_before


HOSTILE_NAMES = [
    "<script>alert(1)</script>.txt",
    '"><img src=x onerror=alert(1)>.txt',
    "javascript:alert(1).txt",
    "{{ 7|add:7 }}.txt",
    "&lt;b&gt;.txt",
    "';alert(1);'.txt",
]


def test_hostile_names_are_escaped(mounts, admin_user) -> None:
    client = Client()
    client.force_login(admin_user)
    storage = get_storage("delete")
    for name in HOSTILE_NAMES:
        storage.save(f"docs/{name}", ContentFile(b"x"))
    storage.makedirs("docs/<svg onload=alert(1)>")
    pages = [url("browse", "delete", "docs")]
    for name in HOSTILE_NAMES:
        pages += [url(view, "delete", f"docs/{name}") for view in ("file", "rename", "delete")]
    pages.append(url("delete", "delete", "docs/<svg onload=alert(1)>"))
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        for raw in ("<script>alert(1)", "<img src=x", "<svg onload", "14.txt"):
            assert raw not in html, (page, raw)
    response = client.post(
        url("upload", "delete", "docs"),
        {"files": SimpleUploadedFile("<b>bold</b>.txt", b"x")},
        follow=True,
    )
    assert "<b>bold</b>" not in response.content.decode()


@pytest.mark.parametrize(
    "target",
    ["http://evil.example/", "//evil.example/", "https:evil.example", "/\\evil.example"],
)
def test_no_open_redirect(mounts, admin_user, target: str) -> None:
    client = Client()
    client.force_login(admin_user)
    seed(mounts["delete"])
    posts = [
        (url("upload", "delete", "docs"), {"files": SimpleUploadedFile("n.txt", b"n")}),
        (url("mkdir", "delete", "docs"), {"name": "m"}),
        (url("rename", "delete", "docs/a.txt"), {"new_name": "docs/c.txt"}),
        (url("delete", "delete", "docs/b.txt"), {}),
        (url("file", "delete", "docs/a.txt"), {}),
    ]
    for address, data in posts:
        for key in ("next", "redirect_to", "return_url", "success_url"):
            response = client.post(f"{address}?{key}={target}", {**data, key: target})
            location = response.get("Location", "")
            assert "evil.example" not in location, (address, key, location)
            if location:
                assert location.startswith("/admin/"), location
    response = client.get(f"/admin/login/?next={target}")
    assert "evil.example" not in response.get("Location", "")


# Bulk actions: the posted names and targets are checked again on the server.

FORGED_NAMES = [
    "../outside.txt",
    "docs/../../outside.txt",
    "/etc/passwd",
    "..\\outside.txt",
    "docs/\x00",
    "",
    "../readonly/docs/a.txt",
]


@pytest.mark.parametrize("name", FORGED_NAMES)
@pytest.mark.parametrize("action", ["download", "delete", "move", "copy"])
def test_bulk_refuses_names_outside_the_mount(
    mounts, admin_user, tmp_path: Path, action: str, name: str
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    for root in mounts.values():
        seed(root)
    before = snapshot(tmp_path)
    response = client.post(
        url("bulk", "delete", "docs"),
        {
            "action": action,
            "names": ["docs/a.txt", name],
            "confirm": "1",
            "target": "docs",
            "target_mount": "readwrite",
        },
    )
    assert response.status_code == 400, (action, name, response.status_code)
    assert b"outside" not in b"".join(getattr(response, "streaming_content", [response.content]))
    assert snapshot(tmp_path) == before


def test_bulk_names_of_another_mount_stay_in_the_mount_of_the_url(mounts, admin_user) -> None:
    """A name such as "readonly:docs/a.txt" is a (missing) name of mount "delete", nothing else."""
    client = Client()
    client.force_login(admin_user)
    for root in mounts.values():
        seed(root)
    before = snapshot(mounts["readonly"])
    for names in (["readonly:docs/a.txt"], ["readonly/docs/a.txt"]):
        response = client.post(
            url("bulk", "delete", ""), {"action": "delete", "names": names, "confirm": "1"}
        )
        assert response.status_code == 302
    assert snapshot(mounts["readonly"]) == before
    assert "docs/a.txt" in snapshot(mounts["delete"])


@pytest.mark.parametrize("action", ["delete", "move"])
def test_bulk_writes_on_a_readonly_mount_are_403(mounts, admin_user, action: str) -> None:
    client = Client()
    client.force_login(admin_user)
    seed(mounts["readonly"])
    before = snapshot(mounts["readonly"])
    data = {"action": action, "names": ["docs/a.txt"], "confirm": "1", "target": "moved"}
    for mount in ("readonly", *(("readwrite",) if action == "delete" else ())):
        seed(mounts[mount])
        before = snapshot(mounts[mount])
        response = client.post(url("bulk", mount, "docs"), data)
        assert response.status_code == 403, mount
        assert snapshot(mounts[mount]) == before


@pytest.mark.parametrize(
    ("target_mount", "status"),
    [("readonly", 403), ("nope", 404), ("../delete", 404), ("hidden", 404), ("", 404)],
)
def test_bulk_copy_only_to_a_visible_writable_mount(
    mounts, admin_user, tmp_path: Path, target_mount: str, status: int
) -> None:
    client = Client()
    client.force_login(admin_user)
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    setting = {
        perm: {"type": "local", "path": str(root), "permissions": perm}
        for perm, root in mounts.items()
    }
    setting["hidden"] = {"type": "local", "path": str(hidden)}
    for root in mounts.values():
        seed(root)
    before = snapshot(tmp_path)
    with override_settings(STORAGE_MOUNTS=setting, STORAGE_ADMIN_MOUNTS=list(mounts)):
        response = client.post(
            url("bulk", "delete", "docs"),
            {
                "action": "copy",
                "names": ["docs/a.txt"],
                "confirm": "1",
                "target_mount": target_mount,
            },
        )
    assert response.status_code == status
    assert snapshot(tmp_path) == before


def test_bulk_copy_needs_the_add_permission_on_the_target(mounts) -> None:
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(
            codename="view_files", content_type__app_label="genro_storage_django"
        )
    )
    client = Client()
    client.force_login(user)
    for root in mounts.values():
        seed(root)
    before = snapshot(mounts["readwrite"])
    page = client.post(url("bulk", "delete", "docs"), {"action": "copy", "names": ["docs/a.txt"]})
    assert page.status_code == 200 and page.context["targets"] == []
    response = client.post(
        url("bulk", "delete", "docs"),
        {"action": "copy", "names": ["docs/a.txt"], "confirm": "1", "target_mount": "readwrite"},
    )
    assert response.status_code == 403
    assert snapshot(mounts["readwrite"]) == before


def test_bulk_copy_target_folder_cannot_leave_the_target_mount(
    mounts, admin_user, tmp_path: Path
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    for root in mounts.values():
        seed(root)
    before = snapshot(tmp_path)
    for target in ("../delete", "../../escaped", "/abs", "..\\x"):
        response = client.post(
            url("bulk", "delete", "docs"),
            {
                "action": "copy",
                "names": ["docs/a.txt"],
                "confirm": "1",
                "target_mount": "readwrite",
                "target": target,
            },
        )
        assert response.status_code == 400, target
    assert snapshot(tmp_path) == before


def test_bulk_actions_need_csrf(mounts, admin_user) -> None:
    root = mounts["delete"]
    seed(root)
    before = snapshot(root)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    for action in ("download", "delete", "move", "copy"):
        response = client.post(
            url("bulk", "delete", "docs"),
            {"action": action, "names": ["docs/a.txt"], "confirm": "1", "target": "x"},
        )
        assert response.status_code == 403, action
    assert snapshot(root) == before
