"""The serve view: no listing, no way out of the mount, and any Range header handled."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genro_storage_django import get_storage

CONTENT = bytes(range(256)) * 8  # 2,048 bytes
SECRET = b"OUTSIDE-THE-MOUNT"


@pytest.fixture(params=["local", "memory"])
def served(request, tmp_path: Path):
    root = tmp_path / "mount"
    root.mkdir()
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "mount-twin").mkdir()
    (tmp_path / "mount-twin" / "secret.txt").write_bytes(SECRET)
    config = (
        {"type": "memory"} if request.param == "memory" else {"type": "local", "path": str(root)}
    )
    mounts = {"pub": {**config, "serve": True}, "private": {"type": "memory"}}
    with override_settings(STORAGE_MOUNTS=mounts):
        storage = get_storage("pub")
        storage.save("docs/file.bin", ContentFile(CONTENT))
        storage.save("docs/sub/inner.txt", ContentFile(b"inner"))
        get_storage("private").save("secret.txt", ContentFile(SECRET))
        yield storage


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


@pytest.mark.parametrize(
    "path",
    ["", "docs", "docs/", "docs/sub", "docs/sub/", "./docs", "docs/./sub//"],
)
def test_no_directory_listing(served, client, path: str) -> None:
    response = client.get(f"/storage/serve/pub/{path}")
    assert response.status_code == 404
    assert b"inner" not in body(response)


TRAVERSALS = [
    "../secret.txt",
    "..%2fsecret.txt",
    "%2e%2e/secret.txt",
    "%2e%2e%2fsecret.txt",
    "docs/../../secret.txt",
    "docs/..%2f..%2fsecret.txt",
    "..%5csecret.txt",
    "docs%5c..%5c..%5csecret.txt",
    "%2fetc%2fpasswd",
    "/etc/passwd",
    "//etc/passwd",
    "C:%5cwindows%5cwin.ini",
    "C:/windows/win.ini",
    "..%00/secret.txt",
    "secret.txt%00.bin",
    "../mount-twin/secret.txt",
    "..%252fsecret.txt",
    "%c0%ae%c0%ae/secret.txt",
    "../private/secret.txt",
    "../../serve/private/secret.txt",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_traversal(served, client, path: str) -> None:
    response = client.get(f"/storage/serve/pub/{path}")
    assert response.status_code in (400, 404), response.status_code
    assert SECRET not in body(response)


def test_private_mount_is_not_served(served, client) -> None:
    assert client.get("/storage/serve/private/secret.txt").status_code == 404
    assert client.get("/storage/serve/nowhere/secret.txt").status_code == 404


def test_only_safe_methods(served, client) -> None:
    url = "/storage/serve/pub/docs/file.bin"
    for method in ("post", "put", "delete", "patch"):
        assert getattr(client, method)(url).status_code == 405
    assert get_storage("pub").exists("docs/file.bin")


range_headers = st.one_of(
    st.text(max_size=30),
    st.builds(
        "{}{}-{}{}".format,
        st.sampled_from(["bytes=", "bytes =", "BYTES=", "items=", "bytes=,", " bytes="]),
        st.one_of(st.just(""), st.integers(-5, 5000).map(str), st.text("0123456789 -", max_size=6)),
        st.one_of(st.just(""), st.integers(-5, 5000).map(str), st.text("0123456789 -", max_size=6)),
        st.sampled_from(["", ",0-1", ", 5-", ",", "-", "x", " ", "\t"]),
    ),
)

_ranges_tried: list[str] = []


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(header=range_headers)
def test_any_range_header(served, client, header: str) -> None:
    _ranges_tried.append(header)
    response = client.get("/storage/serve/pub/docs/file.bin", HTTP_RANGE=header)
    size = len(CONTENT)
    if response.status_code == 416:
        assert response["Content-Range"] == f"bytes */{size}"
        return
    data = body(response)
    if response.status_code == 200:
        assert data == CONTENT
        return
    assert response.status_code == 206, (header, response.status_code)
    unit, _, span = response["Content-Range"].partition(" ")
    first, last = span.split("/")[0].split("-")
    start, end = int(first), int(last)
    assert unit == "bytes" and 0 <= start <= end < size
    assert data == CONTENT[start : end + 1]
    assert response["Content-Length"] == str(len(data))


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("bytes=5000-", 416),
        ("bytes=-0", 416),
        ("bytes=9-3", 416),
        ("bytes=0-0,5-6", 200),
        ("bytes=abc", 200),
        ("bytes=--1", 200),
        ("bytes=1-2-3", 200),
        ("lines=0-5", 200),
        ("bytes=" + "9" * 400 + "-", 416),
        ("bytes=0-" + "9" * 400, 206),
        ("bytes=-" + "9" * 400, 206),
    ],
)
def test_malformed_ranges(served, client, header: str, status: int) -> None:
    response = client.get("/storage/serve/pub/docs/file.bin", HTTP_RANGE=header)
    assert response.status_code == status
    if status == 200:
        assert body(response) == CONTENT
