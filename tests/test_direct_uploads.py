"""Direct uploads against the real servers: moto (s3), fake-gcs-server (gcs), Azurite (azure),
and the app's own upload view (local, memory).

Each test sends the bytes as a browser would: the presigned POST's fields then
``file`` (s3), a PUT with the target's headers otherwise. ``verify()`` then
checks what the store holds. Where an emulator does not enforce what the
signature says, ``ENFORCED`` says so, the test asserts what it does instead,
and ``verify()`` must catch the object and delete it.
"""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.files.base import ContentFile
from django.test import Client, override_settings
from django.urls import reverse

from genro_storage_django import direct_uploads
from genro_storage_django.direct_uploads import UploadRefused, grant, verify
from genro_storage_django.exceptions import MountPermissionError
from genro_storage_django.storage import MountStorage, get_storage
from tests.serverkit import free_port, run_process
from tests.servers import BUCKET, Server, _gcs_command

KINDS = ["s3", "gcs", "azure", "local", "memory"]
#: What each server refuses by itself, beyond a valid signature. False: the
#: emulator stores the object anyway (verify() must then refuse and delete it).
ENFORCED: dict[str, dict[str, bool]] = {
    # moto checks no POST policy (nor its signature): not the expiry, the
    # length range, the Content-Type, nor the key.
    "s3": {"expiry": False, "size": False, "type": False, "key": False},
    # fake-gcs-server ignores signatures: expiry, signed headers, key.
    "gcs": {"expiry": False, "size": False, "type": False, "key": False},
    # Azurite checks the SAS (expiry, blob name); a SAS cannot limit the size
    # or the Content-Type on Azure either.
    "azure": {"expiry": True, "size": False, "type": False, "key": True},
    "local": {"expiry": True, "size": True, "type": True, "key": True},
    "memory": {"expiry": True, "size": True, "type": True, "key": True},
}
BODY = b"direct upload\n" * 50


# A GCS service account whose token endpoint is a local stub: the key signs
# URLs locally, and gcsfs's own requests (verify()) get a bearer token the
# emulator ignores.


class _TokenHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"access_token": "stub", "expires_in": 3600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def token_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/token"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def gcs_upload_server(server_logs: Path) -> Iterator[Server]:
    """fake-gcs-server that takes signed-URL uploads: only on its "public host"
    (storage.googleapis.com unless told), so this one is told 127.0.0.1."""
    port = free_port()
    command = [*_gcs_command(port), "-public-host", "127.0.0.1"]
    with run_process(command, server_logs / "gcs-uploads.log", port):
        url = f"http://127.0.0.1:{port}"
        created = requests.post(
            f"{url}/storage/v1/b?project=test-project", json={"name": BUCKET}, timeout=10
        )
        created.raise_for_status()
        yield Server(url)


@pytest.fixture
def gcs_signing_config(
    gcs_upload_server: Server, unique_prefix: str, token_server: str, tmp_path: Path
) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    account = tmp_path / "account.json"
    account.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "test-project",
                "private_key_id": "1",
                "private_key": pem,
                "client_email": "tests@test-project.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": token_server,
            }
        )
    )
    return {
        "type": "gcs",
        "bucket": BUCKET,
        "prefix": unique_prefix,
        "endpoint_url": gcs_upload_server.url,
        "token": str(account),
        "project": "test-project",
    }


