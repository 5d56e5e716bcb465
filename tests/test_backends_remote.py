"""sftp, ftp and webdav mounts: checks, bad credentials and hosts, secrets, storage_copy.

Against the real servers of tests/servers_remote.py; the Storage contract
itself runs in tests/test_conformance_remote.py.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings

from genro_storage_django import get_storage
from tests.serverkit import HOST, free_port
from tests.servers_remote import PASSWORD, own_ftp_server, pyftpdlib_classes

REMOTE_KINDS = ["sftp", "ftp", "webdav"]
WRONG_PASSWORD = "wrong-pw-do-not-show-5c2a"


@pytest.fixture(params=REMOTE_KINDS)
def remote_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(request.getfixturevalue(f"{request.param}_mount_config"))


def storage_messages() -> list[Any]:
    return [m for m in run_checks() if m.id and m.id.startswith("genro_storage_django.")]


def first_call_error(config: dict[str, Any]) -> tuple[BaseException, float]:
    """Return the error of a first listing on a mount of ``config``, and its duration."""
    with override_settings(STORAGE_MOUNTS={"remote": config}):
        storage = get_storage("remote")
        started = time.monotonic()
        with pytest.raises(OSError) as caught:
            storage.listdir("")
        return caught.value, time.monotonic() - started


# Checks


@pytest.mark.parametrize(
    ("setting", "key"),
    [({"type": "sftp"}, "'host'"), ({"type": "ftp"}, "'host'"), ({"type": "webdav"}, "'url'")],
)
def test_a_missing_required_key_is_error_e005(setting, key):
    with override_settings(STORAGE_MOUNTS={"remote": setting}):
        messages = storage_messages()
    assert [m.id for m in messages] == ["genro_storage_django.E005"]
    assert key in messages[0].msg and "'remote'" in messages[0].msg


@pytest.mark.parametrize("kind", REMOTE_KINDS)
def test_a_timeout_that_is_not_positive_is_error_e030(kind):
    setting = {"type": kind, "host": HOST, "url": "http://x/", "read_timeout": 0}
    setting.pop("url" if kind != "webdav" else "host")
    with override_settings(STORAGE_MOUNTS={"remote": setting}):
        assert [m.id for m in storage_messages()] == ["genro_storage_django.E030"]


def test_sftp_without_host_key_check_is_warning_w004(sftp_mount_config):
    with override_settings(STORAGE_MOUNTS={"remote": {**sftp_mount_config, "known_hosts": False}}):
        messages = storage_messages()
    assert [m.id for m in messages] == ["genro_storage_django.W004"]
    assert "'remote'" in messages[0].msg and "'known_hosts'" in messages[0].msg
    # Accepting any key does connect.
    with override_settings(STORAGE_MOUNTS={"remote": {**sftp_mount_config, "known_hosts": False}}):
        get_storage("remote").save("ok.txt", ContentFile(b"ok"))


def test_valid_remote_mounts_pass_the_checks(remote_config):
    with override_settings(STORAGE_MOUNTS={"remote": remote_config}):
        assert storage_messages() == []


def test_secrets_stay_out_of_reprs(remote_config):
    with override_settings(STORAGE_MOUNTS={"remote": remote_config}):
        storage = get_storage("remote")
        texts = [repr(storage), repr(storage.mount), repr(storage.mount.options)]
        texts.append(repr(storage.backend))
    assert PASSWORD in remote_config.values()
    assert not [text for text in texts if PASSWORD in text]


# Bad input: a clear error naming the mount, in bounded time, without the secret


def test_a_wrong_password_is_a_permission_error(remote_config):
    error, _ = first_call_error({**remote_config, "password": WRONG_PASSWORD})
    assert isinstance(error, PermissionError), repr(error)
    assert "'remote'" in str(error)
    assert WRONG_PASSWORD not in str(error) and PASSWORD not in str(error)


def test_an_unreachable_host_fails_within_the_timeout(remote_config):
    port = free_port()  # nothing listens there
    config = {**remote_config, "connect_timeout": 2}
    if remote_config["type"] == "webdav":
        config["url"] = f"http://{HOST}:{port}/"
    else:
        config["port"] = port
    error, seconds = first_call_error(config)
    assert "'remote'" in str(error) and "reached" in str(error), repr(error)
    assert PASSWORD not in str(error)
    assert seconds < 5


def test_a_silent_server_fails_within_the_timeout(remote_config):
    # A socket that accepts connections (the kernel's backlog) and never answers.
    with socket.socket() as silent:
        silent.bind((HOST, 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        config = {**remote_config, "connect_timeout": 1, "read_timeout": 1}
        if remote_config["type"] == "webdav":
            config["url"] = f"http://{HOST}:{port}/"
        else:
            config["port"] = port
        error, seconds = first_call_error(config)
    assert isinstance(error, TimeoutError), repr(error)
    assert "'remote'" in str(error) and "no answer within" in str(error)
    assert seconds < 4


def test_an_unknown_sftp_host_key_is_refused(sftp_mount_config, tmp_path):
    other = tmp_path / "known_hosts"
    # A listed key for another server only.
    other.write_text(sftp_mount_config_line(sftp_mount_config, "[192.0.2.1]:22"))
    error, _ = first_call_error({**sftp_mount_config, "known_hosts": str(other)})
    assert isinstance(error, PermissionError), repr(error)
    assert "'remote'" in str(error) and "not listed" in str(error)


def test_a_changed_sftp_host_key_is_refused(sftp_mount_config, tmp_path):
    import asyncssh

    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh")
    listed = f"[{HOST}]:{sftp_mount_config['port']} {' '.join(impostor.decode().split()[:2])}\n"
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(listed)
    error, _ = first_call_error({**sftp_mount_config, "known_hosts": str(known_hosts)})
    assert isinstance(error, PermissionError), repr(error)
    assert "differs" in str(error)


def sftp_mount_config_line(config: dict[str, Any], host: str) -> str:
    """The known_hosts line of the test server's key, listed under ``host``."""
    with open(config["known_hosts"]) as file:
        _, key_type, key = file.read().split()
    return f"{host} {key_type} {key}\n"


