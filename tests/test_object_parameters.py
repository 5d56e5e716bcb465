"""Object parameters on s3 (moto), gcs (fake-gcs-server) and azure (Azurite).

Every write path uploads a file, then the object's stored headers and metadata
are read back with a plain HTTP request to the server, not through fsspec or
the storage: what any client of the bucket would see.
"""

from __future__ import annotations

import asyncio
import datetime
import gzip
import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.functional import empty

from genro_storage_django.storage import MountStorage, get_storage
from tests.servers import AZURITE_ACCOUNT, AZURITE_KEY, BUCKET

CLOUD = ["s3", "gcs", "azure"]
#: What every cloud mount under test sets, by glob pattern (first match wins).
RULES = {
    "*.css.gz": {"content_encoding": "gzip", "content_type": "text/css"},
    "*": {
        "cache_control": "max-age=86400",
        "content_disposition": 'attachment; filename="report.pdf"',
        "content_language": "it",
        "metadata": {"origin": "tests"},
    },
}
#: The parameters only some stores honour, per kind (the emulators' limits below).
EXTRA = {
    "s3": {"acl": "public-read", "storage_class": "STANDARD_IA", "encryption": "AES256"},
    "gcs": {"acl": "publicRead", "storage_class": "NEARLINE"},
    "azure": {"storage_class": "Cool"},
}
BIG = 9 * 2**20  # past the 8 MiB block: a multipart (or block) upload


def rules(kind: str) -> dict[str, Any]:
    everything = {**RULES["*"], **EXTRA[kind]}
    return {"*.css.gz": {**RULES["*.css.gz"], **EXTRA[kind]}, "*": everything}


