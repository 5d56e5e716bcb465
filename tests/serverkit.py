"""What the tests and the benchmarks both need to run local servers and check their effects.

* ``free_port()`` and ``wait_for_port()``: every server binds to 127.0.0.1;
* ``run_process()``: a server in its own process, for the duration of a ``with`` block;
* ``serve_in_thread()``: a ``serve_forever()`` server in a thread of this process, likewise;
* ``CountingApp`` and ``RequestLog``: a WSGI layer that records every request a server
  receives, as ``(method, path, range header)``;
* ``snapshot()``: every path under a directory with the content of each file, to
  compare before and after.

Standard library only: ``benchmarks/servers.py`` imports it, and so does the
benchmarks' comparison venv, which has no pytest, no moto and its own Django.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

HOST = "127.0.0.1"


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for_port(
    port: int,
    process: subprocess.Popen | None = None,
    timeout: float = 30,
    name: str | None = None,
) -> None:
    """Return once 127.0.0.1:``port`` accepts connections.

    Raise ``RuntimeError`` (naming the server ``name``) if ``process`` exits first
    or nothing answers within ``timeout`` seconds.
    """
    name = name or f"server on port {port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not start within {timeout} s")


@contextmanager
def run_process(
    args: list[str],
    log_file: Path,
    port: int,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    name: str | None = None,
) -> Iterator[subprocess.Popen]:
    """Run the server ``args`` while the block runs: ``with run_process(...) as process:``.

    Its output goes to ``log_file`` (replaced), its stdin is ``/dev/null``, it runs
    in ``cwd`` (by default the log's directory) and the block starts once it
    listens on ``port``. On the way out it is terminated, and killed if it is
    still running 10 s later.
    """
    with open(log_file, "wb") as log:
        process = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd or log_file.parent,
        )
    try:
        wait_for_port(port, process, name=name)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Serving(Protocol):
    """A ``socketserver``-style server (``http.server``, Werkzeug's ``make_server``...)."""

    def serve_forever(self) -> None: ...

    def shutdown(self) -> None: ...

    def server_close(self) -> None: ...


ServerT = TypeVar("ServerT", bound=Serving)


@contextmanager
def serve_in_thread(server: ServerT) -> Iterator[ServerT]:
    """Serve ``server`` from a thread while the block runs; then shut it down and close it."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Recorder(Protocol):
    def record(self, environ: dict[str, Any]) -> None: ...


class CountingApp:
    """WSGI middleware: hands each request to ``log.record(environ)``, then to ``app``."""

    def __init__(self, app: Callable, log: Recorder) -> None:
        self.app = app
        self.log = log

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        self.log.record(environ)
        return self.app(environ, start_response)


#: The WSGI names of the headers that carry a checksum of the body.
CHECKSUM_HEADERS = ("HTTP_CONTENT_MD5", "HTTP_X_AMZ_CHECKSUM_", "HTTP_X_GOOG_HASH")


def request_entry(environ: dict[str, Any]) -> tuple[str, str, str, dict[str, str]]:
    """Return what a ``RequestLog`` keeps of a WSGI ``environ``.

    ``(method, path, range header, {checksum header: value})``.
    """
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith(CHECKSUM_HEADERS)
    }
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    return method, path, environ.get("HTTP_RANGE") or "", headers


@dataclass
class RequestLog:
    """The requests a server received, as ``(method, path, range header)``, for counting.

    ``checksums`` has, for each request, ``(method, path, {header: value})``
    with the headers of ``CHECKSUM_HEADERS`` it carried.
    """

    requests: list[tuple[str, str, str]] = field(default_factory=list)
    checksums: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, byte_range: str | None = None) -> None:
        with self.lock:
            self.requests.append((method, path, byte_range or ""))

    def record(self, environ: dict[str, Any]) -> None:
        """Add the request of a WSGI ``environ`` (``CountingApp`` calls it)."""
        method, path, byte_range, headers = request_entry(environ)
        with self.lock:
            self.requests.append((method, path, byte_range))
            self.checksums.append((method, path, headers))

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.checksums.clear()

    def snapshot(self) -> list[tuple[str, str, str]]:
        with self.lock:
            return list(self.requests)


class FileRecorder:
    """Writes each request of a WSGI ``environ`` as a JSON line, for a ``FileRequestLog``.

    For a server in another process. The line is flushed before the request is
    handled, so it is in the file before its client has the answer.
    """

    def __init__(self, path: Path) -> None:
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 -- open as long as the server
        self._lock = threading.Lock()

    def record(self, environ: dict[str, Any]) -> None:
        line = json.dumps(request_entry(environ)) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()


class FileRequestLog:
    """The ``RequestLog`` of a server in another process: its ``FileRecorder``'s file, read back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._start = 0

    def _entries(self) -> list[list[Any]]:
        with open(self.path, "rb") as file:
            file.seek(self._start)
            data = file.read()
        complete = data[: data.rfind(b"\n") + 1]
        return [json.loads(line) for line in complete.splitlines()]

    def clear(self) -> None:
        self._start = self.path.stat().st_size

    def snapshot(self) -> list[tuple[str, str, str]]:
        return [(method, path, byte_range) for method, path, byte_range, _ in self._entries()]

    @property
    def requests(self) -> list[tuple[str, str, str]]:
        return self.snapshot()

    @property
    def checksums(self) -> list[tuple[str, str, dict[str, str]]]:
        return [(method, path, headers) for method, path, _, headers in self._entries()]


def snapshot(root: Path, skip: Path | None = None) -> dict[str, bytes | None]:
    """Every path under ``root`` (relative to it) but ``skip`` and what ``skip`` holds.

    A file maps to its content, a directory to ``None``.
    """
    found: dict[str, bytes | None] = {}
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(directory, d) != skip]
        for entry in dirs:
            found[os.path.relpath(os.path.join(directory, entry), root)] = None
        for entry in files:
            path = os.path.join(directory, entry)
            found[os.path.relpath(path, root)] = Path(path).read_bytes()
    return found
