"""The admin file browser end to end: Django's live server and Debian's Chromium.

Chromium is installed by ``make test`` (scripts/test-deps.sh); without it these
tests fail rather than skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.test_admin import PNG

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
# Without the networking flags Chromium keeps calling outside hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
PASSWORD = "browser-test-pw"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run 'make test-deps'."
    # Playwright's sync API keeps an event loop running in this thread; the ORM
    # calls of the tests and of the database teardown must still be allowed.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def media(tmp_path: Path) -> Iterator[Path]:
    """A local mount "media" holding ``docs/readme.txt``, and a memory mount "scratch"."""
    root = tmp_path / "media"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "readme.txt").write_text("Read <me> first.\n")
    mounts = {
        "media": {"type": "local", "path": str(root), "serve": True},
        "scratch": {"type": "memory", "serve": True},
    }
    with override_settings(STORAGE_MOUNTS=mounts):
        yield root


@pytest.fixture
def superuser(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("admin", "admin@example.com", PASSWORD)


def new_page(chromium: Browser, **context: Any) -> Page:
    page = chromium.new_context(**context).new_page()
    page.set_default_timeout(15_000)
    return page


def log_in(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def success(page: Page) -> Any:
    return page.locator(".messagelist .success")


def row(page: Page, name: str) -> Any:
    return page.locator("#result_list tbody tr").filter(
        has=page.get_by_role("link", name=name, exact=True)
    )


def test_browse_upload_preview_rename_delete(
    chromium: Browser, live_server: Any, media: Path, superuser: Any
) -> None:
    page = new_page(chromium)
    log_in(page, live_server)
    storage_section = page.locator("#content-main .app-genro_storage_django")
    expect(storage_section).to_contain_text("Storage")
    shoot(page, "01-admin-index")

    storage_section.get_by_role("link", name="Mounts").click()
    expect(page.locator("#result_list")).to_contain_text("scratch")
    shoot(page, "02-mounts")

    page.get_by_role("link", name="media", exact=True).click()
    expect(row(page, "docs/")).to_be_visible()

    # The status line is what the upload script updates: record each change.
    progress: list[str] = []
    page.expose_function("recordProgress", lambda text: progress.append(text))
    page.evaluate(
        """() => {
          const status = document.querySelector('.storage-upload-status');
          new MutationObserver(() => window.recordProgress(status.textContent))
            .observe(status, {childList: true, characterData: true, subtree: true});
        }"""
    )
    page.set_input_files(
        "input[type=file]",
        [
            {"name": "pixel.png", "mimeType": "image/png", "buffer": PNG},
            {"name": "big.bin", "mimeType": "application/octet-stream", "buffer": b"0" * 3_000_000},
        ],
    )
    with page.expect_response(lambda response: "/upload/" in response.url) as upload:
        page.get_by_role("button", name="Upload", exact=True).click()
    assert upload.value.request.headers["x-requested-with"] == "XMLHttpRequest"
    expect(success(page)).to_have_text("Uploaded 2 files: pixel.png, big.bin.")
    assert progress and progress[-1] == "100%"
    assert (media / "pixel.png").read_bytes() == PNG
    expect(row(page, "pixel.png")).to_contain_text(f"{len(PNG)}\xa0bytes")
    shoot(page, "03-directory-after-upload")

    page.get_by_role("link", name="pixel.png", exact=True).click()
    image = page.locator("img.storage-image")
    expect(image).to_be_visible()
    page.wait_for_function("() => document.querySelector('img.storage-image').complete")
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [48, 32]
    expect(page.locator(".storage-facts")).to_contain_text("image/png")
    expect(page.locator(".storage-url")).to_have_text("/storage/serve/media/pixel.png")
    shoot(page, "04-file-detail-image")

    page.locator(".storage-file-tools").get_by_role("link", name="Rename").click()
    page.fill("#id_new_name", "images/renamed.png")
    shoot(page, "05-rename")
    page.get_by_role("button", name="Rename").click()
    expect(success(page)).to_have_text("Renamed “pixel.png” to “images/renamed.png”.")
    expect(row(page, "renamed.png")).to_be_visible()
    assert (media / "images" / "renamed.png").read_bytes() == PNG
    assert not (media / "pixel.png").exists()

    page.locator(".breadcrumbs").get_by_role("link", name="media").click()
    row(page, "docs/").get_by_role("link", name="Delete").click()
    expect(page.locator(".storage-doomed")).to_contain_text("docs/readme.txt")
    shoot(page, "06-delete-confirmation")
    page.get_by_role("button", name="Yes, I\u2019m sure").click()
    expect(success(page)).to_have_text("Deleted “docs”.")
    expect(row(page, "docs/")).to_have_count(0)
    assert not (media / "docs").exists()


def test_text_preview_filter_and_sort(
    chromium: Browser, live_server: Any, media: Path, superuser: Any
) -> None:
    (media / "zeta.txt").write_text("z" * 500)
    (media / "alpha.txt").write_text("a")
    page = new_page(chromium)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/genro_storage_django/storagemount/media/browse/")
    names = page.locator("#result_list tbody th a")
    expect(names).to_have_text(["docs/", "alpha.txt", "zeta.txt"])
    page.get_by_role("link", name="Size").click()
    page.get_by_role("link", name="Size ↑").click()
    expect(names).to_have_text(["docs/", "zeta.txt", "alpha.txt"])
    page.fill("#storage-q", "ZET")
    page.get_by_role("button", name="Filter").click()
    expect(names).to_have_text(["zeta.txt"])

    page.goto(f"{live_server.url}/admin/genro_storage_django/storagemount/media/browse/docs")
    page.get_by_role("link", name="readme.txt").click()
    expect(page.locator("pre.storage-text")).to_have_text("Read <me> first.")
    shoot(page, "07-file-detail-text")


def test_upload_without_javascript_posts_the_form(
    chromium: Browser, live_server: Any, media: Path, superuser: Any
) -> None:
    page = new_page(chromium, java_script_enabled=False)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/genro_storage_django/storagemount/scratch/browse/")
    page.set_input_files(
        "input[type=file]", [{"name": "plain.txt", "mimeType": "text/plain", "buffer": b"hello"}]
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(success(page)).to_have_text("Uploaded 1 file: plain.txt.")
    page.fill("#id_name", "made-without-js")
    page.get_by_role("button", name="Create folder").click()
    expect(success(page)).to_have_text("Created the folder “made-without-js”.")
    expect(row(page, "made-without-js/")).to_be_visible()


def test_dark_mode_and_small_screens(
    chromium: Browser, live_server: Any, media: Path, superuser: Any
) -> None:
    page = new_page(chromium, color_scheme="dark", viewport={"width": 390, "height": 844})
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/genro_storage_django/storagemount/media/browse/docs")
    expect(row(page, "readme.txt")).to_be_visible()
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    channels = [int(part) for part in background[background.index("(") + 1 : -1].split(",")[:3]]
    assert max(channels) < 80, background
    # The page itself never scrolls sideways; only the table may.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(page, "08-directory-dark-mobile")


def test_staff_switch_tenants_from_the_mount_list(
    chromium: Browser, live_server: Any, superuser: Any
) -> None:
    from django.core.files.base import ContentFile

    from genro_storage_django import get_storage
    from genro_storage_django.tenants import tenant

    mounts = {"per": {"type": "memory", "tenant": "genro_storage_django.tenants.current_tenant"}}
    with override_settings(STORAGE_MOUNTS=mounts):
        for name in ("acme", "beta"):
            with tenant(name):
                get_storage("per").save(f"{name}-report.txt", ContentFile(name.encode()))
        page = new_page(chromium)
        log_in(page, live_server)
        page.goto(f"{live_server.url}/admin/genro_storage_django/storagemount/")
        page.fill("#id_tenant", "acme")
        page.click(".storage-tenant input[type=submit]")
        expect(success(page)).to_contain_text("acme")
        shoot(page, "20-tenant-switched")
        page.get_by_role("link", name="per", exact=True).click()
        expect(row(page, "acme-report.txt")).to_be_visible()
        expect(page.get_by_role("link", name="beta-report.txt")).to_have_count(0)
        page.goto(f"{live_server.url}/admin/genro_storage_django/storagemount/")
        page.fill("#id_tenant", "beta")
        page.click(".storage-tenant input[type=submit]")
        page.get_by_role("link", name="per", exact=True).click()
        expect(row(page, "beta-report.txt")).to_be_visible()
        expect(page.get_by_role("link", name="acme-report.txt")).to_have_count(0)
        shoot(page, "21-tenant-beta")
