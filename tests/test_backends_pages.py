"""gcs and azure mounts list in key order, one list request at a time: ``find()`` and
``scandir_page()`` against fake-gcs-server and Azurite, requests counted at the fault proxy."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from genro_storage_django import get_storage
from genro_storage_django.backends.base import Backend, Entry, _key_order
from tests.faultproxy import FaultProxy
from tests.servers import AZURITE_ACCOUNT, AZURITE_KEY, BUCKET, Server

KINDS = ["gcs", "azure"]
FILES = 2500
#: Names that sort differently by key than by anything else: "a/x" is below the
#: folder "a", whose key "a/" comes after "a-b" and "a.txt" and before "a0";
#: "Z" before "a"; "é" after every ASCII letter.
ODD_NAMES = ["a-b", "a.txt", "a/x", "a/deeper/y", "a0", "é.txt", "Z", "sub/inner.txt"]


def _port(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1].split("/")[0])


def _config(kind: str, server: Server, prefix: str) -> dict[str, Any]:
    if kind == "gcs":
        return {
            "type": "gcs",
            "bucket": BUCKET,
            "token": "anon",
            "project": "test-project",
            "endpoint_url": server.url,
            "prefix": prefix,
        }
    return {
        "type": "azure",
        "container": BUCKET,
        "account_name": AZURITE_ACCOUNT,
        "account_key": AZURITE_KEY,
        "endpoint_url": server.url,
        "prefix": prefix,
    }


def _markers(kind: str, backend: Backend, server: Server) -> None:
    """Store folder markers: the folder's own ("big/"), an empty subfolder's ("big/m/"),
    and on Azure one without "/" that only its metadata tells (hdi_isfolder)."""
    if kind == "gcs":
        for name in ("big/", "big/m/"):
            backend.run_on_loop(backend.put_async, backend.full_path(name), b"", True)
        return
    from azure.storage.blob import BlobServiceClient

    markers = {
        "big/": {"is_directory": "true"},
        "big/m/": {"is_directory": "true"},
        "big/hdi": {"hdi_isfolder": "true"},
    }
    credential = {"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}
    with BlobServiceClient(server.url, credential=credential) as client:
        for name, metadata in markers.items():
            blob = client.get_blob_client(BUCKET, backend.key(backend.full_path(name)))
            blob.upload_blob(b"", metadata=metadata)


@pytest.fixture(scope="module", params=KINDS)
def tree(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, Any], Server]]:
    """A mount config whose folder "big" holds ``FILES`` files, ``ODD_NAMES`` and markers."""
    kind = request.param
    server = request.getfixturevalue(f"{kind}_server")
    config = _config(kind, server, f"pages-{uuid.uuid4().hex[:12]}")
    with override_settings(STORAGE_MOUNTS={"near": config}):
        backend = get_storage("near").backend
        names = [f"f{index:04}.txt" for index in range(FILES)] + ODD_NAMES
        # Each file's bytes are its name, repeated: sizes and digests differ.
        files = {backend.full_path(f"big/{name}"): name.encode() * 3 for name in names}
        files[backend.full_path("outside.txt")] = b"not below big"
        files[backend.full_path("bigger/x.txt")] = b"a sibling prefix"
        backend.fs.pipe(files)
        _markers(kind, backend, server)
    yield kind, config, server


@pytest.fixture
def far(tree: tuple[str, dict[str, Any], Server]) -> Iterator[tuple[Backend, FaultProxy]]:
    """The backend of ``tree``'s mount reached through a fault proxy recording requests."""
    _, config, server = tree
    port = _port(server.url)
    with FaultProxy(port) as proxy:
        proxy.record_heads = True
        endpoint = config["endpoint_url"].replace(f":{port}", f":{proxy.port}")
        # No retries: a refused request fails at once (Azure's SDK waits 15 s before a retry).
        far = {**config, "endpoint_url": endpoint, "retries": 0}
        with override_settings(STORAGE_MOUNTS={"far": far}):
            yield get_storage("far").backend, proxy


def list_requests(proxy: FaultProxy) -> int:
    """Return how many list requests went through ``proxy``."""
    lines = [head.split(b"\r\n")[0] for head in proxy.heads]
    # GCS: GET /storage/v1/b/<bucket>/o?...; Azure: GET /<account>/<container>?...comp=list.
    return sum(1 for line in lines if b"/o?" in line or b"comp=list" in line)


def library_find(backend: Backend, path: str) -> list[tuple[str, dict[str, Any]]]:
    """Return the files below ``path`` as the fsspec class's own ``find()`` gives them, sorted."""
    base = backend.fs._strip_protocol(path).rstrip("/") + "/"
    found = [
        (name[len(base) :], info)
        for name, info in backend.fs.find(path, detail=True).items()
        if info["type"] == "file" and not name.endswith("/") and name.startswith(base)
    ]
    return sorted(found, key=lambda pair: pair[0])