def config_of(kind: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    name = "gcs_signing_config" if kind == "gcs" else f"{kind}_mount_config"
    return dict(request.getfixturevalue(name))


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def config(kind: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    return config_of(kind, request)


@pytest.fixture
def storage(config: dict[str, Any]) -> Iterator[MountStorage]:
    with override_settings(STORAGE_MOUNTS={"up": config}):
        yield get_storage("up")


# Sending as a browser does.


def send(
    target: dict[str, Any],
    body: bytes,
    *,
    url: str | None = None,
    headers: dict[str, str] | None = None,
    fields: dict[str, str] | None = None,
) -> int:
    """Send ``body`` to ``target`` (its URL, headers or fields replaced if given)."""
    url = url or target["url"]
    if target["method"] == "POST":
        form = {**target["fields"], **(fields or {})}
        kind = form.get("Content-Type", "application/octet-stream")
        # requests sends the fields first, then the file: as S3 wants.
        return requests.post(
            url, data=form, files={"file": ("f", body, kind)}, timeout=30
        ).status_code
    sent = {**target["headers"], **(headers or {})}
    if url.startswith("/"):
        # The app's own view: through Django's test client, as a raw PUT.
        kind = sent.pop("Content-Type")
        # (The test client drops the type of an empty body; a browser does not.)
        client = Client()
        return client.generic("PUT", url, body, headers=sent, CONTENT_TYPE=kind).status_code
    return requests.put(url, data=body, headers=sent, timeout=30).status_code


def check_refused(storage: MountStorage, ticket: str, code: str, **kwargs: Any) -> str:
    """Assert that ``verify()`` refuses ``ticket`` with ``code``; return the message."""
    with pytest.raises(UploadRefused) as raised:
        verify(storage, ticket, **kwargs)
    assert raised.value.code == code, raised.value
    message = str(raised.value)
    assert message and "Signature" not in message and "sig=" not in message
    return message


def issue(storage: MountStorage, name: str = "docs/report.txt", **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("max_size", 1000)
    kwargs.setdefault("content_type", "text/plain")
    return storage.upload_target(name, **kwargs)


# What a target looks like


def test_targets_have_the_shape_of_their_backend(storage, kind):
    target = issue(storage)
    assert target["name"] == "docs/report.txt"
    assert target["ticket"]
    if kind == "s3":
        assert target["method"] == "POST" and "headers" not in target
        assert target["fields"]["key"].endswith("/docs/report.txt")
        assert target["fields"]["Content-Type"] == "text/plain"
        policy = json.loads(__import__("base64").b64decode(target["fields"]["policy"]))
        assert ["content-length-range", 0, 1000] in policy["conditions"]
        assert {"Content-Type": "text/plain"} in policy["conditions"]
        assert {"key": target["fields"]["key"]} in policy["conditions"]
        return
    assert target["method"] == "PUT" and "fields" not in target
    headers = target["headers"]
    assert headers["Content-Type"] == "text/plain"
    if kind == "gcs":
        assert target["url"].startswith(f"{storage.mount.options['endpoint_url']}/{BUCKET}/")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(target["url"]).query)
        signed = query["X-Goog-SignedHeaders"][0].split(";")
        assert {"content-type", "x-goog-content-length-range"} <= set(signed)
        assert headers["x-goog-content-length-range"] == "0,1000"
    elif kind == "azure":
        assert headers["x-ms-blob-type"] == "BlockBlob"
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(target["url"]).query)
        assert query["sr"] == ["b"] and query["sp"] == ["c"]  # create only: no overwrite
    else:
        assert target["url"].startswith(
            reverse("genro_storage_django:direct_upload", args=["x"])[:-1]
        )


# The round trip


def test_a_browser_upload_is_verified_and_readable(storage, kind):
    target = issue(storage)
    assert send(target, BODY) in (200, 201, 204)
    assert verify(storage, target["ticket"], prefix="docs/", max_size=1000) == "docs/report.txt"
    with storage.open("docs/report.txt") as file:
        assert file.read() == BODY
    if kind in ("s3", "gcs", "azure"):
        path = storage.backend.full_path("docs/report.txt")
        assert storage.backend.stored_type(storage.backend.info(path)) == "text/plain"


def test_an_empty_file_uploads(storage):
    target = issue(storage, "empty.txt")
    assert send(target, b"") in (200, 201, 204)
    assert verify(storage, target["ticket"]) == "empty.txt"
    assert storage.size("empty.txt") == 0


def test_a_taken_name_gets_another_one(storage):
    storage.save("docs/report.txt", ContentFile(b"old"))
    target = issue(storage)
    assert target["name"] != "docs/report.txt" and target["name"].startswith("docs/report_")
    assert send(target, BODY) in (200, 201, 204)
    assert verify(storage, target["ticket"]) == target["name"]
    assert storage.open("docs/report.txt").read() == b"old"


def test_the_default_content_type_comes_from_the_name(storage):
    target = storage.upload_target("page.html", max_size=100)
    form = target.get("fields") or target.get("headers")
    assert form["Content-Type"] == "text/html"


# Bad inputs: each refused, nothing left behind


def test_a_body_over_max_size(storage, kind):
    target = issue(storage, max_size=100)
    status = send(target, BODY)
    if ENFORCED[kind]["size"]:
        assert status == 413
        check_refused(storage, target["ticket"], "missing")
    else:
        assert status < 300  # the emulator (or Azure) stores it
        message = check_refused(storage, target["ticket"], "too_large")
        assert "100 bytes" in message
    assert not storage.exists(target["name"])


def test_a_smaller_max_size_at_verify(storage):
    target = issue(storage)
    assert send(target, BODY) < 300
    check_refused(storage, target["ticket"], "too_large", max_size=10)
    assert not storage.exists(target["name"])


def test_another_content_type(storage, kind):
    target = issue(storage)
    if target["method"] == "POST":
        status = send(target, BODY, fields={"Content-Type": "application/x-evil"})
    else:
        status = send(target, BODY, headers={"Content-Type": "application/x-evil"})
    if ENFORCED[kind]["type"]:
        assert status == 415
        check_refused(storage, target["ticket"], "missing")
    else:
        assert status < 300
        assert "application/x-evil" in check_refused(storage, target["ticket"], "content_type")
    assert not storage.exists(target["name"])


def test_a_type_the_form_does_not_allow(storage):
    target = issue(storage)
    assert send(target, BODY) < 300
    check_refused(storage, target["ticket"], "content_type", content_types=["image/*"])
    assert not storage.exists(target["name"])


def test_another_key_than_signed(storage, kind):
    target = issue(storage)
    other = "docs/other.txt"
    if kind in ("local", "memory"):
        pytest.skip("the upload view's token names the file: there is no key to change")
    if target["method"] == "POST":
        key = storage.backend.key(storage.backend.full_path(other))
        status = send(target, BODY, fields={"key": key})
    else:
        status = send(target, BODY, url=target["url"].replace("report.txt", "other.txt"))
    if ENFORCED[kind]["key"]:
        assert status == 403
        assert not storage.exists(other)
    else:
        # The emulator stored the other key: no ticket names it, so no form
        # accepts it (a real store refuses the request).
        assert status < 300
        assert storage.exists(other)
        storage.delete(other)
    check_refused(storage, target["ticket"], "missing")


def test_an_expired_target(storage, kind, monkeypatch):
    monkeypatch.setattr(direct_uploads, "CLOCK_SKEW", 0)
    target = issue(storage, expires_in=1)
    time.sleep(2.5)
    status = send(target, BODY)
    if ENFORCED[kind]["expiry"]:
        assert status == 403
        check_refused(storage, target["ticket"], "missing")
    else:
        assert status < 300
        check_refused(storage, target["ticket"], "expired")
    assert not storage.exists(target["name"])


def test_a_name_outside_the_prefix(storage):
    target = issue(storage)
    assert send(target, BODY) < 300
    check_refused(storage, target["ticket"], "outside", prefix="avatars/")
    assert storage.exists(target["name"])  # it is not this form's to delete


def test_a_name_never_uploaded(storage):
    check_refused(storage, issue(storage)["ticket"], "missing")


def test_a_replayed_ticket(storage):
    target = issue(storage)
    assert send(target, BODY) < 300
    assert verify(storage, target["ticket"]) == target["name"]
    check_refused(storage, target["ticket"], "replayed")
    assert storage.exists(target["name"])  # the first claim keeps its file


def test_a_replay_to_a_stricter_form_keeps_the_accepted_file(storage):
    # The object checks delete what they refuse: a claimed ticket must be
    # refused before them, or a stricter form would delete an accepted file.
    target = issue(storage)
    assert send(target, BODY) < 300
    assert verify(storage, target["ticket"]) == target["name"]
    check_refused(storage, target["ticket"], "replayed", max_size=1)
    assert storage.exists(target["name"])


def test_a_file_stored_before_the_ticket_is_not_claimed_nor_deleted(config, monkeypatch):
    monkeypatch.setattr(direct_uploads, "CLOCK_SKEW", 0)
    with override_settings(STORAGE_MOUNTS={"up": {**config, "file_overwrite": True}}):
        storage = get_storage("up")
        storage.save("old.txt", ContentFile(b"someone else's"))
        time.sleep(1.5)
        target = issue(storage, "old.txt")
        assert target["name"] == "old.txt"
        check_refused(storage, target["ticket"], "replayed")
        assert storage.open("old.txt").read() == b"someone else's"


def test_a_forged_ticket(storage):
    ticket = issue(storage)["ticket"]
    check_refused(storage, ticket[:-2] + ("AA" if not ticket.endswith("AA") else "BB"), "forged")
    check_refused(storage, "not a ticket", "forged")


def test_a_ticket_of_another_mount(config, memory_mount_config):
    with override_settings(STORAGE_MOUNTS={"up": config, "other": memory_mount_config}):
        ticket = issue(get_storage("other"))["ticket"]
        check_refused(get_storage("up"), ticket, "forged")


# Mounts that refuse


def test_a_read_only_mount_refuses(config):
    readonly = {"up": {**config, "permissions": "readonly"}}
    with override_settings(STORAGE_MOUNTS=readonly), pytest.raises(MountPermissionError):
        issue(get_storage("up"))


def test_an_overwriting_readwrite_mount_refuses_an_existing_name(config):
    mount = {**config, "permissions": "readwrite", "file_overwrite": True}
    with override_settings(STORAGE_MOUNTS={"up": mount}):
        storage = get_storage("up")
        storage.save("docs/report.txt", ContentFile(b"kept"))
        with pytest.raises(UploadRefused) as raised:
            issue(storage)
        assert raised.value.code == "exists"
        assert issue(storage, "docs/new.txt")["name"] == "docs/new.txt"


def test_a_readwrite_mount_gives_an_existing_name_a_new_one(config):
    # As save() on that mount: nothing is replaced, so nothing is refused.
    with override_settings(STORAGE_MOUNTS={"up": {**config, "permissions": "readwrite"}}):
        storage = get_storage("up")
        storage.save("docs/report.txt", ContentFile(b"kept"))
        target = issue(storage)
        assert target["name"] != "docs/report.txt"
        assert target["name"].startswith("docs/report_")


def test_an_overwriting_mount_keeps_the_name(config):
    with override_settings(STORAGE_MOUNTS={"up": {**config, "file_overwrite": True}}):
        storage = get_storage("up")
        storage.save("docs/report.txt", ContentFile(b"old"))
        target = issue(storage)
        assert target["name"] == "docs/report.txt"
        assert send(target, BODY) < 300
        assert verify(storage, target["ticket"]) == "docs/report.txt"
        assert storage.open("docs/report.txt").read() == BODY


def test_bad_arguments(storage):
    with pytest.raises(ValueError, match="max_size"):
        storage.upload_target("a.txt", max_size=-1)
    for expires_in in (0, -5):
        with pytest.raises(ValueError, match="expires_in"):
            storage.upload_target("a.txt", max_size=1, expires_in=expires_in)


def test_content_types_match_without_their_parameters():
    assert direct_uploads.allowed_type("text/plain; charset=UTF-8", ["text/plain"])
    assert direct_uploads.allowed_type("TEXT/Plain", ["text/plain; charset=utf-8"])
    assert direct_uploads.allowed_type("image/png", ["image/*"])
    assert not direct_uploads.allowed_type("image/png", ["text/*"])
    assert direct_uploads.allowed_type("anything/at-all", None)


# The object parameters of the mount travel with the upload


PARAMETERS = {
    "cache_control": "max-age=60",
    "content_disposition": 'attachment; filename="r.txt"',
    "content_encoding": "identity",
    "content_language": "it",
    "metadata": {"origin": "browser"},
}
#: What each store keeps of them from a browser's request (our vocabulary).
KEPT = {
    # A POST form has no Content-Language field.
    "s3": {key: value for key, value in PARAMETERS.items() if key != "content_language"},
    "gcs": PARAMETERS,
    "azure": PARAMETERS,
}


@pytest.mark.parametrize("cloud", ["s3", "gcs", "azure"])
def test_the_object_parameters_are_stored(cloud, request):
    from tests.test_object_parameters import stored

    config = {**config_of(cloud, request), "object_parameters": PARAMETERS}
    with override_settings(STORAGE_MOUNTS={"up": config}):
        storage = get_storage("up")
        target = issue(storage)
        assert send(target, BODY) < 300
        assert verify(storage, target["ticket"]) == target["name"]
        found = stored(storage, target["name"])
    assert found["content_type"] == "text/plain"
    for key, value in KEPT[cloud].items():
        assert found[key] == value, key


# The upload_target view and the app's upload view


@pytest.fixture
def endpoint(storage) -> Any:
    """Post to the upload_target view with a grant for ``docs/`` of ``storage``."""

    def ask(token: str | None = None, **fields: Any) -> Any:
        token = token or grant(storage, prefix="docs/", max_size=1000, content_types=["text/*"])
        form = {"grant": token, "filename": "my report.txt", "size": 10, **fields}
        form.setdefault("content_type", "text/plain")
        return Client().post(reverse("genro_storage_django:upload_target"), form)

    return ask


def test_the_endpoint_issues_targets_under_the_prefix(storage, endpoint):
    answer = endpoint()
    assert answer.status_code == 200, answer.content
    target = answer.json()
    assert target["name"] == "docs/my_report.txt"
    assert send(target, BODY) < 300
    assert verify(storage, target["ticket"], prefix="docs/") == "docs/my_report.txt"
    # The next file of that name gets another one.
    assert endpoint().json()["name"].startswith("docs/my_report_")


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"size": 5000}, 400, "too_large"),
        ({"content_type": "image/png"}, 400, "content_type"),
        ({"grant": "forged"}, 403, "forged"),
        ({"size": "many"}, 400, "invalid"),
        ({"filename": ".."}, 400, "invalid"),
    ],
)
def test_the_endpoint_refuses(endpoint, fields, status, code):
    fields = dict(fields)  # the parameters are shared between the kinds
    token = fields.pop("grant", None)
    answer = endpoint(token, **fields)
    assert answer.status_code == status
    assert answer.json()["code"] == code
    assert answer.json()["error"]


