"""Options of the s3, gcs and azure backends, against the local servers of tests/servers.py."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.checks import run_checks
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.test import override_settings

from genro_storage_django import get_storage
from genro_storage_django.backends.s3 import S3Backend
from genro_storage_django.exceptions import MissingExtra
from genro_storage_django.storage import MountStorage
from tests.conftest import mount_storage
from tests.servers import AZURITE_KEY, BUCKET, Server

CLOUD_KINDS = ["s3", "gcs", "azure"]
SECRET = "sEcReT-do-not-show-9f8e7d"


@pytest.fixture(params=CLOUD_KINDS)
def cloud_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(request.getfixturevalue(f"{request.param}_mount_config"))


@pytest.fixture
def cloud(cloud_config: dict[str, Any]) -> Iterator[MountStorage]:
    yield from mount_storage({"cloud": cloud_config}, "cloud")


def fetch(url: str) -> tuple[bytes, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), response.headers.get("Content-Type", "")


def stored_content_type(storage: MountStorage, name: str) -> str:
    info = storage.backend.info(storage._path(name))
    return (
        info.get("ContentType")
        or info.get("contentType")
        or (info.get("content_settings") or {}).get("content_type")
    )


# Content-Type and URLs


@pytest.mark.parametrize(
    ("name", "expected"),
    [("pics/photo.png", "image/png"), ("data.json", "application/json"), ("blob", None)],
)
def test_content_type_is_set_from_the_name(cloud, name, expected):
    cloud.save(name, ContentFile(b"{}"))
    assert stored_content_type(cloud, name) == (expected or "application/octet-stream")


def test_signed_url_serves_the_file(cloud):
    if cloud.mount.type == "gcs":
        pytest.skip("anonymous credentials cannot sign; see test_gcs_signed_url_*")
    name = cloud.save("dir/a b.txt", ContentFile(b"signed body"))
    url = cloud.url(name)
    assert "a%20b.txt" in url
    assert ("X-Amz-Signature=" in url) if cloud.mount.type == "s3" else ("sig=" in url)
    body, content_type = fetch(url)
    assert body == b"signed body"
    assert content_type.startswith("text/plain")


def test_azure_rejects_a_tampered_signature(azure_mount_config):
    for storage in mount_storage({"cloud": azure_mount_config}, "cloud"):
        name = storage.save("signed.txt", ContentFile(b"x"))
        url = storage.url(name).replace("sp=r", "sp=rw")
        with pytest.raises(urllib.error.HTTPError) as caught:
            fetch(url)
        assert caught.value.code == 403


def test_public_url_without_querystring_auth(cloud_config):
    config = {**cloud_config, "querystring_auth": False}
    if cloud_config["type"] == "s3":
        # Passed through to s3fs: objects are written readable by anyone.
        config["s3_options"] = {"s3_additional_kwargs": {"ACL": "public-read"}}
    for storage in mount_storage({"cloud": config}, "cloud"):
        name = storage.save("pub/file name.txt", ContentFile(b"public"))
        url = storage.url(name)
    key = f"{cloud_config['prefix']}/pub/file name.txt"
    endpoint = cloud_config["endpoint_url"]
    if cloud_config["type"] == "gcs":
        expected = f"{endpoint}/download/storage/v1/b/{BUCKET}/o/{quote(key, safe='')}?alt=media"
    else:
        expected = f"{endpoint}/{BUCKET}/{quote(key)}"
    assert url == expected
    if cloud_config["type"] == "azure":
        # Azurite containers are private: the unsigned URL is refused.
        with pytest.raises(urllib.error.HTTPError):
            fetch(url)
    else:
        assert fetch(url)[0] == b"public"


def test_public_gcs_url_of_google(gcs_mount_config):
    config = {**gcs_mount_config, "endpoint_url": None}
    for storage in mount_storage({"cloud": config}, "cloud"):
        url = storage.url("a b.txt")
    prefix = gcs_mount_config["prefix"]
    assert url == f"https://storage.googleapis.com/{BUCKET}/{prefix}/a%20b.txt"


def test_custom_domain_gives_a_public_url(cloud_config):
    config = {**cloud_config, "custom_domain": "cdn.example.com"}
    for storage in mount_storage({"cloud": config}, "cloud"):
        prefix = cloud_config["prefix"]
        assert storage.url("a/b c.txt") == f"https://cdn.example.com/{prefix}/a/b%20c.txt"


def test_s3_url_makes_no_request(s3_server: Server, s3_mount_config):
    for storage in mount_storage({"cloud": s3_mount_config}, "cloud"):
        storage.exists("warm-up")  # the client exists before counting
        s3_server.log.clear()
        url = storage.url("a.txt")
        assert s3_server.log.snapshot() == []
        assert "X-Amz-Signature=" in url


def test_s3_url_expiry_and_aws_public_url(s3_mount_config):
    config = {**s3_mount_config, "url_expiry": 60}
    for storage in mount_storage({"cloud": config}, "cloud"):
        assert "X-Amz-Expires=60" in storage.url("a.txt")
    aws = {"type": "s3", "bucket": "media", "region": "eu-west-1", "querystring_auth": False}
    for storage in mount_storage({"cloud": aws}, "cloud"):
        assert storage.url("x y.txt") == "https://media.s3.eu-west-1.amazonaws.com/x%20y.txt"


def test_anonymous_s3_gives_public_urls(s3_mount_config):
    config = {**s3_mount_config, "anon": True, "key": None, "secret": None}
    for storage in mount_storage({"cloud": config}, "cloud"):
        assert "Signature" not in storage.url("a.txt")


@pytest.fixture
def gcs_service_account(tmp_path: Path) -> Path:
    """A service account key made here: it signs URLs locally and reaches no server."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = tmp_path / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "test-project",
                "private_key_id": "0" * 40,
                "private_key": pem,
                "client_email": "tests@test-project.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "http://127.0.0.1:9/token",
            }
        )
    )
    return path


