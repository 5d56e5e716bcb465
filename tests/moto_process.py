"""moto's S3 server in a process of its own, recording every request (``FileRecorder``).

``python -m tests.moto_process PORT REQUESTS_FILE`` serves on 127.0.0.1:PORT until
terminated. Out of the test process, moto's work does not wait for the tests'
GIL, nor they for its: on two cores the client and the server run at once.
"""

from __future__ import annotations

import sys
from pathlib import Path

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from tests.serverkit import HOST, CountingApp, FileRecorder


def main(port: int, requests_file: Path) -> None:
    app = CountingApp(DomainDispatcherApplication(create_backend_app), FileRecorder(requests_file))
    server = make_server(HOST, port, app, threaded=True, request_handler=MotoRequestHandler)
    server.serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