def test_the_endpoint_refuses_an_expired_grant(storage, endpoint):
    token = grant(storage, prefix="", max_size=10, content_types=None, expires_in=1)
    time.sleep(1.5)
    answer = endpoint(token)
    assert (answer.status_code, answer.json()["code"]) == (403, "expired")


def test_the_endpoint_is_post_only_and_checks_csrf(endpoint):
    assert Client().get(reverse("genro_storage_django:upload_target")).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("genro_storage_django:upload_target"), {}).status_code == 403


def test_the_endpoint_on_a_read_only_mount(config):
    with override_settings(STORAGE_MOUNTS={"up": {**config, "permissions": "readonly"}}):
        token = grant(get_storage("up"), prefix="", max_size=10, content_types=None)
        form = {"grant": token, "filename": "a.txt", "size": 1, "content_type": "text/plain"}
        answer = Client().post(reverse("genro_storage_django:upload_target"), form)
    assert (answer.status_code, answer.json()["code"]) == (400, "read_only")


@pytest.fixture(params=["local", "memory"])
def view_storage(request: pytest.FixtureRequest) -> Iterator[MountStorage]:
    with override_settings(STORAGE_MOUNTS={"up": config_of(request.param, request)}):
        yield get_storage("up")


def test_the_upload_view_refuses_a_forged_token(view_storage):
    url = reverse("genro_storage_django:direct_upload", kwargs={"token": "forged"})
    answer = Client().put(url, BODY, content_type="text/plain")
    assert (answer.status_code, answer.json()["code"]) == (403, "forged")


