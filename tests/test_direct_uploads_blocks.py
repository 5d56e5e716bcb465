"""Azure direct uploads in blocks, against Azurite: what direct_upload.js does for a large file.

A target of an azure mount carries ``blocks``: a file above ``blocks["size"]``
is staged block by block (Put Block, ``&comp=block&blockid=...``) with the
same SAS, then committed (Put Block List, ``&comp=blocklist``), which stores
the object parameters and the condition of a new blob. The browser test
(tests/test_browser_direct_upload.py) sends 20 MiB this way from Chromium.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.core.files.base import ContentFile
from django.test import override_settings

from genro_storage_django import direct_uploads
from genro_storage_django.backends import azure
from genro_storage_django.direct_uploads import UploadRefused, verify
from genro_storage_django.storage import MountStorage, get_storage
from tests.test_direct_uploads import PARAMETERS

BLOCK = 1024
#: Five blocks, the last one short.
BODY = bytes(index % 251 for index in range(4 * BLOCK + 100))


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    # Azure takes blocks of any size: small ones keep the bodies small here.
    monkeypatch.setattr(azure, "BLOCK_SIZE", BLOCK)
    monkeypatch.setattr(azure, "BLOCKS_ABOVE", 2 * BLOCK)


def mounted(config: dict[str, Any], **options: Any) -> Iterator[MountStorage]:
    with override_settings(STORAGE_MOUNTS={"up": {**config, **options}}):
        yield get_storage("up")


@pytest.fixture
def storage(azure_mount_config: dict[str, Any], small_blocks: None) -> Iterator[MountStorage]:
    yield from mounted(azure_mount_config)


def block_id(index: int) -> str:
    """The id direct_upload.js gives block ``index``."""
    return base64.b64encode(f"{index:032d}".encode()).decode()


def stage(target: dict[str, Any], body: bytes) -> int:
    """Put ``body``'s blocks as the browser does; return how many."""
    size = target["blocks"]["size"]
    count = -(-len(body) // size)
    for index in range(count):
        response = requests.put(
            f"{target['url']}&comp=block&blockid={block_id(index)}",
            data=body[index * size : (index + 1) * size],
            headers=target["blocks"]["headers"],
            timeout=30,
        )
        assert response.status_code == 201, response.text
    return count


def commit(target: dict[str, Any], count: int) -> int:
    latest = "".join(f"<Latest>{block_id(index)}</Latest>" for index in range(count))
    body = f'<?xml version="1.0" encoding="utf-8"?><BlockList>{latest}</BlockList>'
    response = requests.put(
        f"{target['url']}&comp=blocklist",
        data=body.encode(),
        headers=target["blocks"]["commit_headers"],
        timeout=30,
    )
    return response.status_code


def issue(storage: MountStorage, name: str = "docs/big.bin") -> dict[str, Any]:
    return storage.upload_target(name, max_size=len(BODY), content_type="application/x-test")


def test_only_a_target_above_one_put_blob_is_for_blocks(storage):
    small = storage.upload_target("docs/a.bin", max_size=2 * BLOCK)
    assert "blocks" not in small
    assert query(small)["sp"] == ["c"]  # create only: not even its holder replaces the blob
    large = issue(storage)
    assert large["blocks"]["size"] == BLOCK
    # Put Block and Put Block List need write as well: If-None-Match asks for a new blob.
    assert query(large)["sp"] == ["cw"]
    assert large["blocks"]["commit_headers"]["If-None-Match"] == "*"


def query(target: dict[str, Any]) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(target["url"]).query)


