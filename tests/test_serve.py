"""The serve view: streaming, conditional requests, ranges, and 404 for mounts not served."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from genro_storage_django import get_storage

CONTENT = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture(params=["local", "memory"])
def served(request, tmp_path):
    config = (
        {"type": "memory"}
        if request.param == "memory"
        else {"type": "local", "path": str(tmp_path)}
    )
    mounts = {"pub": {**config, "serve": True}, "private": {**config}}
    with override_settings(STORAGE_MOUNTS=mounts):
        storage = get_storage("pub")
        storage.save("docs/report.pdf", ContentFile(CONTENT))
        yield storage


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_url_points_at_the_serve_view(served):
    assert served.url("docs/report.pdf") == "/storage/serve/pub/docs/report.pdf"


def test_whole_file_with_headers(served, client):
    response = client.get(served.url("docs/report.pdf"))
    assert response.status_code == 200
    assert body(response) == CONTENT
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(CONTENT))
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"].startswith('"')
    assert "GMT" in response["Last-Modified"]


def test_head_sends_headers_only(served, client):
    response = client.head(served.url("docs/report.pdf"))
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(CONTENT))
    assert response.content == b""


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-40", 10200, 10239),
        ("bytes=10200-99999", 10200, 10239),
    ],
)
def test_single_range(served, client, header, start, end):
    response = client.get(served.url("docs/report.pdf"), HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(CONTENT)}"
    assert response["Content-Length"] == str(end - start + 1)
    assert body(response) == CONTENT[start : end + 1]


@pytest.mark.parametrize("header", ["bytes=20000-", "bytes=500-100", "bytes=-0"])
def test_unsatisfiable_range_is_416(served, client, header):
    response = client.get(served.url("docs/report.pdf"), HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(CONTENT)}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-5", "bytes=abc", "bytes=-"])
def test_malformed_or_multiple_ranges_get_the_whole_file(served, client, header):
    response = client.get(served.url("docs/report.pdf"), HTTP_RANGE=header)
    assert response.status_code == 200
    assert body(response) == CONTENT


def test_conditional_get_returns_304(served, client):
    first = client.get(served.url("docs/report.pdf"))
    again = client.get(served.url("docs/report.pdf"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    since = client.get(served.url("docs/report.pdf"), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304


def test_stale_if_range_sends_the_whole_file(served, client):
    response = client.get(
        served.url("docs/report.pdf"), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"stale"'
    )
    assert response.status_code == 200
    assert body(response) == CONTENT


def test_current_if_range_honours_the_range(served, client):
    etag = client.get(served.url("docs/report.pdf"))["ETag"]
    response = client.get(served.url("docs/report.pdf"), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert response.status_code == 206
    assert body(response) == CONTENT[:10]


@pytest.mark.parametrize(
    "url",
    [
        "/storage/serve/private/docs/report.pdf",  # mount not served
        "/storage/serve/nope/docs/report.pdf",  # mount not defined
        "/storage/serve/pub/docs/missing.pdf",
        "/storage/serve/pub/docs",  # no directory listing
        "/storage/serve/pub/docs/",
        "/storage/serve/pub/../private/docs/report.pdf",
        "/storage/serve/pub/docs/%2e%2e/%2e%2e/etc/passwd",
        "/storage/serve/pub/..%5c..%5cetc/passwd",
    ],
)
def test_not_found(served, client, url):
    assert client.get(url).status_code == 404


def test_post_is_not_allowed(served, client):
    assert client.post(served.url("docs/report.pdf")).status_code == 405


def test_compressed_files_keep_their_archive_type(served, client):
    served.save("backup.tar.gz", ContentFile(b"gz"))
    response = client.get(served.url("backup.tar.gz"))
    assert response["Content-Type"] == "application/gzip"
    assert not response.has_header("Content-Encoding")