def test_a_private_key_in_the_settings_is_used(sftp_mount_config, sftp_server):
    import asyncssh

    # The test server accepts passwords only: a key is offered, then refused.
    key = asyncssh.generate_private_key("ssh-ed25519").export_private_key("openssh").decode()
    config = {**sftp_mount_config, "password": None, "pkey": key}
    error, _ = first_call_error(config)
    assert isinstance(error, PermissionError), repr(error)
    assert "BEGIN OPENSSH" not in str(error)


# storage_copy to and from each type


def test_storage_copy_to_and_from_a_remote_mount(remote_config, tmp_path):
    source, back = tmp_path / "source", tmp_path / "back"
    (source / "docs").mkdir(parents=True)
    (source / "a.txt").write_bytes(b"a" * 1000)
    (source / "docs" / "b.bin").write_bytes(bytes(range(256)) * 400)
    mounts = {
        "src": {"type": "local", "path": str(source)},
        "back": {"type": "local", "path": str(back)},
        "remote": remote_config,
    }
    back.mkdir()
    with override_settings(STORAGE_MOUNTS=mounts):
        out = io.StringIO()
        call_command("storage_copy", "src:", "remote:copy", stdout=out, stderr=io.StringIO())
        assert out.getvalue().startswith("Copied 2 files")
        remote = get_storage("remote")
        assert remote.listdir("copy") == (["docs"], ["a.txt"])
        call_command("storage_copy", "remote:copy", "back:", stdout=out, stderr=io.StringIO())
    assert (back / "a.txt").read_bytes() == b"a" * 1000
    assert (back / "docs" / "b.bin").read_bytes() == bytes(range(256)) * 400


# The admin browser


@pytest.mark.django_db
def test_the_admin_browses_and_downloads(remote_config, admin_client):
    from django.urls import reverse

    def url(view: str, path: str = "") -> str:
        name = f"admin:genro_storage_django_storagemount_{view}"
        return reverse(name, kwargs={"mount": "remote", "path": path})

    with override_settings(STORAGE_MOUNTS={"remote": remote_config}):
        storage = get_storage("remote")
        storage.save("b.txt", ContentFile(b"x" * 2048))
        storage.save("zdir/inner.txt", ContentFile(b"inner"))
        response = admin_client.get(url("browse"))
        assert response.status_code == 200
        assert [row["entry"].name for row in response.context["rows"]] == ["zdir", "b.txt"]
        assert url("file", "b.txt") in response.content.decode()
        inner = admin_client.get(url("browse", "zdir"))
        assert [row["entry"].name for row in inner.context["rows"]] == ["inner.txt"]
        assert admin_client.get(url("file", "b.txt")).status_code == 200
        download = admin_client.get(url("download", "b.txt"))
        assert b"".join(download.streaming_content) == b"x" * 2048


# Sessions the server dropped


def test_a_dropped_sftp_session_is_replaced(sftp_mount_config):
    with override_settings(STORAGE_MOUNTS={"remote": sftp_mount_config}):
        storage = get_storage("remote")
        storage.save("one.txt", ContentFile(b"1"))
        storage.backend.fs.client.get_transport().close()  # as a server restart would
        assert storage.open("one.txt").read() == b"1"


def test_an_idle_ftp_session_dropped_by_the_server_is_replaced(tmp_path, monkeypatch):
    from genro_storage_django.backends import ftp

    DummyAuthorizer, FTPHandler, ThreadedFTPServer = pyftpdlib_classes()
    authorizer = DummyAuthorizer()
    authorizer.add_user("u", PASSWORD, str(tmp_path), perm="elradfmwMT")
    # The server closes a control connection after 1 s of silence.
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer, "timeout": 1})
    server = own_ftp_server(ThreadedFTPServer, handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
    thread.start()
    monkeypatch.setattr(ftp, "IDLE_PROBE", 0.5)
    config = {"type": "ftp", "host": HOST, "port": server.address[1], "username": "u"}
    try:
        with override_settings(STORAGE_MOUNTS={"remote": {**config, "password": PASSWORD}}):
            storage = get_storage("remote")
            storage.save("one.txt", ContentFile(b"1"))
            time.sleep(2.5)
            assert storage.open("one.txt").read() == b"1"
    finally:
        server.close_all()
        thread.join(10)


@pytest.mark.parametrize("kind", ["sftp", "ftp"])
def test_staging_files_are_never_listed_and_storage_cleanup_removes_them(request, kind):
    config = dict(request.getfixturevalue(f"{kind}_mount_config"))
    with override_settings(STORAGE_MOUNTS={"far": config}):
        storage = get_storage("far")
        storage.save("docs/kept.txt", ContentFile(b"kept"))
        backend = storage.backend
        staging = f"docs/.lost.bin.{'ab' * 16}.part"  # what a killed upload leaves
        with backend.fs.open(backend.full_path(staging), "wb") as file:
            file.write(b"half")
        assert storage.listdir("docs") == ([], ["kept.txt"])
        assert [name for name, _ in backend.find(backend.mount_root)] == ["docs/kept.txt"]
        out = io.StringIO()
        call_command("storage_cleanup", "far", "--older-than", "0s", stdout=out)
        assert f"removed staging file {staging!r}" in out.getvalue()
        assert not backend.fs.exists(backend.full_path(staging))
        assert storage.open("docs/kept.txt").read() == b"kept"
