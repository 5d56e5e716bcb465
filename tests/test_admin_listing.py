"""Folder pages on every mount kind: recursive search, S3, GCS and Azure list pages fetched as
needed, the listing cache, thumbnails. Requests to moto are counted at the server, to the
other emulators at a fault proxy."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client, override_settings

from genro_storage_django import get_storage
from genro_storage_django.storage import MountStorage
from tests.faultproxy import FaultProxy
from tests.servers import BUCKET
from tests.test_admin import PNG, make_png, url
from tests.test_backends_pages import _port
from tests.test_backends_pages import list_requests as list_requests_at

pytestmark = pytest.mark.django_db


def names(response: Any) -> list[str]:
    return [row["entry"].name for row in response.context["rows"]]


@pytest.fixture(params=["local", "memory", "s3", "gcs", "azure"])
def any_mount(request: pytest.FixtureRequest) -> Iterator[MountStorage]:
    """A writable mount called "m" of each kind, with a memory mount "thumbs"."""
    config = request.getfixturevalue(f"{request.param}_mount_config")
    mounts = {"m": config, "thumbs": {"type": "memory"}}
    with override_settings(STORAGE_MOUNTS=mounts, STORAGE_ADMIN_THUMBNAIL_MOUNT="thumbs"):
        yield get_storage("m")


def seed_tree(storage: MountStorage) -> None:
    for name in (
        "reports/2024/Report-Q1.pdf",
        "reports/2024/summary.txt",
        "reports/2025/report-q2.PDF",
        "reports/notes.md",
        "other/report.txt",
    ):
        storage.save(name, ContentFile(b"x"))


def test_recursive_search_below_the_folder(admin_client: Client, any_mount: MountStorage) -> None:
    seed_tree(any_mount)
    found = admin_client.get(url("browse", "m", "reports"), {"q": "report", "r": "1"})
    assert found.status_code == 200 and found.context["searched"]
    assert sorted(names(found)) == ["2024/Report-Q1.pdf", "2025/report-q2.PDF"]
    links = [row["url"] for row in found.context["rows"]]
    assert url("file", "m", "reports/2024/Report-Q1.pdf") in links
    glob = admin_client.get(url("browse", "m", "reports"), {"q": "*.pdf", "r": "1"})
    assert sorted(names(glob)) == ["2024/Report-Q1.pdf", "2025/report-q2.PDF"]
    question = admin_client.get(url("browse", "m"), {"q": "report.???", "r": "1"})
    assert names(question) == ["other/report.txt"]
    # Without "all subfolders", the box filters the folder's own names only.
    flat = admin_client.get(url("browse", "m", "reports"), {"q": "report"})
    assert names(flat) == [] and not flat.context["searched"]


def test_search_results_are_paginated(admin_client: Client, mounts: Any) -> None:
    storage = get_storage("memory")
    for index in range(130):
        storage.save(f"deep/{index % 3}/hit-{index:03}.txt", ContentFile(b""))
    storage.save("deep/miss.txt", ContentFile(b""))
    first = admin_client.get(url("browse", "memory"), {"q": "hit", "r": "1"})
    assert len(names(first)) == 100 and first.context["page"].paginator.count == 130
    second = admin_client.get(url("browse", "memory"), {"q": "hit", "r": "1", "p": "2"})
    assert len(names(second)) == 30
    assert not set(names(first)) & set(names(second))


@pytest.fixture
def mounts(tmp_path: Any) -> Iterator[dict[str, Any]]:
    config = {"memory": {"type": "memory"}}
    thumbnails = str(tmp_path / "thumbnails")
    with override_settings(STORAGE_MOUNTS=config, STORAGE_ADMIN_THUMBNAIL_DIR=thumbnails):
        yield config


# S3: list pages fetched up to the page shown, and the cache.


def list_requests(s3_server: Any) -> int:
    return sum(
        1
        for method, path, _range in s3_server.log.snapshot()
        if method == "GET" and path.rstrip("/") == f"/{BUCKET}"
    )


@pytest.fixture
def big_s3(s3_server: Any, s3_mount_config: dict[str, Any]) -> Iterator[MountStorage]:
    """An S3 mount "s3" whose folder "big" holds 350 files and 2 folders; 150 keys a list page."""
    with override_settings(
        STORAGE_MOUNTS={"s3": s3_mount_config, "memory": {"type": "memory"}},
        STORAGE_ADMIN_LIST_KEYS=150,
    ):
        storage = get_storage("s3")
        backend = storage.backend
        files = {backend.full_path(f"big/f{index:04}.txt"): b"x" * index for index in range(350)}
        files[backend.full_path("big/A-folder/inner.txt")] = b"i"
        files[backend.full_path("big/f0100-folder/inner.txt")] = b"i"
        backend.fs.pipe(files)
        yield storage


def test_the_first_page_of_a_large_s3_folder_costs_one_list_request(
    admin_client: Client, big_s3: MountStorage, s3_server: Any
) -> None:
    before = list_requests(s3_server)
    first = admin_client.get(url("browse", "s3", "big"))
    assert first.status_code == 200
    assert list_requests(s3_server) - before == 1
    # The store's key order: "A-folder" sorts before "f…"; a folder among the files.
    shown = names(first)
    assert shown[:3] == ["A-folder", "f0000.txt", "f0001.txt"] and len(shown) == 100
    assert first.context["keyed"] and first.context["partial"]["number"] == 1
    html = first.content.decode()
    assert "key order" in html and 'rel="next"' in html

    # Pages 2 and 3 need entries 201 and 301: one more list page each, then none.
    before = list_requests(s3_server)
    second = admin_client.get(url("browse", "s3", "big"), {"p": "2"})
    assert list_requests(s3_server) - before == 1
    assert names(second)[:2] == ["f0099.txt", "f0100-folder"]
    third = admin_client.get(url("browse", "s3", "big"), {"p": "3"})
    assert list_requests(s3_server) - before == 2
    assert names(third)[0] == "f0198.txt"
    again = admin_client.get(url("browse", "s3", "big"), {"p": "2"})
    assert names(again) == names(second)
    assert list_requests(s3_server) - before == 2


def test_sorting_by_size_lists_everything_once_then_pages_come_from_the_cache(
    admin_client: Client, big_s3: MountStorage, s3_server: Any
) -> None:
    before = list_requests(s3_server)
    by_size = admin_client.get(url("browse", "s3", "big"), {"o": "-size"})
    assert list_requests(s3_server) - before == 3  # 352 entries, 150 a page
    assert names(by_size)[:3] == ["f0100-folder", "A-folder", "f0349.txt"]
    assert by_size.context["page"].paginator.count == 352
    before = list_requests(s3_server)
    for query in ({"o": "size"}, {"o": "-size", "p": "4"}, {"p": "3"}, {"o": "modified"}):
        assert admin_client.get(url("browse", "s3", "big"), query).status_code == 200
    assert list_requests(s3_server) == before


def test_writes_of_the_browser_and_refresh_clear_the_cache(
    admin_client: Client, big_s3: MountStorage, s3_server: Any
) -> None:
    admin_client.get(url("browse", "s3", "big"))
    before = list_requests(s3_server)
    admin_client.get(url("browse", "s3", "big"))
    assert list_requests(s3_server) == before
    admin_client.post(url("mkdir", "s3", "big"), {"name": "AAA"})
    before = list_requests(s3_server)  # the new folder's name was checked with a listing
    fresh = admin_client.get(url("browse", "s3", "big"))
    assert list_requests(s3_server) - before == 1
    # Made elsewhere: shown after a refresh, not before.
    big_s3.save("big/0-outside.txt", ContentFile(b"o"))
    assert "0-outside.txt" not in names(admin_client.get(url("browse", "s3", "big")))
    refresh = admin_client.get(url("browse", "s3", "big"), {"refresh": "1", "o": "name"})
    assert (
        refresh.status_code == 302 and refresh["Location"] == url("browse", "s3", "big") + "?o=name"
    )
    assert "0-outside.txt" in names(admin_client.get(refresh["Location"]))
    assert 'class="button storage-refresh"' in fresh.content.decode()


def test_a_small_s3_folder_is_sorted_as_everywhere(
    admin_client: Client, s3_mount_config: dict[str, Any], s3_server: Any
) -> None:
    with override_settings(STORAGE_MOUNTS={"s3": s3_mount_config}):
        storage = get_storage("s3")
        for name in ("b.txt", "A.txt", "zdir/x.txt"):
            storage.save(name, ContentFile(b"x"))
        before = list_requests(s3_server)
        response = admin_client.get(url("browse", "s3"))
        assert list_requests(s3_server) - before == 1
        assert names(response) == ["zdir", "A.txt", "b.txt"]
        assert not response.context["keyed"] and not response.context["partial"]


def test_search_on_s3_is_one_listing(
    admin_client: Client, big_s3: MountStorage, s3_server: Any
) -> None:
    before = list_requests(s3_server)
    found = admin_client.get(url("browse", "s3"), {"q": "inner", "r": "1"})
    assert sorted(names(found)) == ["big/A-folder/inner.txt", "big/f0100-folder/inner.txt"]
    # s3fs's find() pages through the keys: 352 keys, 1000 a page.
    assert list_requests(s3_server) - before == 1


# Thumbnails and the grid view


def test_grid_view_shows_thumbnails_of_raster_images_only(
    admin_client: Client, any_mount: MountStorage
) -> None:
    any_mount.save("pics/photo.png", ContentFile(make_png(800, 400)))
    any_mount.save("pics/drawing.svg", ContentFile(b"<svg xmlns='http://www.w3.org/2000/svg'/>"))
    any_mount.save("pics/notes.txt", ContentFile(b"n"))
    grid = admin_client.get(url("browse", "m", "pics"), {"view": "grid"})
    html = grid.content.decode()
    assert grid.context["grid"] and 'class="storage-grid"' in html
    thumb = url("thumbnail", "m", "pics/photo.png")
    assert f'src="{thumb}"' in html
    assert "thumbnail/pics/drawing.svg" not in html and "thumbnail/pics/notes.txt" not in html

    from PIL import Image

    response = admin_client.get(thumb)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (200, 100)
    kept = get_storage("thumbs")
    (folder,), _ = kept.listdir("")
    (made,) = kept.listdir(folder)[1]
    # Served from the kept thumbnail from now on: change it and see it served.
    kept.delete(f"{folder}/{made}")
    kept.save(f"{folder}/{made}", ContentFile(PNG))
    assert admin_client.get(thumb).content == PNG
    assert admin_client.get(url("thumbnail", "m", "pics/drawing.svg")).status_code == 404
    assert admin_client.get(url("thumbnail", "m", "pics/notes.txt")).status_code == 404
    assert admin_client.get(url("thumbnail", "m", "pics/missing.png")).status_code == 404


def test_no_thumbnail_above_the_size_limit_or_for_broken_images(
    admin_client: Client, mounts: Any
) -> None:
    storage = get_storage("memory")
    storage.save("big.png", ContentFile(make_png(50, 50)))
    storage.save("broken.png", ContentFile(b"not a png"))
    with override_settings(STORAGE_ADMIN_THUMBNAIL_MAX_SOURCE_SIZE=100):
        grid = admin_client.get(url("browse", "memory"), {"view": "grid"})
        assert "thumbnail/big.png" not in grid.content.decode()
        assert admin_client.get(url("thumbnail", "memory", "big.png")).status_code == 404
    assert admin_client.get(url("thumbnail", "memory", "big.png")).status_code == 200
    assert admin_client.get(url("thumbnail", "memory", "broken.png")).status_code == 404


# GCS and Azure: list pages as on S3, requests counted at a fault proxy.


@pytest.fixture(params=["gcs", "azure"])
def big_far(request: pytest.FixtureRequest) -> Iterator[tuple[MountStorage, FaultProxy]]:
    """A mount "far" as ``big_s3``, reached through a proxy recording requests."""
    config = request.getfixturevalue(f"{request.param}_mount_config")
    port = _port(config["endpoint_url"])
    with FaultProxy(port) as proxy:
        endpoint = config["endpoint_url"].replace(f":{port}", f":{proxy.port}")
        far = {**config, "endpoint_url": endpoint}
        with override_settings(STORAGE_MOUNTS={"far": far}, STORAGE_ADMIN_LIST_KEYS=150):
            storage = get_storage("far")
            backend = storage.backend
            names = [f"big/f{index:04}.txt" for index in range(350)]
            names += ["big/A-folder/inner.txt", "big/f0100-folder/inner.txt"]
            backend.fs.pipe({backend.full_path(name): b"x" for name in names})
            proxy.record_heads = True
            yield storage, proxy


def test_the_first_page_of_a_large_folder_costs_one_list_request_on_gcs_and_azure(
    admin_client: Client, big_far: tuple[MountStorage, FaultProxy]
) -> None:
    _, proxy = big_far
    first = admin_client.get(url("browse", "far", "big"))
    assert first.status_code == 200
    assert list_requests_at(proxy) == 1 and len(proxy.heads) == 1  # nothing else
    shown = names(first)
    assert shown[:3] == ["A-folder", "f0000.txt", "f0001.txt"] and len(shown) == 100
    assert first.context["keyed"] and first.context["partial"]["number"] == 1
    second = admin_client.get(url("browse", "far", "big"), {"p": "2"})
    assert list_requests_at(proxy) == 2
    assert names(second)[:2] == ["f0099.txt", "f0100-folder"]
