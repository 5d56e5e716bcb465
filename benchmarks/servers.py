"""Start the counting moto server as a process on 127.0.0.1 and talk to its counters.

Standard library only (with ``tests/serverkit.py``): the comparison venv imports it too.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.serverkit import free_port, run_process

ROOT = Path(__file__).resolve().parent.parent
KEY = SECRET = "testing"

# Never reach a real AWS account, a metadata service or a CA bundle meant for https.
CLEAN_ENV = {
    "AWS_ACCESS_KEY_ID": KEY,
    "AWS_SECRET_ACCESS_KEY": SECRET,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_DEFAULT_REGION": "us-east-1",
}
CA_VARIABLES = ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


def tool_env(**extra: str) -> dict[str, str]:
    """Return the environment for a child process talking to the local server over http."""
    env = {k: v for k, v in os.environ.items() if k not in CA_VARIABLES}
    env.update(CLEAN_ENV)
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


class S3Server:
    """A client of the counting moto server at ``url``, run by process ``pid``."""

    def __init__(self, url: str, pid: int | None = None) -> None:
        self.url = url
        self.pid = pid

    def cpu_seconds(self) -> float:
        """Return the CPU time (user + system) the server process has used so far."""
        if self.pid is None:
            return 0.0
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _call(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(f"{self.url}{path}", method=method)
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
        return json.loads(body) if body.startswith(b"{") else body

    def counts(self) -> dict[str, Any]:
        """Return the requests and bytes served since the last ``reset()``."""
        return self._call("/__bench__/counts")

    def reset(self) -> None:
        self._call("/__bench__/reset", "POST")

    def create_bucket(self, name: str) -> None:
        self._call(f"/{name}", "PUT")

    @contextmanager
    def counting(self) -> Iterator[dict[str, Any]]:
        """Count the requests of the block: the dict is filled when the block ends."""
        self.reset()
        result: dict[str, Any] = {}
        cpu = self.cpu_seconds()
        yield result
        result["server_cpu"] = self.cpu_seconds() - cpu
        result.update(self.counts())


@contextmanager
def s3_server(log_file: Path) -> Iterator[S3Server]:
    """Run ``benchmarks.moto_counting`` in its own process for the duration of the block."""
    port = free_port()
    args = [sys.executable, "-m", "benchmarks.moto_counting", str(port)]
    with run_process(args, log_file, port, env=tool_env(), cwd=ROOT, name="moto server") as process:
        yield S3Server(f"http://127.0.0.1:{port}", process.pid)
