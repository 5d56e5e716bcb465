"""Recognisable fake secrets never show: not in migrations, checks, reprs, logs, pages or errors.

Three cloud mounts hold marked credentials (an S3 secret and session token, an
Azure account key and connection string, a GCS token path). The whole flow
runs under ``caplog`` at DEBUG: system checks, reprs, migration
serialisation, the admin pages (the browser over every mount, and Django's
technical 500 page with ``DEBUG = True``), and operations that fail against
real local servers with these wrong credentials. No text produced may hold
any of the secrets.
"""

from __future__ import annotations

import base64
import logging
import traceback
from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.files.base import ContentFile
from django.db import models
from django.db.migrations.writer import MigrationWriter
from django.test import Client, override_settings
from django.views.debug import (
    ExceptionReporter,
    SafeExceptionReporterFilter,
    get_default_exception_reporter_filter,
)

from genro_storage_django import debug as storage_debug
from genro_storage_django import get_storage
from genro_storage_django.conf import get_mount
from tests.serverkit import free_port
from tests.servers import AZURITE_ACCOUNT, BUCKET

S3_SECRET = "S3SECRETfake0123456789abcdefghijklmnopqrs"
S3_TOKEN = "S3TOKENfake0123456789"
AZURE_KEY = base64.b64encode(b"AZUREKEYfake-0123456789-0123456789-0123456789").decode()
AZURE_CONNECTION_KEY = base64.b64encode(b"AZURECONNfake-0123456789-012345678").decode()
GCS_TOKEN_PATH = "/nonexistent/GCSTOKENfake/credentials.json"
SECRETS = [S3_SECRET, S3_TOKEN, AZURE_KEY, AZURE_CONNECTION_KEY, GCS_TOKEN_PATH]
# Checked too, in the forms a library could print them.
MARKERS = [*SECRETS, "S3SECRETfake", "S3TOKENfake", "GCSTOKENfake"]


def mounts(s3_url: str, azure_url: str) -> dict[str, dict[str, Any]]:
    return {
        "s3-secret": {
            "type": "s3",
            "bucket": BUCKET,
            "prefix": "secrets",
            "endpoint_url": s3_url,
            "key": "AKIDfakeKEYID",
            "secret": S3_SECRET,
            "token": S3_TOKEN,
        },
        "s3-down": {
            "type": "s3",
            "bucket": BUCKET,
            "endpoint_url": f"http://127.0.0.1:{free_port()}",
            "key": "AKIDfakeKEYID",
            "secret": S3_SECRET,
            "s3_options": {"config_kwargs": {"retries": {"max_attempts": 1}}},
        },
        "azure-secret": {
            "type": "azure",
            "container": BUCKET,
            "account_name": AZURITE_ACCOUNT,
            "account_key": AZURE_KEY,
            "endpoint_url": azure_url,
        },
        "azure-conn": {
            "type": "azure",
            "container": BUCKET,
            "connection_string": (
                f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
                f"AccountKey={AZURE_CONNECTION_KEY};BlobEndpoint={azure_url};"
            ),
        },
        "gcs-secret": {
            "type": "gcs",
            "bucket": BUCKET,
            "token": GCS_TOKEN_PATH,
            "project": "test-project",
            "endpoint_url": f"http://127.0.0.1:{free_port()}",
        },
        "plain": {"type": "memory", "serve": True},
    }


