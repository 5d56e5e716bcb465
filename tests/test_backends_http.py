"""The read-only ``http`` backend, against RangeHTTPServer over the files of tests/servers.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.files.base import ContentFile
from django.test import override_settings

from genro_storage_django.exceptions import MountPermissionError
from genro_storage_django.storage import MountStorage
from tests.conftest import mount_storage
from tests.servers import Server

BIG = bytes(range(256)) * 4096


@pytest.fixture
def web(http_mount_config: dict[str, Any]) -> Iterator[MountStorage]:
    yield from mount_storage({"web": http_mount_config}, "web")


def test_reads_a_file(web):
    with web.open("hello.txt") as handle:
        assert handle.read() == b"Hello, world!\n"


def test_quoted_names(web):
    with web.open("docs/with space.txt") as handle:
        assert handle.read() == b"spaced\n"
    assert web.exists("docs/with space.txt")


def test_seek_reads_a_range_only(web, http_server: Server):
    with web.open("docs/big.bin") as handle:
        http_server.log.clear()
        handle.seek(500_000)
        assert handle.read(10) == BIG[500_000:500_010]
    gets = [entry for entry in http_server.log.snapshot() if entry[0] == "GET"]
    assert gets
    assert all(entry[2].startswith("bytes=500000-") for entry in gets)


def test_listdir_from_the_index_page(web):
    assert web.listdir("") == (["docs", "noindex"], ["hello.txt"])
    assert web.listdir("docs") == ([], ["big.bin", "guide.txt", "with space.txt"])


def test_listdir_of_a_missing_directory_is_empty(web):
    assert web.listdir("nowhere") == ([], [])


def test_listdir_without_an_index_is_a_clear_error(web):
    with pytest.raises(PermissionError, match="no directory index") as caught:
        web.listdir("noindex")
    assert "'web'" in str(caught.value)
    # The files are still there, only unlisted.
    assert web.exists("noindex/secret.txt")


def test_exists_and_size_make_one_request(web, http_server: Server):
    for method, name, expected in (
        (web.exists, "hello.txt", True),
        (web.exists, "missing.txt", False),
        (web.size, "docs/big.bin", len(BIG)),
    ):
        http_server.log.clear()
        assert method(name) == expected
        assert len(http_server.log.snapshot()) == 1


def test_modified_time_from_last_modified(web):
    modified = web.get_modified_time("hello.txt")
    assert modified.tzinfo is not None


def test_missing_file(web):
    with pytest.raises(FileNotFoundError):
        web.open("missing.txt")
    with pytest.raises(FileNotFoundError):
        web.size("missing.txt")


def test_url_is_base_url_and_quoted_name(web, http_server: Server):
    assert web.url("docs/with space.txt") == f"{http_server.url}/docs/with%20space.txt"


def test_is_read_only(web):
    assert web.mount.permissions == "readonly"
    for call in (
        lambda: web.save("new.txt", ContentFile(b"x")),
        lambda: web.open("new.txt", "wb"),
        lambda: web.delete("hello.txt"),
        lambda: web.makedirs("dir"),
    ):
        with pytest.raises(MountPermissionError):
            call()
    assert web.exists("hello.txt")


def test_asking_for_write_permissions_is_a_warning(http_mount_config):
    config = {**http_mount_config, "permissions": "delete"}
    with override_settings(STORAGE_MOUNTS={"web": config}):
        ids = [message.id for message in run_checks()]
        for storage in mount_storage({"web": config}, "web"):
            with pytest.raises(MountPermissionError):
                storage.delete("hello.txt")
    assert "genro_storage_django.W001" in ids