def test_gcs_signed_url_with_a_service_account(gcs_mount_config, gcs_service_account):
    config = {**gcs_mount_config, "token": str(gcs_service_account), "url_expiry": 120}
    for storage in mount_storage({"cloud": config}, "cloud"):
        url = storage.url("dir/a b.txt")
    assert url.startswith(f"{gcs_mount_config['endpoint_url']}/{BUCKET}/")
    assert "X-Goog-Signature=" in url
    assert "X-Goog-Expires=120" in url
    assert "a%20b.txt" in url


def test_gcs_anonymous_gives_public_url(gcs_mount_config):
    for storage in mount_storage({"cloud": gcs_mount_config}, "cloud"):
        name = storage.save("anon.txt", ContentFile(b"anon"))
        url = storage.url(name)
        assert "Signature" not in url
        assert fetch(url)[0] == b"anon"


# Prefix confinement


def test_prefix_confines_the_mount(cloud_config):
    outer = {**cloud_config}
    inner = {**cloud_config, "prefix": f"{cloud_config['prefix']}/inner"}
    mounts = {"outer": outer, "inner": inner}
    with override_settings(STORAGE_MOUNTS=mounts):
        outside, confined = get_storage("outer"), get_storage("inner")
        outside.save("secret.txt", ContentFile(b"outside"))
        outside.save("inner-sibling/other.txt", ContentFile(b"sibling"))
        outside.save("inner/visible.txt", ContentFile(b"inside"))
        assert confined.listdir("") == ([], ["visible.txt"])
        assert not confined.exists("secret.txt")
        assert not confined.exists("inner-sibling/other.txt")
        with pytest.raises(FileNotFoundError):
            confined.open("secret.txt").read()
        for name in ("../secret.txt", "../inner-sibling/other.txt", "/secret.txt"):
            with pytest.raises(SuspiciousFileOperation):
                confined.open(name)
        directories, files = outside.listdir("")
        assert (sorted(directories), files) == (["inner", "inner-sibling"], ["secret.txt"])


# Exclusive create


def test_no_overwrite_refuses_an_existing_key(cloud):
    if cloud.mount.type == "gcs":
        pytest.skip("neither GCS emulator honours ifGenerationMatch=0 (real GCS does)")
    cloud.save("taken.txt", ContentFile(b"first"))
    with pytest.raises(FileExistsError):
        cloud.backend.write(cloud._path("taken.txt"), [b"second"], overwrite=False)
    assert cloud.open("taken.txt").read() == b"first"


def test_concurrent_saves_of_one_name_keep_every_file(cloud):
    if cloud.mount.type == "gcs":
        pytest.skip("neither GCS emulator honours ifGenerationMatch=0 (real GCS does)")
    writers = 8
    names: list[str] = []
    barrier = threading.Barrier(writers)

    def write(index: int) -> None:
        barrier.wait()
        names.append(cloud.save("race.txt", ContentFile(f"writer {index}".encode())))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(names)) == writers
    assert {cloud.open(name).read() for name in names} == {
        f"writer {i}".encode() for i in range(writers)
    }


# Request counts (server side)


def test_s3_metadata_calls_make_one_request(s3_server: Server, s3_mount_config):
    for storage in mount_storage({"cloud": s3_mount_config}, "cloud"):
        storage.save("dir/counted.txt", ContentFile(b"12345"))
        for method, name in (
            (storage.exists, "dir/counted.txt"),
            (storage.exists, "dir/missing.txt"),
            (storage.exists, "dir"),
            (storage.size, "dir/counted.txt"),
            (storage.get_modified_time, "dir/counted.txt"),
        ):
            s3_server.log.clear()
            method(name)
            assert len(s3_server.log.snapshot()) == 1, (method.__name__, name)