def test_the_block_size_fits_max_size_in_azures_block_count():
    headers = {"x-ms-blob-type": "BlockBlob", "Content-Type": "text/plain"}
    assert azure.blocks(headers, 1000)["size"] == azure.BLOCK_SIZE
    terabyte = 1024**4
    assert azure.blocks(headers, terabyte)["size"] == -(-terabyte // azure.MAX_BLOCKS)
    assert azure.blocks(headers, 1024**5)["size"] == azure.MAX_BLOCK_SIZE


def test_the_commit_carries_the_blob_headers_under_put_block_lists_names():
    headers = {
        "x-ms-blob-type": "BlockBlob",
        "Content-Type": "text/plain",
        "x-ms-meta-origin": "browser",
        "x-ms-encryption-scope": "scope",
        "If-None-Match": "*",
    }
    plan = azure.blocks(headers, 1000)
    assert plan["headers"] == {"x-ms-encryption-scope": "scope"}
    assert plan["commit_headers"] == {
        "Content-Type": "application/xml",
        "x-ms-blob-content-type": "text/plain",
        "x-ms-meta-origin": "browser",
        "x-ms-encryption-scope": "scope",
        "If-None-Match": "*",
    }


def test_a_file_in_blocks_is_verified_with_its_object_parameters(azure_mount_config, small_blocks):
    from tests.test_object_parameters import stored

    for storage in mounted(azure_mount_config, object_parameters=PARAMETERS):
        target = issue(storage)
        assert target["blocks"]["size"] == BLOCK
        assert commit(target, stage(target, BODY)) == 201
        assert verify(storage, target["ticket"], max_size=len(BODY)) == "docs/big.bin"
        assert storage.open("docs/big.bin").read() == BODY
        found = stored(storage, "docs/big.bin")
    assert found["content_type"] == "application/x-test"
    for key, value in PARAMETERS.items():
        assert found[key] == value, key


def test_staged_blocks_are_no_file(storage):
    target = issue(storage)
    stage(target, BODY)
    assert not storage.exists("docs/big.bin")
    assert storage.listdir("") == ([], [])
    with pytest.raises(UploadRefused) as raised:
        verify(storage, target["ticket"])
    assert raised.value.code == "missing"


def test_the_mount_writes_a_name_whose_upload_was_abandoned(storage):
    # Uncommitted blocks stay a week; the mount's own blocks have ids of their length.
    target = issue(storage)
    stage(target, BODY)
    storage.save("docs/big.bin", ContentFile(b"server"))
    assert storage.open("docs/big.bin").read() == b"server"


def test_a_commit_over_a_name_taken_meanwhile_is_refused(storage):
    target = issue(storage)
    count = stage(target, BODY)
    storage.save("docs/big.bin", ContentFile(b"first"))
    # If-None-Match: * on a create-only SAS.
    assert commit(target, count) in (403, 409, 412)
    assert storage.open("docs/big.bin").read() == b"first"


def test_a_holder_who_leaves_out_the_condition_can_replace_the_blob(storage):
    # What docs/uploads.rst warns of: a SAS cannot require If-None-Match, and
    # Put Block List needs write. Until the target expires, its holder can
    # replace the blob it made.
    target = issue(storage)
    assert commit(target, stage(target, BODY)) == 201
    target["blocks"]["commit_headers"].pop("If-None-Match")
    assert commit(target, stage(target, BODY[::-1])) == 201
    assert storage.open("docs/big.bin").read() == BODY[::-1]


def test_an_overwriting_mount_commits_over_the_old_blob(azure_mount_config, small_blocks):
    for storage in mounted(azure_mount_config, file_overwrite=True):
        storage.save("docs/big.bin", ContentFile(b"old"))
        target = issue(storage)
        assert "If-None-Match" not in target["blocks"]["commit_headers"]
        assert commit(target, stage(target, BODY)) == 201
        assert storage.open("docs/big.bin").read() == BODY


def test_a_larger_body_than_max_size_is_deleted_by_verify(storage):
    # A SAS cannot limit the size: verify() refuses the blob and deletes it.
    target = issue(storage)
    assert commit(target, stage(target, BODY + b"more")) == 201
    with pytest.raises(UploadRefused) as raised:
        verify(storage, target["ticket"], max_size=len(BODY))
    assert raised.value.code == "too_large"
    assert not storage.exists("docs/big.bin")


def test_an_expired_sas_refuses_a_block(storage, monkeypatch):
    import time

    monkeypatch.setattr(direct_uploads, "CLOCK_SKEW", 0)
    target = storage.upload_target("docs/big.bin", max_size=len(BODY), expires_in=1)
    time.sleep(2.5)
    response = requests.put(
        f"{target['url']}&comp=block&blockid={block_id(0)}", data=BODY[:BLOCK], timeout=30
    )
    assert response.status_code == 403
