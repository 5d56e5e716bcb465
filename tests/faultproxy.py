"""A TCP proxy for 127.0.0.1 that adds the faults a real network has.

``FaultProxy(target_port)`` forwards every connection to the server on
``target_port``. While it runs, a test (or a benchmark) can set:

* ``latency``: seconds added once per request, that is each time the client
  starts sending after having received an answer (an HTTP/1.1 request on a
  kept-alive connection; ``100 Continue`` is not an answer), which is how a
  bucket tens of milliseconds away behaves;
* ``fail_next(n, status=503)``: the next ``n`` HTTP requests are answered with
  ``status`` and the connection is closed, without reaching the server;
* ``reset_after``: reset each new connection after that many bytes sent
  upstream;
* ``blackhole``: accept connections and never answer, on connections already
  open too;
* ``flip_byte_at``: flip one bit of the upstream byte at that offset of each
  new connection (a body corrupted in flight);
* ``flip_down_at``: the same for the downstream byte at that offset (a
  download corrupted in flight);
* ``reset_down_after``: reset the first connection whose downstream passes
  that many bytes, once (a download cut midway); it is None again after.

With ``record_heads`` set, it keeps in ``heads`` the request line and headers
of each request, as the client sent them (what an emulator that logs nothing
received).

The proxy runs its own event loop in a daemon thread, so it serves
synchronous and asynchronous clients alike. Standard library only:
``benchmarks/`` imports it too.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from types import TracebackType

HOST = "127.0.0.1"
CHUNK = 64 * 1024


class FaultProxy:
    """Forward 127.0.0.1:``port`` to 127.0.0.1:``target_port``, adding faults."""

    def __init__(self, target_port: int, *, latency: float = 0.0) -> None:
        self.target_port = target_port
        self.latency = latency
        self.reset_after: int | None = None
        self.flip_byte_at: int | None = None
        self.flip_down_at: int | None = None
        self.reset_down_after: int | None = None
        self.blackhole = False
        self.requests = 0
        self.record_heads = False
        self.heads: list[bytes] = []
        # Requests waiting out the latency at once, now and at most: above one,
        # the client's requests overlap (its latency is hidden).
        self.delayed = 0
        self.most_delayed = 0
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next ``count`` requests with ``status`` instead of forwarding them."""
        with self._lock:
            self._failures.extend([status] * count)

    def start(self) -> FaultProxy:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = started.result(timeout=10)
        return self

    def stop(self) -> None:
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._connection, HOST, 0)
        sock: socket.socket = self._server.sockets[0]
        return int(sock.getsockname()[1])

    async def _close(self) -> None:
        assert self._server is not None
        self._server.close()
        # Connections still open would keep wait_closed() waiting (Python 3.12+).
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()

    def _next_failure(self) -> int | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    async def _connection(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> None:
        if self.blackhole:
            await _drain_forever(client_r)
            client_w.close()
            return
        try:
            server_r, server_w = await asyncio.open_connection(HOST, self.target_port)
        except OSError:
            client_w.close()
            return
        turn = _Turn()
        upstream = _Upstream(self, client_r, server_w, client_w, turn)
        downstream = asyncio.ensure_future(_pipe_down(self, server_r, client_w, turn))
        try:
            await upstream.run()
        finally:
            downstream.cancel()
            for writer in (server_w, client_w):
                writer.close()


class _Turn:
    """Whose turn it is on one connection: a new request starts after a response."""

    def __init__(self) -> None:
        self.answered = True


class _Upstream:
    """Client → server bytes of one connection, where the faults are applied."""

    def __init__(
        self,
        proxy: FaultProxy,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        client: asyncio.StreamWriter,
        turn: _Turn,
    ) -> None:
        self.proxy, self.reader, self.writer, self.client, self.turn = (
            proxy,
            reader,
            writer,
            client,
            turn,
        )
        self.sent = 0
        self.reset_after = proxy.reset_after
        self.flip_at = proxy.flip_byte_at

    async def run(self) -> None:
        while data := await self.reader.read(CHUNK):
            if self.turn.answered:
                self.turn.answered = False
                if not await self._new_request(data):
                    return
            if not await self._forward(data):
                return

    async def _new_request(self, data: bytes) -> bool:
        self.proxy.requests += 1
        if self.proxy.record_heads:
            self.proxy.heads.append(data.partition(b"\r\n\r\n")[0])
        status = self.proxy._next_failure()
        if status is not None:
            await _refuse(self.reader, self.client, data, status)
            return False
        if self.proxy.latency:
            proxy = self.proxy
            proxy.delayed += 1
            proxy.most_delayed = max(proxy.most_delayed, proxy.delayed)
            try:
                await asyncio.sleep(proxy.latency)
            finally:
                proxy.delayed -= 1
        return True

    async def _forward(self, data: bytes) -> bool:
        if self.proxy.blackhole:
            return True  # swallowed: the server never hears of it, the client waits
        data = _flipped(data, self.sent, self.flip_at)
        if self.reset_after is not None and self.sent + len(data) > self.reset_after:
            self.writer.write(data[: self.reset_after - self.sent])
            _reset(self.client)
            return False
        self.sent += len(data)
        self.writer.write(data)
        await self.writer.drain()
        return True


def _flipped(data: bytes, offset: int, flip_at: int | None) -> bytes:
    """Return ``data``, found at ``offset`` of its stream, with the bit at ``flip_at`` flipped."""
    if flip_at is None or not offset <= flip_at < offset + len(data):
        return data
    index = flip_at - offset
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


async def _pipe_down(
    proxy: FaultProxy,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    turn: _Turn,
) -> None:
    received, flip_at = 0, proxy.flip_down_at
    try:
        while data := await reader.read(CHUNK):
            # "100 Continue" is an interim answer: the request's body follows.
            if not data.startswith(b"HTTP/1.1 100 "):
                turn.answered = True
            cut = proxy.reset_down_after
            if cut is not None and received + len(data) > cut:
                proxy.reset_down_after = None
                writer.write(data[: cut - received])
                _reset(writer)
                return
            writer.write(_flipped(data, received, flip_at))
            received += len(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def _refuse(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, status: int
) -> None:
    """Read the whole request (so the client sees an answer, not a broken pipe), then refuse it."""
    while b"\r\n\r\n" not in head:
        more = await reader.read(CHUNK)
        if not more:
            return
        head += more
    headers, _, body = head.partition(b"\r\n\r\n")
    # A client that sent "Expect: 100-continue" waits for an answer before the
    # body: the refusal is that answer.
    expects = b"expect: 100-continue" in headers.lower()
    remaining = 0 if expects else _content_length(headers) - len(body)
    while remaining > 0:
        more = await reader.read(min(CHUNK, remaining))
        if not more:
            break
        remaining -= len(more)
    message = b"injected fault"
    writer.write(
        b"HTTP/1.1 %d Injected\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n%s" % (status, len(message), message)
    )
    await writer.drain()


def _content_length(headers: bytes) -> int:
    for line in headers.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip() or 0)
    return 0


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        # SO_LINGER 0: close() sends RST, as a dropped connection does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    writer.transport.abort()


async def _drain_forever(reader: asyncio.StreamReader) -> None:
    while await reader.read(CHUNK):
        pass
