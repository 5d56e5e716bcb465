"""The folder page's new tools end to end in Chromium: bulk actions, ZIP download, search,
grid with thumbnails, drag and drop, small screens and an axe-core accessibility check."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from genro_storage_django import get_storage
from tests.test_admin import make_png
from tests.test_browser import (  # noqa: F401 -- fixtures, used by name
    chromium,
    log_in,
    media,
    new_page,
    row,
    shoot,
    success,
    superuser,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BROWSE = "/admin/genro_storage_django/storagemount/{mount}/browse/{path}"
AXE = (
    Path(__file__).resolve().parent.parent / ".servers" / "node_modules" / "axe-core" / "axe.min.js"
)


def open_folder(page: Page, live_server: Any, mount: str, path: str = "") -> None:
    page.goto(live_server.url + BROWSE.format(mount=mount, path=path))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_select_all_then_move_zip_copy_and_delete(
    chromium: Browser,  # noqa: F811
    live_server: Any,
    media: Path,  # noqa: F811
    superuser: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    inbox = media / "inbox"
    inbox.mkdir()
    contents = {"a.txt": b"alpha\n" * 100, "b.bin": bytes(range(256)) * 50, "c.png": make_png(9, 9)}
    for name, data in contents.items():
        (inbox / name).write_bytes(data)
    page = new_page(chromium)
    log_in(page, live_server)
    open_folder(page, live_server, "media", "inbox")

    bar = page.locator("#storage-bulk")
    expect(bar.get_by_role("button", name="Move…")).to_be_disabled()
    page.get_by_label("Select all on this page").check()
    expect(bar.locator(".storage-selected")).to_have_text("Selected: 3")
    shoot(page, "30-bulk-selected")
    bar.get_by_role("button", name="Move…").click()
    expect(page.locator(".storage-doomed li")).to_have_count(3)
    page.fill("#storage-target", "archive")
    page.get_by_role("button", name="Move", exact=True).click()
    expect(success(page)).to_have_text("Moved 3 items to “archive”.")
    assert not list(inbox.iterdir())
    assert (media / "archive" / "inbox").is_dir() is False
    assert (media / "archive" / "a.txt").read_bytes() == contents["a.txt"]

    open_folder(page, live_server, "media", "archive")
    page.get_by_label("Select all on this page").check()
    with page.expect_download() as download:
        bar.get_by_role("button", name="Download as ZIP").click()
    assert download.value.suggested_filename == "archive.zip"
    saved = tmp_path / "archive.zip"
    download.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert {name: sha256(archive.read(name)) for name in archive.namelist()} == {
            name: sha256(data) for name, data in contents.items()
        }

    open_folder(page, live_server, "media", "archive")
    row(page, "a.txt").get_by_role("checkbox").check()
    row(page, "b.bin").get_by_role("checkbox").check()
    bar.get_by_role("button", name="Copy to another mount…").click()
    page.select_option("#storage-target-mount", "scratch")
    page.fill("#storage-target", "copied")
    shoot(page, "31-bulk-copy")
    page.get_by_role("button", name="Copy", exact=True).click()
    expect(success(page)).to_have_text("Copied 2 files to “scratch”; 0 were there already.")
    scratch = get_storage("scratch")
    assert scratch.open("copied/a.txt").read() == contents["a.txt"]
    assert scratch.open("copied/b.bin").read() == contents["b.bin"]

    page.get_by_label("Select all on this page").check()
    bar.get_by_role("button", name="Delete…").click()
    expect(page.locator(".storage-doomed")).to_contain_text("archive/c.png")
    shoot(page, "32-bulk-delete-confirmation")
    page.get_by_role("button", name="Yes, I\u2019m sure").click()
    expect(success(page)).to_have_text("Deleted 3 items.")
    assert not list((media / "archive").iterdir())


def test_select_all_matching_across_pages_then_delete(
    chromium: Browser,  # noqa: F811
    live_server: Any,
    media: Path,  # noqa: F811
    superuser: Any,  # noqa: F811
) -> None:
    many = media / "many"
    many.mkdir()
    for index in range(105):
        (many / f"f{index:03}.txt").write_text(str(index))
    page = new_page(chromium)
    log_in(page, live_server)
    open_folder(page, live_server, "media", "many")
    bar = page.locator("#storage-bulk")
    select_all = bar.get_by_role("button", name="Select all 105 items")
    expect(select_all).to_be_hidden()
    page.get_by_label("Select all on this page").check()
    expect(bar.locator(".storage-selected")).to_have_text("Selected: 100")
    select_all.click()
    expect(bar.locator(".storage-across-all")).to_have_text("All 105 items are selected.")
    expect(bar.get_by_role("button", name="Clear selection")).to_be_focused()
    assert axe_violations(page) == []
    # Unticking a box goes back to the page's own selection.
    row(page, "f000.txt").get_by_role("checkbox").uncheck()
    expect(bar.locator(".storage-across-all")).to_be_hidden()
    expect(bar.locator(".storage-selected")).to_have_text("Selected: 99")
    row(page, "f000.txt").get_by_role("checkbox").check()
    select_all.click()
    bar.get_by_role("button", name="Delete…").click()
    expect(page.locator("#content-main")).to_contain_text("delete these 105 items")
    expect(page.locator(".storage-doomed > li")).to_have_count(100)
    expect(page.locator(".storage-more")).to_have_text("…and 5 more items.")
    page.get_by_role("button", name="Yes, I\u2019m sure").click()
    expect(success(page)).to_have_text("Deleted 105 items.")
    assert not list(many.iterdir())


def test_search_and_grid_with_thumbnails(
    chromium: Browser,  # noqa: F811
    live_server: Any,
    media: Path,  # noqa: F811
    superuser: Any,  # noqa: F811
) -> None:
    (media / "docs" / "2024").mkdir()
    (media / "docs" / "2024" / "annual-report.txt").write_text("r")
    (media / "docs" / "Report.md").write_text("r")
    (media / "pics").mkdir()
    (media / "pics" / "wide.png").write_bytes(make_png(400, 100))
    (media / "pics" / "tall.png").write_bytes(make_png(50, 300))
    (media / "pics" / "vector.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    page = new_page(chromium)
    log_in(page, live_server)
    open_folder(page, live_server, "media")
    page.fill("#storage-q", "report")
    page.get_by_label("Search all subfolders").check()
    page.get_by_role("button", name="Filter").click()
    names = page.locator("#result_list tbody th a")
    expect(names).to_have_text(["docs/2024/annual-report.txt", "docs/Report.md"])
    shoot(page, "33-search")

    open_folder(page, live_server, "media", "pics")
    page.get_by_role("link", name="Grid").click()
    thumbnails = page.locator("img.storage-thumbnail")
    expect(thumbnails).to_have_count(2)
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.storage-thumbnail')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    sizes = thumbnails.evaluate_all(
        "imgs => imgs.map(img => [img.naturalWidth, img.naturalHeight])"
    )
    assert sorted(sizes) == [[33, 200], [200, 50]]
    expect(page.locator(".storage-grid li", has_text="vector.svg").locator("img")).to_have_count(0)
    shoot(page, "34-grid-thumbnails")


def test_drop_files_and_upload_a_folder_with_progress_and_cancel(
    chromium: Browser,  # noqa: F811
    live_server: Any,
    media: Path,  # noqa: F811
    superuser: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    page = new_page(chromium)
    log_in(page, live_server)
    open_folder(page, live_server, "media", "docs")
    zone = page.locator("[data-storage-drop]")
    expect(zone).to_be_visible()
    # Ten files dropped, the last one cancelled while it waits its turn.
    page.evaluate(
        """async () => {
          const data = new DataTransfer();
          for (let i = 0; i < 10; i++) {
            data.items.add(new File(['dropped ' + i + ' '.repeat(200000)], 'drop-' + i + '.txt'));
          }
          const zone = document.querySelector('[data-storage-drop]');
          zone.dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true}));
          while (document.querySelectorAll('.storage-queue li').length < 10) {
            await new Promise(resolve => setTimeout(resolve, 0));
          }
          document.querySelectorAll('.storage-queue li')[9].querySelector('button').click();
        }"""
    )
    queue = page.locator(".storage-queue li")
    expect(queue).to_have_count(10)
    expect(page.locator(".storage-queue li[data-state=done]")).to_have_count(9)
    expect(queue.nth(9)).to_have_attribute("data-state", "cancelled")
    expect(queue.nth(9)).to_contain_text("Cancelled")
    expect(queue.nth(0).locator("progress")).to_have_attribute("value", "100")
    assert sorted(p.name for p in (media / "docs").glob("drop-*")) == [
        f"drop-{i}.txt" for i in range(9)
    ]
    assert (media / "docs" / "drop-3.txt").read_text().startswith("dropped 3 ")

    # A folder of two folders, ten files each, keeps its structure.
    chosen = tmp_path / "album"
    for folder in ("spring", "summer"):
        (chosen / folder).mkdir(parents=True)
        for index in range(10):
            (chosen / folder / f"{folder}-{index}.txt").write_text(f"{folder} {index}")
    page.set_input_files(".storage-folder-input", str(chosen))
    expect(page.locator(".storage-queue li[data-state=done]")).to_have_count(29)
    shoot(page, "35-drop-upload-queue")
    for folder in ("spring", "summer"):
        uploaded = sorted(p.name for p in (media / "docs" / "album" / folder).iterdir())
        assert uploaded == sorted(f"{folder}-{index}.txt" for index in range(10))
    assert (media / "docs" / "album" / "summer" / "summer-7.txt").read_text() == "summer 7"
    page.locator(".storage-queue-done a").click()
    expect(row(page, "album/")).to_be_visible()


def test_an_upload_after_the_session_ended_is_reported_not_saved(
    chromium: Browser,  # noqa: F811
    live_server: Any,
    media: Path,  # noqa: F811
    superuser: Any,  # noqa: F811
) -> None:
    # The admin answers a logged-out upload with the login page, and
    # XMLHttpRequest follows that redirect to a 200: not a saved file.
    page = new_page(chromium)
    log_in(page, live_server)
    open_folder(page, live_server, "media", "docs")
    page.context.clear_cookies(name="sessionid")
    page.evaluate(
        """() => {
          const data = new DataTransfer();
          data.items.add(new File(['late'], 'late.txt'));
          document.querySelector('[data-storage-drop]')
            .dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true}));
        }"""
    )
    entry = page.locator(".storage-queue li")
    expect(entry).to_have_attribute("data-state", "failed")
    expect(entry).to_contain_text("Not saved: log in again")
    assert not (media / "docs" / "late.txt").exists()


def axe_violations(page: Page) -> list[tuple[str, list[Any]]]:
    """Return the serious and critical axe-core violations: rule id and the elements at fault."""
    assert AXE.exists(), f"{AXE} is missing: run 'make test-deps'."
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        (violation["id"], [node["target"] for node in violation["nodes"]])
        for violation in result
        if violation["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_small_screen_menu_keyboard_and_accessibility(
    chromium: Browser,  # noqa: F811
    live_server: Any,
    media: Path,  # noqa: F811
    superuser: Any,  # noqa: F811
    scheme: str,
) -> None:
    for index in range(5):
        (media / "docs" / f"a-file-with-a-rather-long-name-{index}.txt").write_text("x")
    page = new_page(chromium, viewport={"width": 390, "height": 844}, color_scheme=scheme)
    log_in(page, live_server)
    open_folder(page, live_server, "media", "docs")
    first = row(page, "readme.txt")
    delete = first.get_by_role("link", name="Delete")
    expect(delete).to_be_hidden()
    menu = first.get_by_role("button", name="Actions for “readme.txt”")
    expect(menu).to_be_visible()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(delete).to_be_visible()
    expect(first.get_by_role("link", name="Download")).to_be_focused()
    page.keyboard.press("Escape")
    expect(delete).to_be_hidden()
    expect(menu).to_be_focused()
    outline = menu.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"
    # No column cut off, and the page itself never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    table_fits = page.evaluate(
        "() => { const t = document.querySelector('#result_list');"
        " return t.getBoundingClientRect().right <= window.innerWidth; }"
    )
    assert table_fits
    shoot(page, f"36-directory-390-{scheme}")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Grid").click()
    expect(page.locator(".storage-grid")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert axe_violations(page) == []
    shoot(page, f"37-grid-390-{scheme}")


def test_accessibility_of_the_wide_pages(
    chromium: Browser,  # noqa: F811
    live_server: Any,
    media: Path,  # noqa: F811
    superuser: Any,  # noqa: F811
) -> None:
    page = new_page(chromium)
    log_in(page, live_server)
    open_folder(page, live_server, "media")
    assert axe_violations(page) == []
    page.get_by_label("Select all on this page").check()
    page.locator("#storage-bulk").get_by_role("button", name="Delete…").click()
    expect(page.locator(".storage-doomed")).to_contain_text("docs/readme.txt")
    assert axe_violations(page) == []
    # Keyboard only: Tab reaches the checkboxes, Space ticks one.
    page.goto(live_server.url + BROWSE.format(mount="media", path=""))
    box = row(page, "docs/").get_by_role("checkbox")
    box.focus()
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    expect(page.locator(".storage-selected")).to_have_text("Selected: 1")


def test_italian_ui(
    chromium: Browser,  # noqa: F811
    live_server: Any,
    media: Path,  # noqa: F811
    superuser: Any,  # noqa: F811
) -> None:
    page = new_page(chromium, locale="it-IT")
    log_in(page, live_server)
    open_folder(page, live_server, "media")
    bar = page.locator("#storage-bulk")
    expect(bar.get_by_role("button", name="Scarica come ZIP")).to_be_visible()
    page.get_by_label("Seleziona tutto in questa pagina").check()
    expect(bar.locator(".storage-selected")).to_have_text("Selezionati: 1")
    expect(page.get_by_role("link", name="Griglia")).to_be_visible()
    expect(page.locator("#result_list thead")).to_contain_text("Dimensione")
    shoot(page, "38-directory-italian")
    bar.get_by_role("button", name="Elimina…").click()
    expect(page.locator("#content-main")).to_contain_text("Vuoi davvero eliminare")
    page.get_by_role("button", name="Sì, sono sicuro").click()
    expect(success(page)).to_have_text("Eliminato 1 elemento.")
    assert not (media / "docs").exists()
