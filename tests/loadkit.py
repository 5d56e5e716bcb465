"""Concurrent clients against the serve view and the admin browser of a real server.

``Site`` runs the demo project (``tests.load.settings``) under waitress, a
threaded WSGI server as deployed, on a fresh file database with one
superuser. ``hammer()`` then sends ``clients`` keep-alive connections at it
for ``seconds``: each client downloads random files through the serve view
and, one request in ``LISTING_EVERY`` (its first among them), opens the
admin listing of the folder.
A request counts as an error unless it answers 200 with the whole body.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.serverkit import free_port, run_process

ROOT = Path(__file__).resolve().parent.parent
FOLDER = "load"
LISTING_EVERY = 5
PASSWORD = "load-test-password"


@dataclass
class Tally:
    """What one kind of request did: its latencies (seconds) and its errors."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


@dataclass
class Result:
    clients: int
    seconds: float
    serve: Tally
    listing: Tally
    peak_rss: int  # bytes, the server's high-water mark

    @property
    def requests(self) -> int:
        return len(self.serve.latencies) + len(self.listing.latencies)

    @property
    def errors(self) -> list[str]:
        return self.serve.errors + self.listing.errors


def _environment(work: Path, endpoint: str, prefix: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.load.settings",
        "GENRO_LOAD_DB": str(work / "load.sqlite3"),
        "GENRO_LOAD_DISK": str(work / "disk"),
        "GENRO_LOAD_ENDPOINT": endpoint,
        "GENRO_LOAD_PREFIX": prefix,
        "DEMO_VAR_DIR": str(work / "var"),
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "testproject")]),
    }


@dataclass
class Site:
    url: str
    pid: int

    def peak_rss(self) -> int:
        status = Path(f"/proc/{self.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


@contextmanager
def site(work: Path, endpoint: str, prefix: str, threads: int = 16) -> Iterator[Site]:
    """Run the load site on a fresh database in ``work`` while the block runs."""
    (work / "disk").mkdir(parents=True, exist_ok=True)
    env = _environment(work, endpoint, prefix)
    manage = [sys.executable, "-m", "django"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=work, check=True)
    user = ["--noinput", "--username", "admin", "--email", "admin@example.com"]
    subprocess.run(
        [*manage, "createsuperuser", *user],
        env=env,
        cwd=work,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    args = [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}"]
    args += [
        f"--threads={threads}",
        f"--connection-limit={threads * 8}",
        "testproject.wsgi:application",
    ]
    with run_process(
        args, work / "waitress.log", port, env=env, cwd=work, name="waitress"
    ) as process:
        yield Site(f"http://127.0.0.1:{port}", process.pid)


class Client:
    """One keep-alive connection with the admin's session cookie."""

    def __init__(self, url: str, cookie: str = "") -> None:
        parts = urllib.parse.urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.cookie = cookie

    def request(
        self, method: str, path: str, body: str = "", **headers: str
    ) -> tuple[int, dict[str, str], bytes]:
        if self.cookie:
            headers["Cookie"] = self.cookie
        self.connection.request(method, path, body=body or None, headers=headers)
        response = self.connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()


def log_in(url: str) -> str:
    """Return the Cookie header of a session of the superuser."""
    client = Client(url)
    _, headers, page = client.request("GET", "/admin/login/")
    csrf = re.search(r"csrftoken=([^;]+)", headers["Set-Cookie"]).group(1)  # type: ignore[union-attr]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()  # type: ignore[union-attr]
    form = urllib.parse.urlencode(
        {"username": "admin", "password": PASSWORD, "csrfmiddlewaretoken": token, "next": "/admin/"}
    )
    client.cookie = f"csrftoken={csrf}"
    status, headers, _ = client.request(
        "POST", "/admin/login/", form, **{"Content-Type": "application/x-www-form-urlencoded"}
    )
    session = re.search(r"sessionid=([^;]+)", headers.get("Set-Cookie", ""))
    assert status == 302 and session, (status, headers)
    return f"csrftoken={csrf}; sessionid={session.group(1)}"


def _one_client(
    url: str,
    cookie: str,
    mount: str,
    files: dict[str, int],
    until: float,
    serve: Tally,
    listing: Tally,
) -> None:
    client = Client(url, cookie)
    names = list(files)
    picker = random.Random()
    count = 0
    while time.monotonic() < until:
        count += 1
        # The first request of each client is a listing: every client asks both views.
        if count % LISTING_EVERY == 1:
            path, tally, expected = (
                f"/admin/genro_storage_django/storagemount/{mount}/browse/{FOLDER}",
                listing,
                None,
            )
        else:
            name = picker.choice(names)
            path, tally, expected = f"/storage/serve/{mount}/{FOLDER}/{name}", serve, files[name]
        started = time.perf_counter()
        try:
            status, _, body = client.request("GET", path)
        except (OSError, http.client.HTTPException) as error:
            tally.errors.append(f"{path}: {error!r}")
            client = Client(url, cookie)
            continue
        tally.latencies.append(time.perf_counter() - started)
        if status != 200 or (expected is not None and len(body) != expected):
            tally.errors.append(f"{path}: {status}, {len(body)} bytes")


def hammer(site: Site, mount: str, files: dict[str, int], clients: int, seconds: float) -> Result:
    """Send ``clients`` concurrent clients at ``mount`` for ``seconds``.

    ``files`` maps the names in ``FOLDER`` to their sizes.
    """
    cookie = log_in(site.url)
    serve, listing = Tally(), Tally()
    until = time.monotonic() + seconds
    workers = [
        threading.Thread(
            target=_one_client, args=(site.url, cookie, mount, files, until, serve, listing)
        )
        for _ in range(clients)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return Result(clients, seconds, serve, listing, site.peak_rss())


def report(mount: str, result: Result) -> str:
    """One line of docs/reliability.rst's load table."""
    rate = result.requests / result.seconds
    serve, listing = result.serve, result.listing
    return (
        f"{mount}: {result.clients} clients, {result.seconds:.0f} s, {result.requests} requests "
        f"({rate:.0f}/s), {len(result.errors)} errors; serve p50 "
        f"{serve.percentile(0.5) * 1000:.0f} ms p99 {serve.percentile(0.99) * 1000:.0f} ms; "
        f"listing p50 {listing.percentile(0.5) * 1000:.0f} ms "
        f"p99 {listing.percentile(0.99) * 1000:.0f} ms; server peak RSS "
        f"{result.peak_rss / 2**20:.0f} MiB"
    )
