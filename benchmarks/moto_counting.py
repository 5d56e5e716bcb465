"""A moto S3 server that counts the requests and bytes it serves: ``python -m
benchmarks.moto_counting PORT``.

``GET /__bench__/counts`` returns the counts since the last ``POST /__bench__/reset``
as JSON: requests by method and S3 action, and the response bytes of object reads.
Binds to 127.0.0.1 only.

moto's own server is Werkzeug's development server, which closes the connection
after every response; S3 keeps connections open and every client compared here
reuses them. Served by waitress instead, the benchmark pays for TCP connections
as S3 would have clients pay: once per connection, not once per request.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from tests import serverkit


class Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.requests: Counter[str] = Counter()
        self.bytes_out = 0
        self.bytes_in = 0

    def record(self, environ: dict[str, Any]) -> None:
        """Count the request of a WSGI ``environ`` and the bytes it sends."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        with self.lock:
            self.requests[_label(environ)] += 1
            self.bytes_in += length

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "total": sum(self.requests.values()),
                "requests": dict(self.requests),
                "bytes_out": self.bytes_out,
                "bytes_in": self.bytes_in,
            }


def _label(environ: dict[str, Any]) -> str:
    """Return ``METHOD kind``, kind being bucket, object or a query action (list, uploads...)."""
    method = environ["REQUEST_METHOD"]
    path = environ.get("PATH_INFO", "").lstrip("/")
    query = environ.get("QUERY_STRING", "")
    kind = "object" if "/" in path.rstrip("/") else "bucket"
    if kind == "bucket" and method == "GET":
        kind = "list"
    for action in ("uploads", "uploadId", "delete", "tagging"):
        if action in query:
            kind = f"{kind}?{action}"
            break
    if environ.get("HTTP_X_AMZ_COPY_SOURCE"):
        kind = "object-copy"
    return f"{method} {kind}"


class CountingApp(serverkit.CountingApp):
    """The shared counting layer, plus the bytes of object reads and the control paths."""

    def __init__(self, app: Callable, counts: Counts) -> None:
        super().__init__(app, counts)
        self.counts = counts

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/__bench__/"):
            return self.control(path, start_response)
        body = super().__call__(environ, start_response)
        if environ["REQUEST_METHOD"] != "GET" or "/" not in path.strip("/"):
            return body
        return self.measure(body)

    def measure(self, body: Iterable[bytes]) -> Iterable[bytes]:
        try:
            for chunk in body:
                with self.counts.lock:
                    self.counts.bytes_out += len(chunk)
                yield chunk
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    def control(self, path: str, start_response: Callable) -> list[bytes]:
        if path == "/__bench__/reset":
            with self.counts.lock:
                self.counts.reset()
        data = json.dumps(self.counts.snapshot()).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [data]


def main(port: int) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from waitress import create_server

    app = CountingApp(DomainDispatcherApplication(create_backend_app), Counts())
    # Four threads (waitress's default) are plenty: moto holds the GIL anyway.
    create_server(app, host="127.0.0.1", port=port, threads=4).run()


if __name__ == "__main__":
    main(int(sys.argv[1]))
