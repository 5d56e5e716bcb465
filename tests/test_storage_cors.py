"""``manage.py storage_cors``: the rule printed, then set (``--apply``) on moto, Azurite and
fake-gcs-server, and read back from each server with a plain client."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from typing import Any

import pytest
import requests
from django.core.management import CommandError, call_command
from django.test import override_settings

from tests.servers import BUCKET
from tests.test_direct_uploads import (  # noqa: F401 (fixtures)
    gcs_signing_config,
    gcs_upload_server,
    token_server,
)


class _Recorder(BaseHTTPRequestHandler):
    requests: list[tuple[str, str, Any]] = []

    def do_PATCH(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.requests.append((self.command, self.path.split("?")[0], json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recording_gcs() -> Iterator[Any]:
    """A server standing for GCS that records the requests it answers."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Recorder.requests = []
    server.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    server.requests = _Recorder.requests  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


def cors(mount: dict[str, Any], *args: str) -> dict[str, Any]:
    out = StringIO()
    with override_settings(STORAGE_MOUNTS={"up": mount}):
        call_command("storage_cors", "up", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def origin() -> str:
    # Azure's rules are the account's, shared by every test: an origin of our own.
    return f"https://{uuid.uuid4().hex[:8]}.example.com"


def test_s3_rule_is_set_on_the_bucket(s3_mount_config):
    import boto3

    site, other = origin(), origin()
    rule = cors(s3_mount_config, "--origin", site, "--origin", f"{other}/", "--apply")
    assert rule["CORSRules"][0]["AllowedOrigins"] == [site, other]
    assert rule["CORSRules"][0]["AllowedMethods"] == ["POST"]
    client = boto3.client(
        "s3",
        endpoint_url=s3_mount_config["endpoint_url"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    stored = client.get_bucket_cors(Bucket=BUCKET)["CORSRules"]
    assert stored[0]["AllowedOrigins"] == [site, other]
    assert stored[0]["AllowedMethods"] == ["POST"]
    assert stored[0]["MaxAgeSeconds"] == 3600


@pytest.fixture
def gcs_mount(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A GCS mount whose service-account key signs (tests/test_direct_uploads.py)."""
    return dict(request.getfixturevalue("gcs_signing_config"))


def test_gcs_rule_is_patched_onto_the_bucket(gcs_mount, recording_gcs):
    site = origin()
    rule = cors(gcs_mount, "--origin", site, "--apply")
    headers = rule["cors"][0]["responseHeader"]
    assert {"Content-Type", "x-goog-content-length-range"} <= set(headers)
    endpoint = gcs_mount["endpoint_url"]
    bucket = requests.get(f"{endpoint}/storage/v1/b/{BUCKET}", timeout=10).json()
    # fake-gcs-server accepts the PATCH but keeps no "cors" (nor answers
    # preflights by it): what GCS receives is checked on a recording server.
    assert "cors" not in bucket
    cors({**gcs_mount, "endpoint_url": recording_gcs.url}, "--origin", site, "--apply")
    method, path, body = recording_gcs.requests[-1]
    assert (method, path) == ("PATCH", f"/storage/v1/b/{BUCKET}")
    assert body == rule


def test_gcs_rule_names_the_metadata_headers(gcs_mount):
    mount = {
        **gcs_mount,
        "object_parameters": {"*.pdf": {"metadata": {"b": "1"}}, "*": {"metadata": {"a": "2"}}},
    }
    rule = cors(mount, "--origin", origin())
    assert {"x-goog-meta-a", "x-goog-meta-b"} <= set(rule["cors"][0]["responseHeader"])


def test_azure_rule_makes_the_preflight_succeed(azure_mount_config):
    site = origin()
    url = f"{azure_mount_config['endpoint_url']}/{BUCKET}/some/blob.txt"
    preflight = {
        "Origin": site,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type,x-ms-blob-type,if-none-match",
    }
    assert requests.options(url, headers=preflight, timeout=10).status_code == 403
    rule = cors(azure_mount_config, "--origin", site, "--apply")
    assert rule["Cors"][0]["AllowedMethods"] == ["PUT"]
    answer = requests.options(url, headers=preflight, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == site
    # Read back as any client of the account does.
    from azure.storage.blob import BlobServiceClient

    credential = {
        "account_name": azure_mount_config["account_name"],
        "account_key": azure_mount_config["account_key"],
    }
    with BlobServiceClient(azure_mount_config["endpoint_url"], credential=credential) as client:
        rules = client.get_service_properties()["cors"]
    assert any(site in rule.allowed_origins for rule in rules)


def test_printing_changes_nothing(s3_mount_config):
    site = origin()
    assert cors(s3_mount_config, "--origin", site)["CORSRules"][0]["AllowedOrigins"] == [site]


@pytest.mark.parametrize("kind", ["local", "memory"])
def test_mounts_without_cors_say_so(kind, request):
    mount = request.getfixturevalue(f"{kind}_mount_config")
    with pytest.raises(CommandError, match="needs no CORS rule"):
        cors(mount, "--origin", "https://example.com")


def test_an_unknown_mount(memory_mount_config):
    unknown = pytest.raises(CommandError, match="No mount 'nope'")
    with override_settings(STORAGE_MOUNTS={"up": memory_mount_config}), unknown:
        call_command("storage_cors", "nope", "--origin", "https://example.com")


def test_an_origin_is_required(memory_mount_config):
    missing = pytest.raises(CommandError, match="--origin")
    with override_settings(STORAGE_MOUNTS={"up": memory_mount_config}), missing:
        call_command("storage_cors", "up")
