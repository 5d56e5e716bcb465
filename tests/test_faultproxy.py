"""The suite's fault proxy does what the tests that rely on it assume."""

from __future__ import annotations

import http.client
import http.server
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.faultproxy import FaultProxy


class _Echo(http.server.BaseHTTPRequestHandler):
    """Answer every request with its own body, so a test sees what reached the server."""

    protocol_version = "HTTP/1.1"

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def echo_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def _put(connection: http.client.HTTPConnection, body: bytes) -> tuple[int, bytes]:
    connection.request("PUT", "/x", body=body)
    response = connection.getresponse()
    return response.status, response.read()


def test_forwards_and_counts_requests_on_one_connection(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
        assert _put(connection, b"one") == (200, b"one")
        assert _put(connection, b"two" * 50_000) == (200, b"two" * 50_000)
        assert proxy.requests == 2


def test_latency_is_paid_once_per_request(echo_port: int) -> None:
    with FaultProxy(echo_port, latency=0.1) as proxy:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
        started = time.monotonic()
        for _ in range(3):
            _put(connection, b"x" * 200_000)
        elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 0.9


def test_fail_next_answers_without_reaching_the_server(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        proxy.fail_next(2, status=503)
        statuses = []
        for _ in range(3):
            connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
            statuses.append(_put(connection, b"payload")[0])
        assert statuses == [503, 503, 200]


def test_reset_after_cuts_the_connection(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        proxy.reset_after = 1000
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            _put(connection, b"y" * 100_000)


def test_flip_byte_changes_one_bit_upstream(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
        connection.connect()
        proxy.flip_byte_at = 10_000  # far past the request line and headers
        connection.close()
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
        body = bytes(20_000)
        status, echoed = _put(connection, body)
    assert status == 200
    assert len(echoed) == len(body)
    assert sum(a != b for a, b in zip(echoed, body, strict=True)) == 1


def test_flip_down_changes_one_bit_downstream(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        proxy.flip_down_at = 10_000  # far past the status line and headers
        proxy.record_heads = True
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
        body = bytes(20_000)
        status, echoed = _put(connection, body)
    assert status == 200
    assert sum(a != b for a, b in zip(echoed, body, strict=True)) == 1
    assert [head.split(b"\r\n")[0] for head in proxy.heads] == [b"PUT /x HTTP/1.1"]


def test_blackhole_never_answers(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        proxy.blackhole = True
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=0.5) as sock:
            sock.sendall(b"PUT /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            with pytest.raises(TimeoutError):
                sock.recv(1)


def test_fail_next_answers_a_client_waiting_for_100_continue(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        proxy.fail_next(1, status=503)
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
            sock.sendall(b"PUT /x HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 503 ")