def test_the_upload_view_is_put_only(view_storage):
    target = issue(view_storage)
    assert Client().post(target["url"], {}).status_code == 405
    assert Client().get(target["url"]).status_code == 405


def test_the_upload_view_refuses_a_declared_length_over_the_limit(view_storage):
    target = issue(view_storage, max_size=10)
    answer = Client().generic(
        "PUT", target["url"], BODY, CONTENT_TYPE="text/plain", CONTENT_LENGTH="10000000"
    )
    assert (answer.status_code, answer.json()["code"]) == (413, "too_large")
    assert not view_storage.exists(target["name"])


def test_the_upload_view_never_overwrites(view_storage):
    target = issue(view_storage)
    assert send(target, BODY) == 201
    answer = Client().generic("PUT", target["url"], b"other", CONTENT_TYPE="text/plain")
    assert (answer.status_code, answer.json()["code"]) == (409, "exists")
    assert view_storage.open(target["name"]).read() == BODY


def test_the_upload_view_streams_in_chunks(view_storage, monkeypatch):
    monkeypatch.setattr(direct_uploads, "CHUNK_SIZE", 7)
    target = issue(view_storage, max_size=len(BODY))
    assert send(target, BODY) == 201
    assert view_storage.open(target["name"]).read() == BODY
    # A body longer than it declared (WSGI cuts it at CONTENT_LENGTH; another
    # server may not): refused while streaming, nothing published.
    over = issue(view_storage, "over.txt", max_size=len(BODY) - 1)
    terms = direct_uploads.upload_terms(over["url"].rstrip("/").rsplit("/", 1)[1])
    with pytest.raises(UploadRefused) as raised:
        direct_uploads.receive(view_storage, terms, io.BytesIO(BODY), length=3)
    assert raised.value.code == "too_large"
    assert not view_storage.exists("over.txt")
    assert view_storage.listdir("")[1] == [target["name"]] or view_storage.listdir("docs")