class Seen:
    """Every text the flow produced, to search for the secrets at the end."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []
        self.errors: list[tuple[str, BaseException]] = []

    def add(self, where: str, text: Any) -> None:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self.texts.append((where, str(text)))

    def error(self, where: str, error: BaseException) -> None:
        self.errors.append((where, error))
        self.add(f"{where}: str", str(error))
        self.add(f"{where}: repr", repr(error))
        self.add(f"{where}: traceback", "".join(traceback.format_exception(error)))

    def leaks(self) -> list[tuple[str, str]]:
        found = []
        for where, text in self.texts:
            for marker in MARKERS:
                if marker in text and not known(where, marker, text):
                    found.append((where, marker))
        return found


def known(where: str, marker: str, text: str) -> bool:
    """The documented exceptions (docs/reliability.rst), each checked as narrowly as it can be."""
    # A URL signed with temporary credentials must carry their session token.
    if where == "s3-secret result" and "X-Amz-Security-Token=" in text:
        return marker.startswith("S3TOKEN")
    # botocore logs the signed request headers at DEBUG, the session token among them.
    if where in ("log botocore.endpoint", "log botocore.auth", "log text"):
        return marker.startswith("S3TOKEN")
    return False


def failing_calls(storage) -> list:
    return [
        lambda: storage.exists("a.txt"),
        lambda: storage.listdir(""),
        lambda: storage.size("a.txt"),
        lambda: storage.open("a.txt").read(),
        lambda: storage.save("a.txt", ContentFile(b"data")),
        lambda: storage.delete("a.txt"),
        lambda: storage.url("a.txt"),
    ]


SAFE_FILTER = "genro_storage_django.debug.SafeExceptionReporterFilter"


@pytest.fixture
def secret_mounts(s3_server, azure_server):
    with override_settings(
        STORAGE_MOUNTS=mounts(s3_server.url, azure_server.url),
        STORAGE_ADMIN_MOUNTS=None,
        DEFAULT_EXCEPTION_REPORTER_FILTER=SAFE_FILTER,
    ):
        # Django caches the filter for the life of the process.
        get_default_exception_reporter_filter.cache_clear()
        yield
    get_default_exception_reporter_filter.cache_clear()


@pytest.mark.django_db
def test_secrets_never_show(secret_mounts, caplog, admin_user) -> None:
    caplog.set_level(logging.DEBUG)
    seen = Seen()
    names = ["s3-secret", "s3-down", "azure-secret", "azure-conn", "gcs-secret"]

    for message in run_checks():
        seen.add("check", f"{message!r} {message}")
    for name in names:
        storage = get_storage(name)
        seen.add("repr storage", repr(storage))
        seen.add("str storage", str(storage))
        seen.add("repr mount", repr(get_mount(name)))
        seen.add("deconstruct", repr(storage.deconstruct()))
        seen.add("repr backend", repr(storage.backend))
        field = models.FileField(storage=storage, upload_to="x/")
        seen.add("migration", MigrationWriter.serialize(field)[0])
        for call in failing_calls(storage):
            try:
                seen.add(f"{name} result", repr(call()))
            except Exception as error:
                seen.error(name, error)

    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    pages = ["/admin/", "/admin/genro_storage_django/storagemount/"]
    for name in names:
        pages += [
            f"/admin/genro_storage_django/storagemount/{name}/browse/",
            f"/admin/genro_storage_django/storagemount/{name}/file/a.txt",
            f"/admin/genro_storage_django/storagemount/{name}/download/a.txt",
        ]
    for page in pages:
        response = client.get(page)
        seen.add(f"page {page} {response.status_code}", response.content)
    # The error report mailed to ADMINS (DEBUG False): settings and each frame's locals.
    for where, error in list(seen.errors):
        reporter = ExceptionReporter(None, type(error), error, error.__traceback__, is_email=True)
        seen.add(f"report {where}", reporter.get_traceback_text())
        seen.add(f"report html {where}", reporter.get_traceback_html())

    for record in caplog.records:
        seen.add(f"log {record.name}", record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            seen.error(f"log {record.name}", record.exc_info[1])
    seen.add("log text", caplog.text)

    print(f"texts checked: {len(seen.texts)}, secrets: {len(SECRETS)}")
    leaks = sorted(set(seen.leaks()))
    print("\n".join(map(str, leaks)))
    assert leaks == []


def test_bad_secret_values_in_checks() -> None:
    # Wrong types and unknown keys are reported without their values.
    bad = {
        "one": {"type": "s3", "bucket": "b", "secret": [S3_SECRET]},
        "two": {"type": "s3", "bucket": "b", "secret_key": S3_SECRET},
        "three": {"type": "azure", "container": "c", "account_key": {S3_SECRET: 1}},
        "four": {"type": "gcs", "bucket": 3, "token": GCS_TOKEN_PATH},
        "five": {"type": "azure", "container": "c", "connection_string": S3_SECRET},
    }
    with override_settings(STORAGE_MOUNTS=bad):
        messages = run_checks()
    text = " ".join(f"{m.msg} {m.hint}" for m in messages)
    assert "genro_storage_django.E" in " ".join(m.id for m in messages)
    for marker in MARKERS:
        assert marker not in text


def test_a_connection_string_needs_the_app_error_report_filter(azure_server) -> None:
    # Django hides settings keys matching KEY|SECRET|TOKEN|PASS...: not
    # 'connection_string', which holds the account key. Check W002 says so.
    azure = {"azure-conn": mounts("http://127.0.0.1:9", azure_server.url)["azure-conn"]}
    with override_settings(STORAGE_MOUNTS=azure):
        warned = run_checks(tags=["storage_mounts"])
        assert [m.id for m in warned] == ["genro_storage_django.W002"]
        assert "'azure-conn'" in warned[0].msg and SAFE_FILTER in warned[0].hint
        shown = str(SafeExceptionReporterFilter().get_safe_settings()["STORAGE_MOUNTS"])
        assert AZURE_CONNECTION_KEY in shown
        with override_settings(DEFAULT_EXCEPTION_REPORTER_FILTER=SAFE_FILTER):
            assert run_checks(tags=["storage_mounts"]) == []
            safe = storage_debug.SafeExceptionReporterFilter().get_safe_settings()
            assert AZURE_CONNECTION_KEY not in str(safe["STORAGE_MOUNTS"])
            # Everything Django's own filter hides stays hidden.
            assert safe["SECRET_KEY"] == SafeExceptionReporterFilter.cleansed_substitute
    # A mount with a separate account key needs nothing: Django hides 'account_key'.
    with override_settings(STORAGE_MOUNTS={"a": mounts("x", "y")["azure-secret"]}):
        assert run_checks(tags=["storage_mounts"]) == []
