"""Direct uploads in Chromium: 20 MiB through ``DirectUploadField`` to each store, and the admin.

The live server records the body size of every request it receives
(tests/liveserver.py): the file's bytes must go to the bucket, never to
Django. On a local mount they go to the app's own upload view (a streamed
PUT), and still never with the form.

Cross-origin uploads need the store to answer CORS preflights: Azurite and
moto get the rule from ``Backend.apply_cors()``. fake-gcs-server has no
bucket CORS: it allows any origin, and only the request headers of its
``-cors-headers`` flag, here the signed headers of the gcs rule; so the gcs
rule itself (``storage_cors``) is not what the browser meets here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from django.core.files.base import ContentFile
from django.test import override_settings
from playwright.sync_api import Browser, Locator, Page, Route, expect

from genro_storage_django.backends import azure
from genro_storage_django.storage import MountStorage, get_storage
from tests.faultproxy import FaultProxy
from tests.liveserver import BODIES
from tests.serverkit import free_port, run_process
from tests.servers import AZURITE_ACCOUNT, BUCKET, Server, _gcs_command
from tests.test_browser import (  # noqa: F401 -- fixtures, used by name
    chromium,
    log_in,
    new_page,
    row,
    superuser,
)
from tests.test_direct_uploads import (  # noqa: F401 -- fixtures, used by name
    config_of,
    gcs_signing_config,
    token_server,
)
from tests.test_direct_uploads_blocks import block_id

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.direct_upload_site"),
]

MiB = 1024 * 1024
BIG = 20 * MiB
#: Bytes any request to Django may carry: forms, tickets, grants; never a file.
SMALL = 64 * 1024
BROWSE = "/admin/genro_storage_django/storagemount/{mount}/browse/{path}"


def pattern(size: int) -> bytes:
    """Return ``size`` bytes that no two offsets of a MiB share (what the page also builds)."""
    return bytes(index % 251 for index in range(251)) * (size // 251) + bytes(range(size % 251))


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("direct") / "big.bin"
    path.write_bytes(pattern(BIG))
    return path


@pytest.fixture(scope="session")
def gcs_upload_server(server_logs: Path) -> Iterator[Server]:
    """fake-gcs-server taking signed-URL uploads (public host 127.0.0.1) from a page."""
    port = free_port()
    allowed = "x-goog-content-length-range,x-goog-if-generation-match"
    command = [*_gcs_command(port), "-public-host", "127.0.0.1", "-cors-headers", allowed]
    with run_process(command, server_logs / "gcs-browser.log", port):
        url = f"http://127.0.0.1:{port}"
        created = requests.post(
            f"{url}/storage/v1/b?project=test-project", json={"name": BUCKET}, timeout=10
        )
        created.raise_for_status()
        yield Server(url)


def mount(config: dict[str, Any], live_server: Any) -> Iterator[MountStorage]:
    with override_settings(STORAGE_MOUNTS={"up": config}):
        storage = get_storage("up")
        if config["type"] in ("s3", "azure"):
            storage.backend.apply_cors([live_server.url])
        yield storage


@pytest.fixture(params=["s3", "gcs", "azure", "local"])
def storage(request: pytest.FixtureRequest, live_server: Any) -> Iterator[MountStorage]:
    yield from mount(config_of(request.param, request), live_server)


def digest(storage: MountStorage, name: str) -> str:
    with storage.open(name) as file:
        return hashlib.sha256(file.read()).hexdigest()


def big_bodies() -> list[tuple[str, str, int]]:
    return [entry for entry in BODIES.entries() if entry[2] > SMALL]


def upload(page: Page, url: str, file: Path) -> Locator:
    """Upload ``file`` through the form at ``url``; return the widget, done.

    ``BODIES`` is cleared once the page is loaded: it then holds what the
    upload (and the save that follows) sent to Django.
    """
    page.goto(url)
    BODIES.clear()
    page.fill("#id_title", "Big")
    page.set_input_files("#id_file", str(file))
    widget = page.locator("[data-storage-direct-upload]")
    expect(widget).to_have_attribute("data-state", "done", timeout=60_000)
    expect(widget.locator("progress")).to_have_js_property("value", 100)
    return widget


def save(page: Page) -> None:
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#saved")).to_have_text("uploads/big.bin")


def test_a_20_mib_file_goes_straight_to_the_store(
    chromium: Browser,  # noqa: F811
    live_server: Any,
    storage: MountStorage,
    big_file: Path,
) -> None:
    page = new_page(chromium)
    widget = upload(page, f"{live_server.url}/form/up/", big_file)
    expect(widget.locator("[role=status]")).to_have_text("Uploaded: uploads/big.bin")
    assert page.eval_on_selector("#id_file", "input => input.files.length") == 0
    save(page)
    if storage.mount.type == "local":
        # No store to sign for: the app's upload view took the bytes, as one PUT.
        assert [(method, size) for method, _, size in big_bodies()] == [("PUT", BIG)]
    else:
        assert big_bodies() == []
    assert digest(storage, "uploads/big.bin") == hashlib.sha256(big_file.read_bytes()).hexdigest()


def test_azure_takes_a_large_file_in_blocks_and_one_failed_block_again(
    chromium: Browser,  # noqa: F811
    live_server: Any,
    azure_mount_config: dict[str, Any],
    big_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A field above one Put Blob's 5000 MiB; 4 MiB blocks make 20 MiB five.
    monkeypatch.setattr(azure, "BLOCK_SIZE", 4 * MiB)
    sent: list[str] = []
    failed: list[str] = []
    for storage in mount(azure_mount_config, live_server):
        page = new_page(chromium)
        page.on("request", lambda request: sent.append(request.url))

        def fail_once(route: Route) -> None:
            # The first try of the third block dies on the network: sent again alone.
            if not failed and quote(block_id(2)) in route.request.url:
                failed.append(route.request.url)
                route.abort("connectionreset")
            else:
                route.continue_()

        page.route(f"**/{AZURITE_ACCOUNT}/**comp=block&**", fail_once)
        upload(page, f"{live_server.url}/form/up/{6 * 1024**3}/", big_file)
        save(page)
        blocks = sorted(url for url in sent if "comp=block&" in url)
        assert len(failed) == 1 and blocks.count(failed[0]) == 2
        assert {_block_of(url) for url in blocks} == {block_id(index) for index in range(5)}
        assert len(blocks) == 6
        assert len([url for url in sent if "comp=blocklist" in url]) == 1
        assert big_bodies() == []
        expected = hashlib.sha256(big_file.read_bytes()).hexdigest()
        assert digest(storage, "uploads/big.bin") == expected


def _block_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["blockid"][0]


def test_a_refused_file_is_reported_and_not_posted(
    chromium: Browser,  # noqa: F811
    live_server: Any,
    local_mount_config: dict[str, Any],
    tmp_path: Path,
) -> None:
    # A file above the field's max_size: the endpoint refuses it at once.
    huge = tmp_path / "huge.bin"
    with huge.open("wb") as file:
        file.truncate(33 * MiB)  # sparse: 33 MiB on the page, no disk
    for storage in mount(local_mount_config, live_server):
        page = new_page(chromium)
        page.goto(f"{live_server.url}/form/up/")
        page.set_input_files("#id_file", str(huge))
        widget = page.locator("[data-storage-direct-upload]")
        expect(widget).to_have_attribute("data-state", "failed")
        expect(widget.locator("[role=status]")).to_contain_text("larger than the 33554432 bytes")
        assert page.eval_on_selector("#id_file", "input => input.files.length") == 0
        assert not storage.exists("uploads")


@pytest.fixture
def bucket(
    s3_mount_config: dict[str, Any],
    live_server: Any,
    superuser: Any,  # noqa: F811
) -> Iterator[MountStorage]:
    settings = {"STORAGE_ADMIN_DIRECT_UPLOAD_SIZE": MiB, "STORAGE_ADMIN_LISTING_CACHE_TTL": 300}
    with override_settings(**settings):
        yield from mount(s3_mount_config, live_server)


def test_the_admin_sends_a_large_dropped_file_to_the_bucket(
    chromium: Browser,  # noqa: F811
    live_server: Any,
    bucket: MountStorage,
) -> None:
    bucket.save("docs/readme.txt", ContentFile(b"read me"))
    page = new_page(chromium)
    log_in(page, live_server)
    page.goto(live_server.url + BROWSE.format(mount="up", path="docs"))
    expect(row(page, "readme.txt")).to_be_visible()  # the listing is now cached
    BODIES.clear()
    drop(page, {"large.bin": 2 * MiB, "small.bin": 1000})
    entries = page.locator(".storage-queue li")
    expect(entries).to_have_count(2)
    for entry in entries.all():
        expect(entry).to_have_attribute("data-state", "done", timeout=30_000)
    # The upload form's files join the same queue when one of them goes direct.
    page.set_input_files(
        ".storage-upload input[type=file]",
        [{"name": "form.bin", "mimeType": "application/octet-stream", "buffer": pattern(2 * MiB)}],
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(entries).to_have_count(3)
    expect(entries.nth(2)).to_have_attribute("data-state", "done", timeout=30_000)
    assert bucket.open("docs/form.bin").read() == pattern(2 * MiB)
    assert big_bodies() == []  # the small one came here, the large ones did not
    assert any("/upload/docs" in path and size > 1000 for _, path, size in BODIES.entries())
    assert bucket.open("docs/large.bin").read() == pattern(2 * MiB)
    assert bucket.open("docs/small.bin").read() == pattern(1000)
    page.get_by_role("link", name="Show the uploaded files").click()
    expect(row(page, "large.bin")).to_contain_text("2.0\xa0MB")
    expect(row(page, "small.bin")).to_be_visible()
    expect(row(page, "form.bin")).to_be_visible()


def test_the_admin_cancels_an_upload_in_blocks_and_no_blob_is_left(
    chromium: Browser,  # noqa: F811
    live_server: Any,
    azure_mount_config: dict[str, Any],
    superuser: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The admin signs for the file's own size: blocks above 2 MiB here, not
    # 5000 MiB. 1 MiB blocks through a proxy that holds each request 0.3 s:
    # 16 MiB take seconds, time to cancel with blocks in flight.
    monkeypatch.setattr(azure, "BLOCKS_ABOVE", 2 * MiB)
    monkeypatch.setattr(azure, "BLOCK_SIZE", MiB)
    port = urlsplit(azure_mount_config["endpoint_url"]).port
    sent: list[str] = []
    settings = {"STORAGE_ADMIN_DIRECT_UPLOAD_SIZE": MiB}
    with FaultProxy(port, latency=0.3) as proxy, override_settings(**settings):
        slow = {**azure_mount_config, "endpoint_url": f"{proxy.url}/{AZURITE_ACCOUNT}"}
        for storage in mount(slow, live_server):
            page = new_page(chromium)
            page.on("request", lambda request: sent.append(request.url))
            log_in(page, live_server)
            page.goto(live_server.url + BROWSE.format(mount="up", path=""))
            drop(page, {"cancelled.bin": 16 * MiB})
            entry = page.locator(".storage-queue li").first
            expect(entry.locator("progress")).not_to_have_js_property("value", 0, timeout=30_000)
            entry.locator(".storage-cancel").click()
            expect(entry).to_have_attribute("data-state", "cancelled")
            staged = len([url for url in sent if "comp=block&" in url])
            page.wait_for_timeout(1000)  # what a running upload would send meanwhile
            assert 0 < staged < 16, staged
            assert len([url for url in sent if "comp=block&" in url]) == staged
            assert not [url for url in sent if "comp=blocklist" in url]
            assert not storage.exists("cancelled.bin")
            assert storage.listdir("") == ([], [])


def drop(page: Page, files: dict[str, int]) -> None:
    """Drop files of these names and sizes, filled as ``pattern()`` fills them."""
    page.evaluate(
        """(files) => {
          const data = new DataTransfer();
          for (const [name, size] of Object.entries(files)) {
            const bytes = new Uint8Array(size);
            for (let index = 0; index < size; index++) { bytes[index] = index % 251; }
            data.items.add(new File([bytes], name, {type: 'application/octet-stream'}));
          }
          document.querySelector('[data-storage-drop]')
            .dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true}));
        }""",
        files,
    )