def test_s3_listdir_is_one_paginated_listing(s3_server: Server, s3_mount_config):
    for storage in mount_storage({"cloud": s3_mount_config}, "cloud"):
        for index in range(5):
            storage.save(f"many/file{index}.txt", ContentFile(b"x"))
        storage.save("many/sub/deeper.txt", ContentFile(b"x"))
        s3_server.log.clear()
        entries = storage.scandir("many")
        requests = s3_server.log.snapshot()
        assert len(requests) == 1
        assert requests[0][0] == "GET"
        assert sorted(entry.name for entry in entries) == [
            *(f"file{i}.txt" for i in range(5)),
            "sub",
        ]
        assert all(entry.modified is not None for entry in entries if not entry.is_dir)


def test_s3_ranged_read_fetches_only_a_block(s3_server: Server, s3_mount_config):
    data = bytes(range(256)) * 40_000  # ~10 MB
    for storage in mount_storage({"cloud": s3_mount_config}, "cloud"):
        storage.save("big.bin", ContentFile(data))
        with storage.open("big.bin") as handle:
            s3_server.log.clear()
            handle.seek(9_000_000)
            assert handle.read(100) == data[9_000_000:9_000_100]
        ranges = [entry[2] for entry in s3_server.log.snapshot() if entry[0] == "GET"]
        assert ranges and all(r.startswith("bytes=9000000-") for r in ranges)


# Errors and secrets


def test_wrong_azure_key_is_a_permission_error_without_secrets(azure_mount_config):
    wrong = AZURITE_KEY[:-8] + "AAAAAAA="
    config = {**azure_mount_config, "account_key": wrong}
    for storage in mount_storage({"cloud": config}, "cloud"):
        with pytest.raises(PermissionError) as caught:
            storage.exists("file.txt")
    message = str(caught.value)
    assert "'cloud'" in message
    assert wrong not in message
    assert caught.value.__cause__ is None
    assert type(caught.value).__module__ == "builtins"


def test_missing_bucket_is_file_not_found(cloud_config):
    key = "container" if cloud_config["type"] == "azure" else "bucket"
    config = {**cloud_config, key: "no-such-bucket"}
    for storage in mount_storage({"cloud": config}, "cloud"):
        with pytest.raises(OSError) as caught:
            storage.save("x.txt", ContentFile(b"x"))
        assert type(caught.value).__module__ == "builtins"


SECRET_KEYS = {
    "s3": {"key": SECRET, "secret": SECRET, "token": SECRET, "s3_options": {"x": SECRET}},
    "gcs": {"token": SECRET},
    "azure": {"account_key": SECRET, "sas_token": SECRET},
}


@pytest.mark.parametrize("kind", CLOUD_KINDS)
def test_secrets_stay_out_of_repr_deconstruct_and_checks(kind):
    config = {
        "type": kind,
        "bucket" if kind != "azure" else "container": "media",
        **({"account_name": "acct"} if kind == "azure" else {}),
        **SECRET_KEYS[kind],
        "url_expiry": 0,  # an invalid value, so that checks report this mount
        "bukcet": SECRET,  # a typo, reported by name
    }
    with override_settings(STORAGE_MOUNTS={"vault": config}):
        storage = get_storage("vault")
        messages = run_checks()
        shown = [
            repr(storage),
            str(storage.deconstruct()),
            *(f"{message.msg} {message.hint}" for message in messages),
        ]
        with pytest.raises(Exception) as caught:
            storage.exists("x")
        shown.append(str(caught.value))
    assert any("vault" in text for text in shown[2:-1])
    assert not [text for text in shown if SECRET in text]


@pytest.mark.parametrize("kind", CLOUD_KINDS)
def test_secrets_stay_out_of_repr_of_a_valid_mount(kind, request):
    config = dict(request.getfixturevalue(f"{kind}_mount_config"))
    secret_key = {"s3": "secret", "gcs": "project", "azure": "account_key"}[kind]
    value = config[secret_key]
    for storage in mount_storage({"vault": config}, "vault"):
        storage.exists("x")
        shown = [
            repr(storage),
            repr(storage.mount),
            repr(storage.backend),
            str(storage.deconstruct()),
        ]
    if kind != "gcs":
        assert not [text for text in shown if value in text]
    assert all("vault" in text for text in shown)


def test_missing_extra_names_the_pip_command(monkeypatch, s3_mount_config):
    monkeypatch.setattr(S3Backend, "requires", ("not_a_module_for_tests",))
    for storage in mount_storage({"cloud": s3_mount_config}, "cloud"):
        with pytest.raises(MissingExtra) as caught:
            storage.exists("x")
        assert 'pip install "genro-storage-django[s3]"' in str(caught.value)
        ids = [message.id for message in run_checks()]
        assert "genro_storage_django.E011" in ids


@pytest.mark.parametrize("kind", CLOUD_KINDS)
def test_invalid_settings_are_reported(kind):
    config: dict[str, Any] = {"type": kind, "url_expiry": -5}
    config["container" if kind == "azure" else "bucket"] = "media"
    with override_settings(STORAGE_MOUNTS={"bad": config}):
        ids = {message.id for message in run_checks()}
    assert "genro_storage_django.E020" in ids
    if kind == "azure":
        assert "genro_storage_django.E021" in ids
