"""A body corrupted in flight is refused by the server, never stored.

Each mount reaches its real server through the suite's fault proxy, which
flips one bit of the upload's body. The server must refuse the request (the
client sent a checksum of the body it meant), the storage call must raise an
``OSError``, and nothing may be stored under the name. Where an emulator does
not check a checksum, a probe with a wrong one finds out, and the test is
skipped, saying what is not checked.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import json
import os
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from genro_storage_django import get_storage
from tests.faultproxy import FaultProxy
from tests.servers import BUCKET, Server

#: One request (PutObject, a JSON API multipart upload, Put Blob or one block).
SMALL = 1 * 2**20
#: Parts or blocks: more than one 8 MiB block.
LARGE = 12 * 2**20
#: Where the flipped byte is, from the start of each connection: past the
#: headers and the small requests (get_available_name()'s) sent before the body.
FLIP_AT = 200_000


def _port(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1].split("/")[0])


def _status(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


@functools.cache
def _moto_checks(url: str) -> str | None:
    """Return what moto does not check, sending a PutObject with wrong checksums."""
    import botocore.session
    from botocore.exceptions import ClientError

    client = botocore.session.get_session().create_client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        client.put_object(
            Bucket=BUCKET,
            Key="integrity-probe",
            Body=b"hello",
            ContentMD5=base64.b64encode(b"0" * 16).decode(),
            ChecksumCRC32="AAAAAA==",
        )
    except ClientError:
        return None
    return (
        "moto compares neither x-amz-checksum-crc32 nor Content-MD5 with the body "
        "of a PutObject or UploadPart: it stores a corrupted body (real S3 refuses it)"
    )


@functools.cache
def _gcs_checks(url: str) -> str | None:
    """Return what the GCS emulator does not check, uploading with a wrong md5Hash."""
    resource = {"name": "integrity-probe", "md5Hash": base64.b64encode(b"0" * 16).decode()}
    body = b"".join(
        (
            b"--==0==\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n",
            json.dumps(resource).encode(),
            b"\r\n--==0==\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n--==0==--",
        )
    )
    request = urllib.request.Request(
        f"{url}/upload/storage/v1/b/{BUCKET}/o?uploadType=multipart",
        data=body,
        headers={"Content-Type": 'multipart/related; boundary="==0=="'},
        method="POST",
    )
    if _status(request) < 300:
        return (
            "the GCS emulator does not compare the md5Hash of the object resource with "
            "the body of a multipart upload: it stores a corrupted body (real GCS refuses it)"
        )
    return None


@functools.cache
def _gcs_resumable_checks(url: str) -> str | None:
    """Return what the GCS emulator does not check, ending a resumable upload with a
    wrong X-Goog-Hash."""
    start = urllib.request.Request(
        f"{url}/upload/storage/v1/b/{BUCKET}/o?uploadType=resumable",
        data=json.dumps({"name": "integrity-probe"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(start, timeout=10) as answer:
        location = answer.headers["Location"]
    chunk = urllib.request.Request(
        location,
        data=b"hello",
        headers={
            "Content-Range": "bytes 0-4/5",
            "X-Goog-Hash": f"md5={base64.b64encode(b'0' * 16).decode()}",
        },
        method="PUT",
    )
    if _status(chunk) < 300:
        return (
            "the GCS emulator does not compare the X-Goog-Hash of a resumable upload's "
            "last request with the object: it stores a corrupted body (real GCS refuses it)"
        )
    return None


def _unchecked(kind: str, size: int, server: Server) -> str | None:
    if kind == "s3":
        return _moto_checks(server.url)
    if kind == "gcs" and size > SMALL:
        return _gcs_resumable_checks(server.url)
    if kind == "gcs":
        return _gcs_checks(server.url)
    return None


@pytest.fixture
def corrupting(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[dict[str, Any], dict[str, Any], bytes]]:
    """A mount whose uploads get one bit flipped on the way, the same mount reached
    directly, and the data to upload."""
    kind, size = request.param
    config = dict(request.getfixturevalue(f"{kind}_mount_config"))
    server: Server = request.getfixturevalue(f"{kind}_server")
    reason = _unchecked(kind, size, server)
    if reason:
        pytest.skip(reason)
    with FaultProxy(_port(server.url)) as proxy:
        proxy.flip_byte_at = FLIP_AT
        port = f":{_port(server.url)}"
        flipped = {**config, "endpoint_url": config["endpoint_url"].replace(port, f":{proxy.port}")}
        yield flipped, config, os.urandom(size)


CASES = [
    pytest.param((kind, size), id=f"{kind}-{label}")
    for kind in ("s3", "gcs", "azure")
    for size, label in ((SMALL, "one-request"), (LARGE, "multipart"))
]


@pytest.mark.parametrize("way", ["save", "asave"])
@pytest.mark.parametrize("corrupting", CASES, indirect=True)
def test_a_flipped_byte_in_an_upload_is_refused(corrupting, way):
    flipped, direct, data = corrupting
    with override_settings(STORAGE_MOUNTS={"far": flipped}), pytest.raises(OSError, match="far"):
        storage = get_storage("far")
        if way == "asave":
            asyncio.run(storage.asave("corrupted.bin", ContentFile(data)))
        else:
            storage.save("corrupted.bin", ContentFile(data))
    with override_settings(STORAGE_MOUNTS={"near": direct}):
        assert not get_storage("near").exists("corrupted.bin")


def _crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["one-request", "multipart"])
@pytest.mark.parametrize("way", ["save", "overwrite", "asave"])
def test_every_s3_upload_request_carries_the_crc32_of_its_body(
    s3_server, s3_mount_config, size, way
):
    # What real S3 checks, and moto does not: each body with its own CRC32.
    config = {**s3_mount_config, "file_overwrite": way == "overwrite"}
    data = os.urandom(size)
    assert s3_server.log is not None
    with override_settings(STORAGE_MOUNTS={"m": config}):
        storage = get_storage("m")
        s3_server.log.clear()
        if way == "asave":
            asyncio.run(storage.asave("sent.bin", ContentFile(data)))
        else:
            storage.save("sent.bin", ContentFile(data))
    uploads = [
        headers
        for method, path, headers in s3_server.log.checksums
        if method == "PUT" and path.endswith("/sent.bin")
    ]
    block = 8 * 2**20
    parts = [data[start : start + block] for start in range(0, size, block)]
    assert [headers.get("x-amz-checksum-crc32") for headers in uploads] == [
        _crc32(part) for part in parts
    ]


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines)
    }


@pytest.mark.parametrize("way", ["save", "asave"])
def test_a_gcs_resumable_upload_ends_with_the_md5_of_the_object(gcs_server, gcs_mount_config, way):
    # What real GCS checks, and the emulator does not: the request that ends a
    # resumable upload carries the MD5 of the whole object (X-Goog-Hash).
    data = os.urandom(LARGE)
    with FaultProxy(_port(gcs_server.url)) as proxy:
        proxy.record_heads = True
        port = f":{_port(gcs_server.url)}"
        endpoint = gcs_mount_config["endpoint_url"].replace(port, f":{proxy.port}")
        with override_settings(
            STORAGE_MOUNTS={"m": {**gcs_mount_config, "endpoint_url": endpoint}}
        ):
            storage = get_storage("m")
            if way == "asave":
                asyncio.run(storage.asave("sent.bin", ContentFile(data)))
            else:
                storage.save("sent.bin", ContentFile(data))
            assert storage.open("sent.bin").read() == data
    chunks = [_headers(head) for head in proxy.heads if b"upload_id=" in head.split(b"\r\n")[0]]
    chunks = [headers for headers in chunks if "content-range" in headers]
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    assert len(chunks) > 1
    assert [headers.get("x-goog-hash") for headers in chunks] == [None] * (len(chunks) - 1) + [
        f"md5={md5}"
    ]