@pytest.fixture(params=CLOUD)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def config(kind: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    base = dict(request.getfixturevalue(f"{kind}_mount_config"))
    return {**base, "object_parameters": rules(kind)}


@pytest.fixture
def storage(config: dict[str, Any]) -> Iterator[MountStorage]:
    with override_settings(STORAGE_MOUNTS={"objects": config}):
        yield get_storage("objects")


# Reading an object's headers as a plain HTTP client does.


def _request(url: str, method: str = "HEAD", headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        return urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        return error


def stored(storage: MountStorage, name: str) -> dict[str, Any]:
    """Return the object's parameters as the server reports them, in our vocabulary."""
    key = storage.backend.key(storage.backend.full_path(name))
    return {"s3": _s3_stored, "gcs": _gcs_stored, "azure": _azure_stored}[storage.mount.type](
        storage, key
    )


def _s3_signed(storage: MountStorage, method: str, key: str) -> str:
    """A presigned URL: moto, as S3, refuses anonymous reads of KMS-encrypted objects."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=storage.mount.options["endpoint_url"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    return client.generate_presigned_url(method, Params={"Bucket": BUCKET, "Key": key})


def _s3_stored(storage: MountStorage, key: str) -> dict[str, Any]:
    with _request(_s3_signed(storage, "head_object", key)) as response:
        headers = response.headers
    with _request(_s3_signed(storage, "get_object_acl", key), "GET") as response:
        # moto answers 500 for a multipart object created without an ACL.
        acl = ET.fromstring(response.read() if response.status == 200 else b"<none/>")
    public = any(
        (grant.findtext(".//{*}URI") or "").endswith("/AllUsers")
        and grant.findtext("{*}Permission") == "READ"
        for grant in acl.iter("{http://s3.amazonaws.com/doc/2006-03-01/}Grant")
    )
    return {
        **_headers(headers),
        "metadata": {
            name[len("x-amz-meta-") :]: value
            for name, value in headers.items()
            if name.lower().startswith("x-amz-meta-")
        },
        "acl": "public-read" if public else "private",
        "storage_class": headers.get("x-amz-storage-class", "STANDARD"),
        "encryption": headers.get("x-amz-server-side-encryption"),
    }


def _headers(headers: Any) -> dict[str, Any]:
    return {
        "cache_control": headers.get("Cache-Control"),
        "content_disposition": headers.get("Content-Disposition"),
        "content_encoding": headers.get("Content-Encoding"),
        "content_language": headers.get("Content-Language"),
        "content_type": headers.get("Content-Type"),
    }


def _gcs_stored(storage: MountStorage, key: str) -> dict[str, Any]:
    endpoint = storage.mount.options["endpoint_url"]
    url = f"{endpoint}/storage/v1/b/{BUCKET}/o/{urllib.parse.quote(key, safe='')}"
    with _request(url, "GET") as response:
        resource = json.loads(response.read())
    with _request(f"{url}/acl", "GET") as response:
        acl = json.loads(response.read()).get("items", [])
    public = any(item["entity"] == "allUsers" and item["role"] == "READER" for item in acl)
    return {
        "cache_control": resource.get("cacheControl"),
        "content_disposition": resource.get("contentDisposition"),
        "content_encoding": resource.get("contentEncoding"),
        "content_language": resource.get("contentLanguage"),
        "content_type": resource.get("contentType"),
        "metadata": resource.get("metadata", {}),
        "acl": "publicRead" if public else "private",
        "storage_class": resource.get("storageClass"),
    }


def _azure_sas(container: str, blob: str, **response: str) -> str:
    from azure.storage.blob import BlobSasPermissions, generate_blob_sas

    expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
    return generate_blob_sas(
        AZURITE_ACCOUNT,
        container,
        blob,
        account_key=AZURITE_KEY,
        permission=BlobSasPermissions(read=True),
        expiry=expiry,
        **response,
    )


def _azure_stored(storage: MountStorage, key: str) -> dict[str, Any]:
    endpoint = storage.mount.options["endpoint_url"]
    url = f"{endpoint}/{BUCKET}/{urllib.parse.quote(key)}?{_azure_sas(BUCKET, key)}"
    with _request(url) as response:
        headers = response.headers
    metadata = {
        name[len("x-ms-meta-") :]: value
        for name, value in headers.items()
        if name.lower().startswith("x-ms-meta-")
    }
    metadata.pop("is_directory", None)  # adlfs's own mark
    return {
        **_headers(headers),
        "metadata": metadata,
        "storage_class": headers.get("x-ms-access-tier"),
    }


def expected(kind: str, name: str, resumable: bool = False) -> dict[str, Any]:
    parameters = rules(kind)["*.css.gz" if name.endswith(".css.gz") else "*"]
    guessed = "text/plain" if name.endswith(".txt") else "application/octet-stream"
    wanted = {"content_type": guessed, "content_encoding": None, **parameters}
    if kind == "gcs" and resumable:
        # fake-gcs-server keeps the storage class of multipart uploads only,
        # not of resumable ones (real GCS keeps both).
        del wanted["storage_class"]
    return wanted


def assert_stored(storage: MountStorage, name: str, resumable: bool = False) -> None:
    kind = storage.mount.type
    found = stored(storage, name)
    # collectstatic keeps the MD5 of what it uploads in the metadata as well.
    found["metadata"].pop("md5", None)
    wanted = expected(kind, name, resumable)
    assert {key: found.get(key) for key in wanted} == wanted


# Every write path.


def by_save(storage: MountStorage, name: str, data: bytes) -> str:
    return storage.save(name, ContentFile(data))


def by_open(storage: MountStorage, name: str, data: bytes) -> str:
    with storage.open(name, "wb") as file:
        for start in range(0, len(data), 2**20):
            file.write(data[start : start + 2**20])
    return name


def by_asave(storage: MountStorage, name: str, data: bytes) -> str:
    return asyncio.run(storage.asave(name, ContentFile(data)))


def by_aopen(storage: MountStorage, name: str, data: bytes) -> str:
    async def write() -> None:
        async with await storage.aopen(name, "wb") as file:
            for start in range(0, len(data), 2**20):
                await file.write(data[start : start + 2**20])

    asyncio.run(write())
    return name


WRITERS: dict[str, Callable[[MountStorage, str, bytes], str]] = {
    "save": by_save,
    "open": by_open,
    "asave": by_asave,
    "aopen": by_aopen,
}


@pytest.mark.parametrize("path", list(WRITERS))
@pytest.mark.parametrize("size", [5, BIG], ids=["small", "multipart"])
def test_every_write_path_stores_the_parameters(storage, path, size):
    text = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    for name, data in (("docs/report.txt", text), ("css/app.css.gz", gzip.compress(text))):
        saved = WRITERS[path](storage, name, data)
        assert_stored(storage, saved, resumable=size == BIG)
        if storage.mount.type == "azure" and name.endswith(".gz"):
            # adlfs lets the Azure SDK undo a gzip Content-Encoding, and then
            # reads up to the stored size: not the stored bytes (left alone).
            continue
        with storage.open(saved) as file:
            assert file.read() == data


def test_an_empty_file_is_stored_with_its_parameters(storage):
    storage.save("empty.txt", ContentFile(b""))
    assert_stored(storage, "empty.txt")


def test_s3_kms_encryption_names_the_key(s3_mount_config):
    config = {**s3_mount_config, "object_parameters": {"encryption": "alias/reports"}}
    with override_settings(STORAGE_MOUNTS={"kms": config}):
        storage = get_storage("kms")
        storage.save("secret.txt", ContentFile(b"s"))
        key = storage.backend.key(storage.backend.full_path("secret.txt"))
        with _request(_s3_signed(storage, "head_object", key)) as response:
            assert response.headers["x-amz-server-side-encryption"] == "aws:kms"
            assert response.headers["x-amz-server-side-encryption-aws-kms-key-id"].endswith(
                "alias/reports"
            )


def test_a_callable_gives_the_parameters(s3_mount_config):
    config = {**s3_mount_config, "object_parameters": "tests.parameters_for.by_folder"}
    with override_settings(STORAGE_MOUNTS={"called": config}):
        storage = get_storage("called")
        storage.save("invoices/1.txt", ContentFile(b"1"))
        storage.save("other/1.txt", ContentFile(b"1"))
        assert stored(storage, "invoices/1.txt")["cache_control"] == "private, max-age=60"
        assert stored(storage, "other/1.txt")["cache_control"] is None


class OwnParameters(MountStorage):
    mount_name = "own"

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        return {"content_language": "fr", "metadata": {"written_by": "subclass"}}


def test_a_subclass_computes_its_own_parameters(azure_mount_config):
    with override_settings(STORAGE_MOUNTS={"own": azure_mount_config}):
        storage = OwnParameters()
        storage.save("a.txt", ContentFile(b"a"))
        asyncio.run(storage.asave("b.txt", ContentFile(b"b")))
        for name in ("a.txt", "b.txt"):
            found = stored(storage, name)
            assert found["content_language"] == "fr"
            assert found["metadata"] == {"written_by": "subclass"}


def test_admin_upload_stores_the_parameters(storage, admin_client: Client):
    url = reverse(
        "admin:genro_storage_django_storagemount_upload",
        kwargs={"mount": "objects", "path": "up"},
    )
    response = admin_client.post(url, {"files": [SimpleUploadedFile("note.txt", b"n")]})
    assert response.status_code == 302
    assert_stored(storage, "up/note.txt")


def test_storage_copy_applies_the_destination_rules(config, tmp_path: Path):
    source = tmp_path / "source"
    (source / "css").mkdir(parents=True)
    (source / "css" / "app.css.gz").write_bytes(b"gz")
    (source / "readme.txt").write_bytes(b"r")
    mounts = {"src": {"type": "local", "path": str(source)}, "objects": config}
    with override_settings(STORAGE_MOUNTS=mounts):
        call_command("storage_copy", "src:", "objects:", stdout=StringIO(), stderr=StringIO())
        storage = get_storage("objects")
        assert_stored(storage, "css/app.css.gz")
        assert_stored(storage, "readme.txt")


def test_server_side_copy_between_s3_mounts_takes_the_destination_rules(s3_mount_config):
    plain = {key: value for key, value in s3_mount_config.items()}
    destination = {**plain, "prefix": f"{plain['prefix']}-copy", "object_parameters": rules("s3")}
    with override_settings(STORAGE_MOUNTS={"plain": plain, "objects": destination}):
        get_storage("plain").save("readme.txt", ContentFile(b"r"))
        call_command("storage_copy", "plain:", "objects:", stdout=StringIO(), stderr=StringIO())
        assert_stored(get_storage("objects"), "readme.txt")


#: The destination's own rules in the --no-parameters tests.
OTHER_RULES = {"*": {"cache_control": "no-store", "metadata": {"origin": "destination"}}}
PORTABLE = ("cache_control", "content_disposition", "content_language", "content_type")


@pytest.mark.parametrize(
    "source_kind, target_kind", [("s3", "s3"), ("s3", "gcs"), ("gcs", "azure"), ("azure", "s3")]
)
def test_storage_copy_no_parameters_keeps_the_source_s(source_kind, target_kind, request):
    source = {
        **request.getfixturevalue(f"{source_kind}_mount_config"),
        "object_parameters": rules(source_kind),
    }
    target = dict(request.getfixturevalue(f"{target_kind}_mount_config"))
    if source_kind == target_kind:
        target["prefix"] = f"{target['prefix']}-copy"  # a server-side copy on one bucket
    with override_settings(STORAGE_MOUNTS={"src": source}):
        get_storage("src").save("small.txt", ContentFile(b"s"))
        get_storage("src").save("big.bin", ContentFile(b"b" * BIG))
    for keep, prefix in ((True, "kept"), (False, "ruled")):
        mounts = {
            "src": source,
            "dst": {**target, "prefix": f"{target['prefix']}-{prefix}"},
        }
        mounts["dst"]["object_parameters"] = OTHER_RULES
        with override_settings(STORAGE_MOUNTS=mounts):
            options = ["--no-parameters"] if keep else []
            call_command("storage_copy", "src:", "dst:", *options, stdout=StringIO())
            for name in ("small.txt", "big.bin"):
                found = stored(get_storage("dst"), name)
                found["metadata"].pop("md5", None)
                wanted = expected(source_kind, name)
                if keep:
                    assert {key: found[key] for key in PORTABLE} == {
                        key: wanted[key] for key in PORTABLE
                    }
                    assert found["metadata"] == {"origin": "tests"}
                else:
                    assert found["cache_control"] == "no-store"
                    assert found["metadata"] == {"origin": "destination"}
    if source_kind == target_kind == "s3":
        with override_settings(
            STORAGE_MOUNTS={"dst": {**target, "prefix": f"{target['prefix']}-kept"}}
        ):
            found = stored(get_storage("dst"), "small.txt")
        # Between mounts of one type the class and the encryption are kept too.
        assert (found["storage_class"], found["encryption"]) == ("STANDARD_IA", "AES256")


def test_collectstatic_stores_the_parameters(config, tmp_path: Path):
    sources = tmp_path / "static"
    (sources / "css").mkdir(parents=True)
    (sources / "css" / "site.css.gz").write_bytes(b"gz" * 100)
    (sources / "robots.txt").write_bytes(b"User-agent: *")
    setting = {
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
        "staticfiles": {
            "BACKEND": "genro_storage_django.staticfiles.MountStaticStorage",
            "OPTIONS": {"mount": "objects"},
        },
    }
    with override_settings(
        STORAGE_MOUNTS={"objects": {**config, "querystring_auth": False}},
        STORAGES=setting,
        STATICFILES_DIRS=[str(sources)],
        STATICFILES_FINDERS=["django.contrib.staticfiles.finders.FileSystemFinder"],
    ):
        storages._storages = {}
        staticfiles_storage._wrapped = empty
        call_command("collectstatic", interactive=False, stdout=StringIO(), stderr=StringIO())
        storage = get_storage("objects")
        assert_stored(storage, "css/site.css.gz")
        assert_stored(storage, "robots.txt")
    storages._storages = {}
    staticfiles_storage._wrapped = empty


# Signed download links.


def test_url_for_sets_the_download_name_on_s3_and_azure(request, kind):
    if kind == "gcs":
        pytest.skip("the GCS emulator cannot check signatures: see the gcs test below")
    config = dict(request.getfixturevalue(f"{kind}_mount_config"))
    with override_settings(STORAGE_MOUNTS={"links": config}):
        storage = get_storage("links")
        storage.save("files/x1.bin", ContentFile(b"%PDF"))
        link = storage.url_for("files/x1.bin", download_name="report.pdf", expires_in=60)
        with _request(link, "GET") as response:
            assert response.status == 200
            assert response.headers["Content-Disposition"] == 'attachment; filename="report.pdf"'
            assert response.read() == b"%PDF"
        inline = storage.url_for("files/x1.bin", inline=True)
        with _request(inline, "GET") as response:
            assert response.headers["Content-Disposition"] == "inline"
        if kind == "azure":
            # The signature covers the disposition: a changed one is refused.
            # (moto checks no signature at all.)
            with _request(link.replace("report.pdf", "other.pdf"), "GET") as response:
                assert response.status == 403


def test_url_for_on_gcs_signs_the_disposition(gcs_mount_config, tmp_path: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    account = {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "1",
        "private_key": pem,
        "client_email": "tests@test-project.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    token = tmp_path / "account.json"
    token.write_text(json.dumps(account))
    config = {**gcs_mount_config, "token": str(token)}
    with override_settings(STORAGE_MOUNTS={"links": config}):
        link = get_storage("links").url_for("files/x1.bin", download_name="report.pdf")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
    assert query["response-content-disposition"] == ['attachment; filename="report.pdf"']
    assert (
        "response-content-disposition" in query["X-Goog-SignedHeaders"][0]
        or query["X-Goog-Signature"]
    )


def test_url_for_without_signing_or_serve_says_why(s3_mount_config):
    config = {**s3_mount_config, "anon": True}
    refused = pytest.raises(ValueError, match="cannot make signed URLs")
    with override_settings(STORAGE_MOUNTS={"anon": config}), refused:
        get_storage("anon").url_for("a.txt")


# The serve view sends what the stores store.


#: What a local mount can honour of RULES: the headers (no metadata is kept).
HEADER_RULES = {
    pattern: {key: value for key, value in parameters.items() if key != "metadata"}
    for pattern, parameters in RULES.items()
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[MountStorage]:
    config = {"type": "local", "path": str(tmp_path), "serve": True}
    config["object_parameters"] = HEADER_RULES
    with override_settings(STORAGE_MOUNTS={"served": config}):
        yield get_storage("served")


def test_serve_view_sends_the_same_headers_as_the_stores(served, client: Client, db):
    for name in ("docs/report.txt", "css/app.css.gz"):
        served.save(name, ContentFile(b"data"))
        response = client.get(served.url(name))
        assert response.status_code == 200
        wanted = expected("s3", name)
        for key, header in (
            ("cache_control", "Cache-Control"),
            ("content_disposition", "Content-Disposition"),
            ("content_encoding", "Content-Encoding"),
            ("content_language", "Content-Language"),
            ("content_type", "Content-Type"),
        ):
            if wanted.get(key) or key == "content_encoding":
                # (Django's LocaleMiddleware sets a Content-Language of its own.)
                assert response.headers.get(header) == wanted.get(key), header


def test_serve_link_from_url_for_carries_its_disposition(tmp_path: Path, client: Client, db):
    config = {"type": "local", "path": str(tmp_path), "serve": "staff"}
    with override_settings(STORAGE_MOUNTS={"private": config}):
        storage = get_storage("private")
        storage.save("invoice.txt", ContentFile(b"i"))
        # Anonymous, without the link: the login page.
        assert client.get(storage.url("invoice.txt")).status_code == 302
        link = storage.url_for("invoice.txt", download_name="Fattura 1.txt", expires_in=60)
        response = client.get(link)
        assert response.status_code == 200
        assert response.headers["Content-Disposition"] == 'attachment; filename="Fattura 1.txt"'
        assert b"".join(response.streaming_content) == b"i"
        # The signature is for that file only.
        other = link.replace("invoice.txt", "other.txt")
        storage.save("other.txt", ContentFile(b"o"))
        assert client.get(other).status_code == 302
        expired = storage.url_for("invoice.txt", expires_in=1)
        with override_settings(STORAGE_MOUNTS={"private": config}):
            import time

            time.sleep(2.1)
            assert client.get(expired).status_code == 302


# Who may fetch through the serve view.


def can_view_invoices(request: Any, mount: str, name: str) -> bool:
    return bool(request.user.is_authenticated and name.startswith(request.user.username))


USERS = ["anonymous", "user", "staff", "permitted"]
#: serve value -> the users it lets in.
RULES_BY_SERVE = {
    True: set(USERS),
    "login": {"user", "staff", "permitted"},
    "staff": {"staff"},
    "auth.view_user": {"permitted"},
    "tests.test_object_parameters.can_view_invoices": {"user"},
}


@pytest.fixture
def users(db) -> dict[str, User | None]:
    from django.contrib.auth.models import Permission

    made: dict[str, User | None] = {"anonymous": None}
    made["user"] = User.objects.create_user("user", password="pw")
    made["staff"] = User.objects.create_user("staff", password="pw", is_staff=True)
    made["permitted"] = User.objects.create_user("permitted", password="pw")
    made["permitted"].user_permissions.add(Permission.objects.get(codename="view_user"))
    return made


@pytest.mark.parametrize("serve", list(RULES_BY_SERVE), ids=str)
def test_serve_access_matrix(serve, users, tmp_path: Path):
    config = {"type": "local", "path": str(tmp_path), "serve": serve}
    with override_settings(STORAGE_MOUNTS={"media": config}):
        storage = get_storage("media")
        storage.save("user/invoice.txt", ContentFile(b"x"))
        for who, user in users.items():
            client = Client()
            if user is not None:
                client.force_login(user)
            response = client.get(storage.url("user/invoice.txt"))
            if who in RULES_BY_SERVE[serve]:
                assert response.status_code == 200, who
            elif user is None:
                assert response.status_code == 302, who
                assert response.url.startswith("/accounts/login/") or "login" in response.url
            else:
                assert response.status_code == 403, who


@pytest.mark.parametrize(
    "offload, header, value",
    [
        ({"x_accel_redirect": "/protected/"}, "X-Accel-Redirect", "/protected/a%20b/r.txt"),
        ("x_sendfile", "X-Sendfile", None),
    ],
    ids=["nginx", "apache"],
)
def test_offload_hands_the_file_to_the_web_server(offload, header, value, tmp_path, users):
    config = {
        "type": "local",
        "path": str(tmp_path),
        "serve": "login",
        "serve_offload": offload,
        "object_parameters": {"cache_control": "private, max-age=60"},
    }
    with override_settings(STORAGE_MOUNTS={"media": config}):
        storage = get_storage("media")
        storage.save("a b/r.txt", ContentFile(b"bytes"))
        client = Client()
        assert client.get(storage.url("a b/r.txt")).status_code == 302
        client.force_login(users["user"])
        response = client.get(storage.url("a b/r.txt"))
        assert response.status_code == 200
        assert response.content == b""
        assert response.headers[header] == (value or str(tmp_path / "a b" / "r.txt"))
        assert response.headers["Cache-Control"] == "private, max-age=60"
        assert response.headers["Content-Type"] == "text/plain"
        assert client.get(storage.url("missing.txt")).status_code == 404


# manage.py check names the mount and the key.


BAD_SETTINGS = {
    "E031": {"type": "memory", "object_parameters": {"cache_contol": "x"}},
    "E032": {"type": "local", "path": "/tmp", "object_parameters": {"acl": "private"}},
    "E033": {"type": "s3", "bucket": "b", "object_parameters": {"acl": "everyone"}},
    "E034": {"type": "memory", "object_parameters": {"*.css": "max-age=60"}},
    "E035": {"type": "memory", "object_parameters": "tests.parameters_for.missing"},
    "E036": {
        "type": "s3",
        "bucket": "b",
        "custom_domain": "cdn.example.com",
        "querystring_auth": True,
    },
    "E037": {"type": "memory", "serve": " "},
    "E038": {"type": "s3", "bucket": "b", "serve": True, "serve_offload": "x_sendfile"},
    "E039": {"type": "memory", "serve": "nowhere.to.be.found"},
}


@pytest.mark.parametrize("check_id", list(BAD_SETTINGS))
def test_bad_settings_are_reported_by_check(check_id):
    from django.core.checks import run_checks

    with override_settings(STORAGE_MOUNTS={"bad": BAD_SETTINGS[check_id]}):
        messages = run_checks(tags=["storage_mounts"])
    found = [m for m in messages if m.id == f"genro_storage_django.{check_id}"]
    assert len(found) == 1, [m.id for m in messages]
    assert "'bad'" in found[0].msg
    key = "serve" if check_id in ("E037", "E039") else "object_parameters"
    if check_id in ("E036", "E038"):
        key = {"E036": "querystring_auth", "E038": "serve_offload"}[check_id]
    assert key in found[0].msg


def test_azure_refuses_an_acl_with_a_check_error(azure_mount_config):
    from django.core.checks import run_checks

    config = {**azure_mount_config, "object_parameters": {"acl": "private"}}
    with override_settings(STORAGE_MOUNTS={"blobs": config}):
        ids = [m.id for m in run_checks(tags=["storage_mounts"])]
    assert "genro_storage_django.E032" in ids