#: The parameters only some stores honour (as in tests/test_object_parameters.py).
EXTRA = {
    "s3": {"acl": "public-read", "storage_class": "STANDARD_IA", "encryption": "AES256"},
    "gcs": {"acl": "publicRead", "storage_class": "NEARLINE"},
    "azure": {"storage_class": "Cool"},
}


SENT = {
    "s3": {
        "acl": "public-read",
        "x-amz-storage-class": "STANDARD_IA",
        "x-amz-server-side-encryption": "AES256",
    },
    "gcs": {"x-goog-acl": "public-read", "x-goog-storage-class": "NEARLINE"},
    "azure": {"x-ms-access-tier": "Cool"},
}
#: What the emulators store instead, where they ignore a field or header that
#: the real store honours: moto's POST keeps the ACL but not the storage class
#: nor the encryption; fake-gcs-server's signed PUT keeps neither x-goog-acl
#: nor x-goog-storage-class.
IGNORED: dict[str, dict[str, Any]] = {
    "s3": {"storage_class": "STANDARD", "encryption": None},
    "gcs": {"acl": "private", "storage_class": "STANDARD"},
    "azure": {},
}


@pytest.mark.parametrize("cloud", ["s3", "gcs", "azure"])
def test_the_store_specific_parameters_are_stored(cloud, request):
    from tests.test_object_parameters import stored

    config = {**config_of(cloud, request), "object_parameters": EXTRA[cloud]}
    with override_settings(STORAGE_MOUNTS={"up": config}):
        storage = get_storage("up")
        target = issue(storage)
        assert send(target, BODY) < 300
        found = stored(storage, target["name"])
    # The request carries them all, in the store's own terms.
    assert SENT[cloud].items() <= (target.get("fields") or target["headers"]).items()
    for key, value in EXTRA[cloud].items():
        assert found[key] == IGNORED[cloud].get(key, value), key