def test_find_yields_what_the_library_finds_in_key_order(far: tuple[Backend, FaultProxy]) -> None:
    backend, _ = far
    path = backend.full_path("big")
    found = list(backend.find(path))
    expected = library_find(backend, path)
    assert [name for name, _ in found] == [name for name, _ in expected]
    assert len(found) == FILES + len(ODD_NAMES)
    names = [name for name, _ in found]
    assert names == sorted(names)
    assert names[:2] == ["Z", "a-b"] and names[2:5] == ["a.txt", "a/deeper/y", "a/x"]
    assert names[-2:] == ["sub/inner.txt", "é.txt"]
    assert [info for _, info in found] == [info for _, info in expected]
    for (name, info), (_, theirs) in zip(found, expected, strict=True):
        assert info["size"] == len(name.encode()) * 3
        assert backend.checksums(info) == backend.checksums(theirs)
        assert backend.expected_digest(info) == backend.expected_digest(theirs)
        assert backend.modified_from_info(info) == backend.modified_from_info(theirs)
    assert backend.checksums(found[0][1]) and backend.expected_digest(found[0][1])


def test_find_lists_one_page_at_a_time(far: tuple[Backend, FaultProxy]) -> None:
    backend, proxy = far
    backend.find_page_size = 1000  # type: ignore[misc]
    before = list_requests(proxy)
    requests = proxy.requests
    found = backend.find(backend.full_path("big"))
    assert next(found)[0] == "Z"
    assert list_requests(proxy) - before == 1 and proxy.requests - requests == 1
    # The first page: the folder's own marker and 999 files; the next is asked for after them.
    assert len(list(itertools.islice(found, 998))) == 998
    assert list_requests(proxy) - before == 1
    next(found)
    assert list_requests(proxy) - before == 2
    rest = list(found)
    assert len(rest) == FILES + len(ODD_NAMES) - 1000
    # 2,508 files and the markers: three pages of 1,000 keys.
    assert list_requests(proxy) - before == 3 and proxy.requests - requests == 3


def test_scandir_page_walks_the_folder_in_key_order(far: tuple[Backend, FaultProxy]) -> None:
    backend, proxy = far
    path = backend.full_path("big")
    before = list_requests(proxy)
    first, token = backend.scandir_page(path, 7, None)
    assert list_requests(proxy) - before == 1 and token is not None
    pages = [first]
    while token is not None:
        page, token = backend.scandir_page(path, 7, token)
        pages.append(page)
    assert all(pages[:-1]) and len(pages) > 2
    walked = [entry for page in pages for entry in page]
    assert walked == sorted(backend.scandir(path), key=_key_order)
    folders = ["a", "hdi", "m", "sub"] if backend.type_name == "azure" else ["a", "m", "sub"]
    assert [entry.name for entry in walked if entry.is_dir] == folders
    assert [entry.name for entry in walked[:5]] == ["Z", "a-b", "a.txt", "a", "a0"]
    assert walked[0] == Entry("Z", False, 3, walked[0].modified)
    assert walked[0].modified is not None


def test_markers_are_not_files(far: tuple[Backend, FaultProxy]) -> None:
    backend, _ = far
    found = dict(backend.find(backend.full_path("big")))
    assert not [name for name in found if name in ("", "m", "hdi") or name.endswith("/")]
    entries = backend.scandir_page(backend.full_path("big/m"), 100, None)
    assert entries == ([], None)


def test_a_missing_folder_lists_nothing(far: tuple[Backend, FaultProxy]) -> None:
    backend, proxy = far
    before = list_requests(proxy)
    assert list(backend.find(backend.full_path("missing"))) == []
    assert backend.scandir_page(backend.full_path("missing"), 100, None) == ([], None)
    assert list(backend.find(backend.full_path("big/f0001.txt"))) == []
    assert list_requests(proxy) - before == 3


def test_the_whole_mount_is_found_from_its_root(far: tuple[Backend, FaultProxy]) -> None:
    backend, _ = far
    names = [name for name, _ in backend.find(backend.mount_root)]
    assert names[0] == "big/Z" and names[-2:] == ["bigger/x.txt", "outside.txt"]
    assert len(names) == FILES + len(ODD_NAMES) + 2
    entries, token = backend.scandir_page(backend.mount_root, 1000, None)
    assert [(entry.name, entry.is_dir) for entry in entries] == [
        ("big", True),
        ("bigger", True),
        ("outside.txt", False),
    ]
    assert token is None


def test_errors_are_the_backends_own(far: tuple[Backend, FaultProxy]) -> None:
    backend, proxy = far
    # Refused, and refused again when retried: the backend's own error.
    proxy.fail_next(10, status=503)
    with pytest.raises(OSError, match=r"^Mount 'far' 'big': "):
        next(backend.find(backend.full_path("big")))
    proxy.fail_next(10, status=503)
    with pytest.raises(OSError, match=r"^Mount 'far' 'big': "):
        backend.scandir_page(backend.full_path("big"), 10, None)


def test_a_version_aware_filesystem_falls_back_to_the_librarys_find(
    far: tuple[Backend, FaultProxy],
) -> None:
    backend, _ = far
    backend.fs.version_aware = True
    try:
        found = list(backend.find(backend.full_path("big")))
    finally:
        backend.fs.version_aware = False
    assert [name for name, _ in found] == [
        name for name, _ in library_find(backend, backend.full_path("big"))
    ]
