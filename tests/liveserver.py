"""The live server for browser tests answers one request at a time.

pytest-django's ``live_server`` hands the test's in-memory SQLite connection to
the server thread, and Django's threaded server then uses that one connection
from every request thread at once. Concurrent requests (the upload queue sends
three) then read each other's half-done queries: a session lookup returned two
rows. A real deployment has a connection per thread, so serialising the
application here removes only the artefact: connections are still accepted and
read concurrently, as a browser expects.

``BODIES`` records, for every request, the size of its body (what it
declared, or what the application read if that is more): the direct-upload
tests check that a file's bytes never came here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BodyLog:
    """The body size of each request, as ``(method, path, bytes)``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[tuple[str, str, int]] = []

    def add(self, method: str, path: str, size: int) -> None:
        with self._lock:
            self._entries.append((method, path, size))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def entries(self) -> list[tuple[str, str, int]]:
        with self._lock:
            return list(self._entries)

    def largest(self) -> int:
        """Return the most body bytes any one request read (0 if none did)."""
        return max((size for _, _, size in self.entries()), default=0)


BODIES = BodyLog()


class CountingInput:
    """``wsgi.input``, counting the bytes read from it."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.count = 0

    def read(self, *args: Any) -> bytes:
        data = self.stream.read(*args)
        self.count += len(data)
        return data

    def readline(self, *args: Any) -> bytes:
        data = self.stream.readline(*args)
        self.count += len(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class OneRequestAtATimeServer(ThreadedWSGIServer):
    def set_app(self, application: WSGIApp) -> None:
        lock = threading.Lock()

        def serialised(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            body = CountingInput(environ["wsgi.input"])
            environ["wsgi.input"] = body
            try:
                with lock:
                    return application(environ, start_response)
            finally:
                declared = int(environ.get("CONTENT_LENGTH") or 0)
                path = environ.get("PATH_INFO", "")
                BODIES.add(environ["REQUEST_METHOD"], path, max(body.count, declared))

        super().set_app(serialised)


def install() -> None:
    LiveServerThread.server_class = OneRequestAtATimeServer