def test_the_expiry_defaults_to_the_mounts_url_expiry(config, kind):
    from django.core import signing

    # Local and memory mounts have no url_expiry: the default hour.
    cloud = kind in ("s3", "gcs", "azure")
    mount = {**config, "url_expiry": 120} if cloud else config
    expected = 120 if cloud else direct_uploads.DEFAULT_EXPIRY
    with override_settings(STORAGE_MOUNTS={"up": mount}):
        storage = get_storage("up")
        target = issue(storage)
        terms = signing.loads(target["ticket"], salt=direct_uploads.TICKET_SALT)
        assert round(terms["e"] - terms["i"]) == expected
        if kind == "gcs":
            assert "X-Goog-Expires=120" in target["url"]
        shorter = issue(storage, "b.txt", expires_in=30)
        terms = signing.loads(shorter["ticket"], salt=direct_uploads.TICKET_SALT)
        assert round(terms["e"] - terms["i"]) == 30


@pytest.mark.parametrize(
    ("cloud", "sent"),
    [
        (
            "s3",
            {
                "x-amz-server-side-encryption": "aws:kms",
                "x-amz-server-side-encryption-aws-kms-key-id": "alias/uploads",
            },
        ),
        ("gcs", {"x-goog-encryption-kms-key-name": "alias/uploads"}),
        ("azure", {"x-ms-encryption-scope": "alias/uploads"}),
    ],
)
def test_the_encryption_key_is_sent(cloud, sent, request):
    # Issued only: the emulators have no such key (or scope) to encrypt with.
    config = {**config_of(cloud, request), "object_parameters": {"encryption": "alias/uploads"}}
    with override_settings(STORAGE_MOUNTS={"up": config}):
        target = issue(get_storage("up"))
    assert sent.items() <= (target.get("fields") or target["headers"]).items()


