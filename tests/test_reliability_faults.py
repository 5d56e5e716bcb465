"""Object stores that stop, restart or answer slowly in the middle of a save.

Every server here is this module's own (never the shared session ones):

* an in-process moto server (``ThreadedMotoServer``) on its own port, whose
  data outlive a stop as a real store's would, to check that nothing partial
  is left under the final name;
* a ``moto_server`` process, killed with SIGKILL mid-upload and restarted;
* an Azurite process with on-disk persistence, stopped and restarted;
* a "slow" server that accepts connections and never answers.

Each fault must give a clear exception (an ``OSError`` naming the mount or the
failure), leave no object under the final name, and a retry must store the
right bytes (checked with SHA-256).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files import File
from django.test import override_settings

from genro_storage_django import get_storage
from tests.serverkit import free_port, wait_for_port
from tests.servers import AZURITE_ACCOUNT, AZURITE_KEY, ROOT, RestartableS3

MiB = 1024 * 1024
BUCKET = "reliability-faults"
DATA = os.urandom(16 * MiB)
DIGEST = hashlib.sha256(DATA).hexdigest()

_faults: list[str] = []


class FailingSource(File):
    """``DATA`` in 1 MiB chunks; ``action`` runs once ``limit`` bytes were handed out."""

    def __init__(self, limit: int | None = None, action: Callable[[], None] | None = None):
        super().__init__(None, "big.bin")
        self.limit, self.action = limit, action
        self.size = len(DATA)

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        for start in range(0, len(DATA), MiB):
            if self.action and self.limit is not None and start >= self.limit:
                action, self.action = self.action, None
                action()
            yield DATA[start : start + MiB]

    def __bool__(self) -> bool:
        return True


def s3_mount(url: str) -> dict[str, Any]:
    # Small parts (a 16 MiB file is a multipart upload), one attempt, short timeouts.
    config = {
        "signature_version": "s3v4",
        "retries": {"max_attempts": 1},
        "connect_timeout": 2,
        "read_timeout": 2,
    }
    return {
        "type": "s3",
        "bucket": BUCKET,
        "endpoint_url": url,
        "key": "testing",
        "secret": "testing",
        "s3_options": {"default_block_size": 5 * MiB, "config_kwargs": config},
    }


def fewer_s3fs_retries(storage) -> None:
    # s3fs retries timeouts on its own, 5 times, whatever botocore's config says.
    storage.backend.fs.retries = 1


def make_bucket(url: str) -> None:
    request = urllib.request.Request(f"{url}/{BUCKET}", method="PUT")
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except urllib.error.HTTPError as error:
        if error.code != 409:  # already there
            raise


def digest(storage, name: str) -> str:
    with storage.open(name, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def keys(storage) -> list[str]:
    backend = storage.backend
    return sorted(name for name, _ in backend.find(backend.root))


def pending_uploads(storage) -> list[Any]:
    response = storage.backend.fs.call_s3("list_multipart_uploads", Bucket=BUCKET)
    return response.get("Uploads", [])


# S3, in process: the data survive a stop.


@pytest.fixture
def threaded_s3() -> Iterator[RestartableS3]:
    s3 = RestartableS3()
    s3.start()
    make_bucket(s3.url)
    with override_settings(STORAGE_MOUNTS={"s3": s3_mount(s3.url)}):
        yield s3
        if s3.server is None:
            s3.start()
        get_storage("s3").backend.fs.rm(BUCKET, recursive=True)
    s3.stop()


def test_s3_stopped_mid_save(threaded_s3: RestartableS3) -> None:
    _faults.append("s3 stopped mid-save")
    storage = get_storage("s3")
    with pytest.raises(OSError) as caught:
        storage.save("big.bin", FailingSource(11 * MiB, threaded_s3.stop))
    assert "s3" in str(caught.value) or "Endpoint" in str(caught.value)
    threaded_s3.start()
    assert keys(storage) == []
    assert storage.save("big.bin", FailingSource()) == "big.bin"
    assert digest(storage, "big.bin") == DIGEST


def test_s3_source_fails_mid_save_aborts_the_upload(threaded_s3: RestartableS3) -> None:
    _faults.append("s3 source failed mid-save")
    storage = get_storage("s3")

    def fail() -> None:
        raise OSError("source disk failed")

    with pytest.raises(OSError, match="source disk failed"):
        storage.save("big.bin", FailingSource(11 * MiB, fail))
    assert keys(storage) == []
    assert pending_uploads(storage) == []
    storage.save("big.bin", FailingSource())
    assert digest(storage, "big.bin") == DIGEST


def test_s3_restarted_between_two_calls(threaded_s3: RestartableS3) -> None:
    _faults.append("s3 restarted between calls")
    storage = get_storage("s3")
    storage.save("big.bin", FailingSource())
    threaded_s3.stop()
    threaded_s3.start()
    # The pooled connections point at the old server: the next calls must still work.
    assert storage.exists("big.bin")
    assert digest(storage, "big.bin") == DIGEST
    assert storage.save("big.bin", FailingSource()) != "big.bin"


# S3, a moto_server process killed with SIGKILL.


def moto_process(port: int, log: Path) -> subprocess.Popen:
    executable = Path(sys.executable).parent / "moto_server"
    with open(log, "ab") as handle:
        process = subprocess.Popen(
            [str(executable), "-H", "127.0.0.1", "-p", str(port)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    wait_for_port(port, process)
    return process


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def test_s3_process_killed_mid_save_then_restarted(tmp_path: Path) -> None:
    _faults.append("moto_server killed mid-save")
    _faults.append("moto_server restarted between calls")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "moto.log"
    processes = [moto_process(port, log)]
    try:
        make_bucket(url)
        with override_settings(STORAGE_MOUNTS={"s3": s3_mount(url)}):
            storage = get_storage("s3")
            started = time.monotonic()
            with pytest.raises(OSError):
                storage.save("big.bin", FailingSource(6 * MiB, lambda: processes[0].kill()))
            assert time.monotonic() - started < 60
            stop_process(processes[0])
            processes.append(moto_process(port, log))
            make_bucket(url)  # a new, empty server
            assert not storage.exists("big.bin")
            assert storage.save("big.bin", FailingSource()) == "big.bin"
            assert digest(storage, "big.bin") == DIGEST
    finally:
        for process in processes:
            stop_process(process)


# A server that accepts connections and never answers.


@pytest.fixture
def silent_server() -> Iterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def test_s3_slow_server_times_out(silent_server: str) -> None:
    _faults.append("s3 server never answers (timeouts)")
    with override_settings(STORAGE_MOUNTS={"s3": s3_mount(silent_server)}):
        storage = get_storage("s3")
        fewer_s3fs_retries(storage)
        for call in (
            lambda: storage.exists("a.txt"),
            lambda: storage.save("a.txt", FailingSource()),
        ):
            started = time.monotonic()
            with pytest.raises(OSError) as caught:
                call()
            elapsed = time.monotonic() - started
            # read_timeout 2 s, one botocore attempt, one s3fs attempt.
            assert elapsed < 20, elapsed
            assert "timeout" in repr(caught.value).lower() or "Timeout" in str(caught.value)


# Azure: Azurite with its data on disk, killed and restarted.


def azurite(port: int, location: Path, log: Path) -> subprocess.Popen:
    executable = ROOT / ".servers" / "node_modules" / ".bin" / "azurite-blob"
    if not executable.exists():
        pytest.skip("Azurite is not installed (bash scripts/test-deps.sh)")
    args = [
        str(executable),
        *("--blobHost", "127.0.0.1", "--blobPort", str(port)),
        *("--location", str(location)),
        "--skipApiVersionCheck",
        "--disableTelemetry",
    ]
    with open(log, "ab") as handle:
        process = subprocess.Popen(
            args, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    wait_for_port(port, process)
    return process


def test_azure_stopped_mid_save_then_restarted(tmp_path: Path) -> None:
    _faults.append("azurite stopped mid-save")
    port = free_port()
    location = tmp_path / "azurite"
    log = tmp_path / "azurite.log"
    url = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    processes = [azurite(port, location, log)]
    try:
        from azure.storage.blob import BlobServiceClient

        credential = {"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}

        def create_container() -> None:
            from azure.core.exceptions import ResourceExistsError

            with (
                BlobServiceClient(url, credential=credential) as client,
                contextlib.suppress(ResourceExistsError),
            ):
                client.create_container(BUCKET)

        create_container()
        mount = {
            "type": "azure",
            "container": BUCKET,
            "account_name": AZURITE_ACCOUNT,
            "account_key": AZURITE_KEY,
            "endpoint_url": url,
        }
        with override_settings(STORAGE_MOUNTS={"az": mount}):
            storage = get_storage("az")
            fs = storage.backend.fs
            fs.blocksize = 4 * MiB  # several blocks, several requests
            # adlfs offers no retry setting, and the SDK's backoff starts at 15 s: one try.
            retry = fs.service_client._config.retry_policy
            retry.total_retries = retry.connect_retries = retry.read_retries = 0
            started = time.monotonic()
            with pytest.raises(OSError):
                # SIGTERM: Azurite writes its metadata out as it stops (a SIGKILL
                # would lose the container too, as it keeps it in memory until then).
                storage.save("big.bin", FailingSource(9 * MiB, processes[0].terminate))
            assert time.monotonic() - started < 120
            stop_process(processes[0])
            time.sleep(1)  # Azurite's port is free about a second after a kill
            processes.append(azurite(port, location, log))
            # Azurite saves its metadata every few seconds: a stop may lose the container.
            create_container()
            assert not storage.exists("big.bin")
            assert keys(storage) == []
            assert storage.save("big.bin", FailingSource()) == "big.bin"
            assert digest(storage, "big.bin") == DIGEST
    finally:
        for process in processes:
            stop_process(process)
        shutil.rmtree(location, ignore_errors=True)


def test_faults_injected() -> None:
    if _faults:
        print(f"faults injected: {len(_faults)}: {_faults}")
