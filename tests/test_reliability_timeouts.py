"""A silent server makes a call fail within the mount's timeouts, never hang.

Each mount reaches its real server through the suite's fault proxy; once the
client is warm, the proxy black-holes every byte (the server never hears of
the request, the client never hears back), as a dead load balancer does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from genro_storage_django import get_storage
from tests.faultproxy import FaultProxy
from tests.servers import Server

READ_TIMEOUT = 1.0
#: What may come on top of the timeout: the error's way back, a back-off step.
SLACK = 0.5


def _port(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1].split("/")[0])


def _through(proxy: FaultProxy, url: str) -> str:
    return url.replace(f":{_port(url)}", f":{proxy.port}", 1)


@pytest.fixture
def silent(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, Any], FaultProxy]]:
    """A mount of each network kind behind a proxy that will black-hole it."""
    kind = request.param
    config = dict(request.getfixturevalue(f"{kind}_mount_config"))
    key = "base_url" if kind == "http" else "endpoint_url"
    server: Server = request.getfixturevalue(f"{kind}_server")
    with FaultProxy(_port(server.url)) as proxy:
        config[key] = _through(proxy, config[key])
        config.update(connect_timeout=READ_TIMEOUT, read_timeout=READ_TIMEOUT)
        if kind != "http":
            config["retries"] = 0
        yield kind, config, proxy


@pytest.mark.parametrize("silent", ["s3", "gcs", "azure", "http"], indirect=True)
def test_a_black_holed_server_fails_within_the_timeout(silent):
    kind, config, proxy = silent
    with override_settings(STORAGE_MOUNTS={"far": config}):
        storage = get_storage("far")
        readable = "hello.txt" if kind == "http" else "probe.txt"
        if kind != "http":
            storage.save(readable, ContentFile(b"probe"))
        assert storage.exists(readable)  # warm: client made, connection open
        proxy.blackhole = True
        started = time.monotonic()
        with pytest.raises(OSError) as failure:
            storage.size(readable)
        elapsed = time.monotonic() - started
    assert elapsed <= READ_TIMEOUT * 1.1 + SLACK, elapsed
    assert isinstance(failure.value, TimeoutError)
    assert "far" in str(failure.value), failure.value


@pytest.mark.parametrize("silent", ["s3"], indirect=True)
def test_retries_are_attempts_after_the_first(silent):
    _, config, proxy = silent
    config["retries"] = 2
    with override_settings(STORAGE_MOUNTS={"far": config}):
        storage = get_storage("far")
        storage.save("probe.txt", ContentFile(b"probe"))
        proxy.blackhole = True
        started = time.monotonic()
        with pytest.raises(OSError):
            storage.size("probe.txt")
        elapsed = time.monotonic() - started
    # Three attempts of one second each, with s3fs's back-off between (0.1 s x 1.7^n).
    assert 3 * READ_TIMEOUT <= elapsed <= 3 * READ_TIMEOUT * 1.1 + 1.0, elapsed


@pytest.mark.parametrize("silent", ["gcs"], indirect=True)
def test_gcs_retries_with_gcsfs_back_off(silent):
    _, config, proxy = silent
    del config["retries"]  # the default: one attempt more
    with override_settings(STORAGE_MOUNTS={"far": config}):
        storage = get_storage("far")
        storage.save("probe.txt", ContentFile(b"probe"))
        proxy.blackhole = True
        started = time.monotonic()
        with pytest.raises(OSError, match="far"):
            storage.size("probe.txt")
        elapsed = time.monotonic() - started
    # Two attempts, and gcsfs's back-off between them: 1 s plus up to 1 s at random.
    assert 2 * READ_TIMEOUT + 1 <= elapsed <= 2 * READ_TIMEOUT * 1.1 + 2 + SLACK, elapsed


@pytest.mark.parametrize("silent", ["azure"], indirect=True)
def test_azure_does_not_retry_a_read_timeout(silent):
    _, config, proxy = silent
    config["retries"] = 2
    with override_settings(STORAGE_MOUNTS={"far": config}):
        storage = get_storage("far")
        storage.save("probe.txt", ContentFile(b"probe"))
        proxy.blackhole = True
        started = time.monotonic()
        with pytest.raises(OSError, match="far"):
            storage.size("probe.txt")
        elapsed = time.monotonic() - started
    assert elapsed <= READ_TIMEOUT * 1.1 + SLACK, elapsed


@pytest.mark.parametrize("silent", ["s3"], indirect=True)
def test_failed_requests_are_retried(silent):
    _, config, proxy = silent
    config["retries"] = 2
    with override_settings(STORAGE_MOUNTS={"far": config}):
        storage = get_storage("far")
        storage.save("probe.txt", ContentFile(b"probe"))
        proxy.fail_next(2, status=503)
        assert storage.size("probe.txt") == 5
        proxy.fail_next(3, status=503)
        with pytest.raises(OSError):
            storage.size("probe.txt")


@pytest.mark.parametrize("kind", ["s3", "gcs"])
@pytest.mark.parametrize("options", [{"connect_timeout": 0}, {"read_timeout": -1}, {"retries": -1}])
def test_bad_timeouts_are_reported_by_check(request, kind, options):
    from django.core.checks import run_checks

    config = request.getfixturevalue(f"{kind}_mount_config")
    with override_settings(STORAGE_MOUNTS={"far": {**config, **options}}):
        messages = [m for m in run_checks() if m.id == "genro_storage_django.E030"]
    assert len(messages) == 1
    assert "'far'" in messages[0].msg