@pytest.mark.parametrize(
    ("fixture", "unsigned"),
    [
        ("s3_mount_config", {"anon": True, "key": None, "secret": None}),
        ("gcs_mount_config", {"token": "anon"}),
        ("azure_mount_config", {"account_key": None, "sas_token": "container"}),
    ],
)
def test_mounts_whose_credentials_cannot_sign_use_the_upload_view(fixture, unsigned, request):
    config = {**request.getfixturevalue(fixture), **unsigned}
    if config.get("sas_token") == "container":
        config["sas_token"] = _container_sas()  # a SAS reaches the blobs, signs nothing
    with override_settings(STORAGE_MOUNTS={"up": config}):
        target = issue(get_storage("up"))
    assert target["method"] == "PUT"
    assert target["url"].startswith("/storage/upload/")


def _container_sas() -> str:
    import datetime

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    from tests.servers import AZURITE_ACCOUNT, AZURITE_KEY

    return generate_container_sas(
        AZURITE_ACCOUNT,
        BUCKET,
        account_key=AZURITE_KEY,
        permission=ContainerSasPermissions(read=True, list=True, write=True),
        expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5),
    )


#: Whether the server refuses a second request of the same target (the first
#: one's object is there): S3's POST has no condition; fake-gcs-server ignores
#: x-goog-if-generation-match on signed PUTs, which GCS honours (412).
SENT_ONCE = {"s3": False, "gcs": False, "azure": True, "local": True, "memory": True}


def test_a_target_sent_twice(storage, kind):
    target = issue(storage)
    assert send(target, BODY) < 300
    status = send(target, b"second")
    if SENT_ONCE[kind]:
        # 403 on Azure: the SAS's create permission does not cover an existing blob.
        assert status in (403, 409, 412)
        assert verify(storage, target["ticket"]) == target["name"]
        assert storage.open(target["name"]).read() == BODY
    else:
        assert status < 300
        assert storage.open(target["name"]).read() == b"second"
