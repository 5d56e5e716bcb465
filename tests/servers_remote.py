"""Session fixtures for the sftp, ftp and webdav backends: real servers on 127.0.0.1.

* sftp: asyncssh's SSH server with its SFTP subsystem, chrooted to a temporary
  directory, a throw-away ed25519 host key and one password account;
* ftp: pyftpdlib, one account whose home is a temporary directory;
* webdav: WsgiDAV over a temporary directory, served by cheroot, behind a
  basic-auth account.

Each runs in a thread of the test process and stops at the end of the session.
Each test gets its own folder on the server through ``unique_prefix``.
"""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.serverkit import HOST, free_port, wait_for_port

USERNAME = "genro"
# Throw-away credentials of servers that live for one test session.
PASSWORD = "pw-of-the-test-servers-3b1f"


@dataclass
class RemoteServer:
    port: int
    root: Path
    known_hosts: Path | None = None


# SFTP: asyncssh in a thread with its own event loop.


class _SSHServer:
    """asyncssh server callbacks: password authentication of one account."""

    def __new__(cls) -> Any:
        import asyncssh

        class Server(asyncssh.SSHServer):
            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                return username == USERNAME and password == PASSWORD

        return Server()


def _run_sftp(root: Path, port: int, host_key: Any, ready: threading.Event, stop: list) -> None:
    import asyncssh

    loop = asyncio.new_event_loop()
    stop.append(loop)

    def sftp_factory(chan: Any) -> asyncssh.SFTPServer:
        return asyncssh.SFTPServer(chan, chroot=str(root))

    async def start() -> Any:
        return await asyncssh.create_server(
            _SSHServer,
            HOST,
            port,
            server_host_keys=[host_key],
            sftp_factory=sftp_factory,
            allow_scp=False,
        )

    server = loop.run_until_complete(start())
    ready.set()
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()


@pytest.fixture(scope="session")
def sftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteServer]:
    import asyncssh

    root = tmp_path_factory.mktemp("sftp-root")
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    port = free_port()
    known_hosts = tmp_path_factory.mktemp("sftp-keys") / "known_hosts"
    public = host_key.export_public_key("openssh").decode().split()[:2]
    known_hosts.write_text(f"[{HOST}]:{port} {' '.join(public)}\n")
    ready = threading.Event()
    loops: list[asyncio.AbstractEventLoop] = []
    thread = threading.Thread(
        target=_run_sftp, args=(root, port, host_key, ready, loops), daemon=True
    )
    thread.start()
    if not ready.wait(30):
        pytest.fail("the SFTP server did not start")
    wait_for_port(port, name="SFTP server")
    yield RemoteServer(port, root, known_hosts)
    loops[0].call_soon_threadsafe(loops[0].stop)
    thread.join(10)


@pytest.fixture
def sftp_mount_config(sftp_server: RemoteServer, unique_prefix: str) -> dict[str, Any]:
    (sftp_server.root / unique_prefix).mkdir()
    return {
        "type": "sftp",
        "host": HOST,
        "port": sftp_server.port,
        "username": USERNAME,
        "password": PASSWORD,
        "path": f"/{unique_prefix}",
        "known_hosts": str(sftp_server.known_hosts),
        "connect_timeout": 5,
        "read_timeout": 5,
    }


# FTP: pyftpdlib, threaded, in this process.


def pyftpdlib_classes() -> tuple[type, type, type]:
    """pyftpdlib's ``DummyAuthorizer``, ``FTPHandler`` and ``ThreadedFTPServer``."""
    with warnings.catch_warnings():
        # pyftpdlib 2 still imports asyncore and asynchat on Python < 3.12.
        warnings.simplefilter("ignore", DeprecationWarning)
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler
        from pyftpdlib.servers import ThreadedFTPServer
    return DummyAuthorizer, FTPHandler, ThreadedFTPServer


def own_ftp_server(server_class: type, handler: type) -> Any:
    """A pyftpdlib server on a free port that another server's ``close_all()`` leaves alone.

    pyftpdlib shares one IOLoop per process and, for ``ThreadedFTPServer``,
    one exit flag per class: closing a second server would stop the session's.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from pyftpdlib.ioloop import IOLoop
    server = server_class((HOST, 0), handler, ioloop=IOLoop())
    server._exit = threading.Event()
    return server


@pytest.fixture(scope="session")
def ftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteServer]:
    DummyAuthorizer, FTPHandler, ThreadedFTPServer = pyftpdlib_classes()
    root = tmp_path_factory.mktemp("ftp-root")
    authorizer = DummyAuthorizer()
    authorizer.add_user(USERNAME, PASSWORD, str(root), perm="elradfmwMT")
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer, "passive_ports": None})
    server = own_ftp_server(ThreadedFTPServer, handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.5}, daemon=True)
    thread.start()
    yield RemoteServer(server.address[1], root)
    server.close_all()
    thread.join(10)


@pytest.fixture
def ftp_mount_config(ftp_server: RemoteServer, unique_prefix: str) -> dict[str, Any]:
    (ftp_server.root / unique_prefix).mkdir()
    return {
        "type": "ftp",
        "host": HOST,
        "port": ftp_server.port,
        "username": USERNAME,
        "password": PASSWORD,
        "path": f"/{unique_prefix}",
        "connect_timeout": 5,
        "read_timeout": 5,
    }


# WebDAV: WsgiDAV over a directory, served by cheroot in a thread.


@pytest.fixture(scope="session")
def webdav_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteServer]:
    from cheroot import wsgi
    from wsgidav.wsgidav_app import WsgiDAVApp

    root = tmp_path_factory.mktemp("webdav-root")
    app = WsgiDAVApp(
        {
            "provider_mapping": {"/": str(root)},
            "simple_dc": {"user_mapping": {"*": {USERNAME: {"password": PASSWORD}}}},
            "http_authenticator": {"accept_basic": True, "accept_digest": False},
            "verbose": 0,
            "logging": {"enable": False},
        }
    )
    server = wsgi.Server((HOST, 0), app, numthreads=8)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    port = server.bind_addr[1]
    wait_for_port(port, name="WebDAV server")
    yield RemoteServer(port, root)
    server.stop()
    thread.join(10)


@pytest.fixture
def webdav_mount_config(webdav_server: RemoteServer, unique_prefix: str) -> dict[str, Any]:
    (webdav_server.root / unique_prefix).mkdir()
    return {
        "type": "webdav",
        "url": f"http://{HOST}:{webdav_server.port}/",
        "username": USERNAME,
        "password": PASSWORD,
        "path": unique_prefix,
        "connect_timeout": 5,
        "read_timeout": 5,
    }
