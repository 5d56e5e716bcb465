"""The async API on every writable kind: each coroutine against its sync twin.

Every scenario runs twice on two fresh mounts of the same kind, once through
the sync methods and once through their ``a`` twins, and the two runs must
give the same results and the same errors. Then the async-only guarantees:
streaming content, concurrency, permissions, exclusive create.
"""

from __future__ import annotations

import asyncio
import datetime
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import override_settings

from genro_storage_django import get_storage
from genro_storage_django.async_storage import AsyncMountFile
from genro_storage_django.exceptions import MountPermissionError
from genro_storage_django.storage import MountStorage


def run(coroutine: Awaitable[Any]) -> Any:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


class SyncAPI:
    """The sync methods, called as coroutines so that one scenario drives both."""

    def __init__(self, storage: MountStorage) -> None:
        self.storage = storage

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.storage, method)(*args, **kwargs)

    async def read(self, name: str) -> bytes:
        with self.storage.open(name, "rb") as file:
            return file.read()

    async def write(self, name: str, parts: list[bytes]) -> None:
        with self.storage.open(name, "wb") as file:
            for part in parts:
                file.write(part)


class AsyncAPI(SyncAPI):
    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return await getattr(self.storage, f"a{method}")(*args, **kwargs)

    async def read(self, name: str) -> bytes:
        file = await self.storage.aopen(name, "rb")
        try:
            return await file.read()
        finally:
            await file.close()

    async def write(self, name: str, parts: list[bytes]) -> None:
        async with await self.storage.aopen(name, "wb") as file:
            for part in parts:
                await file.write(part)


RANDOM_SUFFIX = re.compile(r"_[A-Za-z0-9]{7}(?=\.|$|/)")


def _observed(value: Any) -> Any:
    """What a scenario compares: random name suffixes and times are shown by shape only."""
    if isinstance(value, str):
        return RANDOM_SUFFIX.sub("_<random>", value)
    if isinstance(value, datetime.datetime):
        return ("datetime", value.tzinfo is not None)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return sorted(_observed(item) for item in value)  # listing order is the disk's
    if isinstance(value, (list, tuple)):
        return type(value)(_observed(item) for item in value)
    return value


async def _outcome(step: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return ("ok", _observed(await step()))
    except Exception as error:
        return ("error", type(error).__name__)


async def _url_shape(url: Awaitable[str]) -> tuple[bool, list[str]]:
    # The two mounts have their own roots, and a signature changes every second.
    parts = urlsplit(await url)
    return parts.path.endswith("/docs/a.txt"), sorted(parse_qs(parts.query))


async def scenario_files(api: SyncAPI) -> list[Any]:
    s = api.call
    steps: list[Callable[[], Awaitable[Any]]] = [
        lambda: s("save", "docs/a.txt", ContentFile(b"alpha")),
        lambda: s("save", "docs/a.txt", ContentFile("héllo wörld")),
        lambda: s("save", "docs/empty.txt", ContentFile(b"")),
        lambda: s("save", "docs/empty.txt", ContentFile(b"")),
        lambda: s("save", "docs/text.txt", ContentFile("text")),
        lambda: s("save", None, SimpleUploadedFile("upload.bin", b"\x00" * 1000)),
        lambda: api.read("docs/a.txt"),
        lambda: api.read("docs/text.txt"),
        lambda: api.read("docs/empty.txt"),
        lambda: api.read("missing.txt"),
        lambda: api.read("docs"),
        lambda: s("exists", "docs/a.txt"),
        lambda: s("exists", "docs"),
        lambda: s("exists", "doc"),
        lambda: s("exists", "missing.txt"),
        lambda: s("size", "docs/a.txt"),
        lambda: s("size", "missing.txt"),
        lambda: s("listdir", ""),
        lambda: s("listdir", "docs"),
        lambda: s("listdir", "missing"),
        lambda: s("listdir", "docs/a.txt"),
        lambda: s("get_modified_time", "docs/a.txt"),
        lambda: s("get_modified_time", "missing.txt"),
        lambda: s("get_created_time", "docs/a.txt"),
        lambda: s("get_accessed_time", "docs/a.txt"),
        lambda: s("get_available_name", "docs/a.txt"),
        lambda: s("get_available_name", "docs/new.txt"),
        lambda: s("get_available_name", "docs/a.txt", max_length=12),
        lambda: s("get_available_name", "../escape.txt"),
        lambda: _url_shape(s("url", "docs/a.txt")),
        lambda: s("delete", "docs/text.txt"),
        lambda: s("delete", "docs/text.txt"),
        lambda: s("delete", ""),
        lambda: s("exists", "docs/text.txt"),
        lambda: s("save", "../outside.txt", ContentFile(b"x")),
    ]
    return [await _outcome(step) for step in steps]


async def scenario_tree(api: SyncAPI) -> list[Any]:
    s = api.call
    steps: list[Callable[[], Awaitable[Any]]] = [
        lambda: api.write("tree/one.bin", [b"1" * 10, b"2" * 10]),
        lambda: api.write("tree/sub/two.bin", [b"two"]),
        lambda: api.read("tree/one.bin"),
        lambda: s("isdir", "tree"),
        lambda: s("isdir", "tree/one.bin"),
        lambda: s("makedirs", "made/here"),
        lambda: s("move", "tree/one.bin", "moved/one.bin"),
        lambda: s("move", "tree/missing.bin", "moved/x.bin"),
        lambda: s("move", "tree/sub/two.bin", "moved/one.bin"),
        lambda: api.read("moved/one.bin"),
        lambda: s("move", "tree", "renamed"),
        lambda: s("listdir", "renamed/sub"),
        lambda: s("exists", "tree/sub/two.bin"),
        lambda: s("delete_tree", "renamed"),
        lambda: s("delete_tree", ""),
        lambda: s("exists", "renamed/sub/two.bin"),
    ]
    outcomes = [await _outcome(step) for step in steps]
    entries = await s("scandir", "moved")
    outcomes.append([(e.name, e.is_dir, e.size, _observed(e.modified)) for e in entries])
    return outcomes


@pytest.fixture
def twin_storages(mount_config: dict[str, Any], kind: str) -> Any:
    """Two empty mounts of one kind: "sync_side" and "async_side"."""
    other = dict(mount_config)
    if kind == "local":
        other["path"] = f"{mount_config['path']}-async"
        __import__("os").makedirs(other["path"])
    elif kind in ("s3", "gcs", "azure"):
        other["prefix"] = f"{mount_config['prefix']}-async"
    mounts = {"sync_side": mount_config, "async_side": other}
    with override_settings(STORAGE_MOUNTS=mounts):
        yield get_storage("sync_side"), get_storage("async_side")


@pytest.mark.parametrize("scenario", [scenario_files, scenario_tree])
def test_async_twin_gives_what_the_sync_method_gives(twin_storages, scenario):
    sync_storage, async_storage = twin_storages
    expected = run(scenario(SyncAPI(sync_storage)))
    assert run(scenario(AsyncAPI(async_storage))) == expected


def test_asave_streams_an_async_iterable(storage):
    async def chunks() -> AsyncIterator[bytes | str]:
        for index in range(12):
            yield bytes([index]) * 1_000_000
        yield "end"

    name = run(storage.asave("stream.bin", chunks()))
    assert name == "stream.bin"
    assert storage.size(name) == 12_000_003
    with storage.open(name) as file:
        file.seek(11_999_999)
        assert file.read() == b"\x0bend"


def test_asave_of_a_temporary_uploaded_file(storage):
    upload = TemporaryUploadedFile("photo.jpg", "image/jpeg", 0, None)
    upload.write(b"J" * 3_000_000)
    upload.flush()
    name = run(storage.asave(f"uploads/{upload.name}", upload))
    upload.close()
    assert storage.open(name).read() == b"J" * 3_000_000


def test_aopen_iterates_and_seeks(storage):
    data = bytes(range(256)) * 1000
    storage.save("data.bin", ContentFile(data))

    async def read() -> tuple[bytes, bytes, bytes, int]:
        async with await storage.aopen("data.bin") as file:
            joined = b"".join([chunk async for chunk in file])
            await file.seek(-10, 2)
            tail = await file.read()
            await file.seek(1000)
            middle = await file.read(5)
            return joined, tail, middle, file.size

    joined, tail, middle, size = run(read())
    assert (joined, tail, middle, size) == (data, data[-10:], data[1000:1005], len(data))


def test_a_failed_async_write_leaves_nothing(storage):
    async def write() -> None:
        async with await storage.aopen("half.bin", "wb") as file:
            await file.write(b"x" * 9_000_000)
            raise RuntimeError("the client went away")

    with pytest.raises(RuntimeError):
        run(write())
    assert not storage.exists("half.bin")
    assert storage.listdir("") == ([], [])


def test_asave_from_a_failing_source_leaves_nothing(storage):
    async def chunks() -> AsyncIterator[bytes]:
        yield b"y" * 9_000_000
        raise ConnectionResetError("upload interrupted")

    with pytest.raises(ConnectionResetError):
        run(storage.asave("broken.bin", chunks()))
    assert storage.listdir("") == ([], [])


def test_concurrent_asaves_of_one_name_keep_every_file(storage):
    async def save_all() -> list[str]:
        saves = [storage.asave("same.txt", ContentFile(f"{i}".encode())) for i in range(10)]
        return await asyncio.gather(*saves)

    names = run(save_all())
    assert len(set(names)) == 10
    contents = {storage.open(name).read() for name in names}
    assert contents == {f"{i}".encode() for i in range(10)}


def test_asave_async_file_object_as_content(storage):
    storage.save("source.bin", ContentFile(b"copied" * 100_000))

    async def copy() -> str:
        async with await storage.aopen("source.bin") as source:
            return await storage.asave("copy.bin", source)

    assert storage.open(run(copy())).read() == b"copied" * 100_000


def test_file_overwrite_applies_to_asave(make_storage):
    storage = make_storage(file_overwrite=True)
    run(storage.asave("same.txt", ContentFile(b"one")))
    assert run(storage.asave("same.txt", ContentFile(b"two"))) == "same.txt"
    assert storage.open("same.txt").read() == b"two"


def test_readonly_mount_refuses_every_async_write(make_storage, storage):
    storage.save("kept.txt", ContentFile(b"kept"))
    readonly = make_storage(permissions="readonly")
    writes = [
        lambda: readonly.asave("new.txt", ContentFile(b"x")),
        lambda: readonly.aopen("new.txt", "wb"),
        lambda: readonly.adelete("kept.txt"),
        lambda: readonly.amakedirs("dir"),
        lambda: readonly.amove("kept.txt", "moved.txt"),
        lambda: readonly.adelete_tree("dir"),
    ]
    for write in writes:
        with pytest.raises(MountPermissionError):
            run(write())
    assert storage.listdir("") == ([], ["kept.txt"])
    assert run(storage.aexists("kept.txt"))


@pytest.mark.parametrize("name", ["../x.txt", "a/../../x.txt", "/etc/passwd"])
def test_async_traversal_is_refused(storage, name):
    with pytest.raises(SuspiciousFileOperation):
        run(storage.aexists(name))
    with pytest.raises(SuspiciousFileOperation):
        run(storage.asave(name, ContentFile(b"x")))


def test_aopen_refuses_modes_it_does_not_support(storage):
    for mode in ("r", "ab", "r+b", "w"):
        with pytest.raises(ValueError, match="aopen"):
            run(storage.aopen("x.txt", mode))


def test_aopen_returns_an_async_mount_file(storage):
    storage.save("f.txt", ContentFile(b"f"))
    file = run(storage.aopen("f.txt"))
    assert isinstance(file, AsyncMountFile)
    assert (file.name, file.readable(), file.writable()) == ("f.txt", True, False)
    run(file.close())


def test_aopen_reads_with_the_requests_open_makes(s3_server, s3_mount_config):
    """A differential on the wire: the same requests and ranges as the sync file."""
    data = bytes(range(256)) * (40 * 1024)  # 10 MiB
    with override_settings(STORAGE_MOUNTS={"s3": s3_mount_config}):
        storage = get_storage("s3")
        storage.save("big.bin", ContentFile(data))

        s3_server.log.clear()
        with storage.open("big.bin") as file:
            sync_head = file.read(1024)
        sync_requests = s3_server.log.snapshot()

        async def read_head() -> bytes:
            async with await storage.aopen("big.bin") as file:
                return await file.read(1024)

        s3_server.log.clear()
        async_head = run(read_head())
        async_requests = s3_server.log.snapshot()
    assert async_head == sync_head == data[:1024]
    assert [method for method, _, _ in async_requests] == [m for m, _, _ in sync_requests]
    assert len(async_requests) <= 2


def test_read_only_http_mount_answers_as_its_sync_twin(http_mount_config):
    with override_settings(STORAGE_MOUNTS={"web": http_mount_config}):
        storage = get_storage("web")

        async def observe() -> list[Any]:
            async with await storage.aopen("docs/big.bin") as file:
                await file.seek(1000)
                middle = await file.read(10)
            return [
                await storage.aexists("hello.txt"),
                await storage.aexists("missing.txt"),
                await storage.asize("docs/big.bin"),
                await storage.alistdir("docs"),
                middle,
            ]

        with storage.open("docs/big.bin") as file:
            file.seek(1000)
            middle = file.read(10)
        expected = [
            storage.exists("hello.txt"),
            storage.exists("missing.txt"),
            storage.size("docs/big.bin"),
            storage.listdir("docs"),
            middle,
        ]
        assert run(observe()) == expected
        with pytest.raises(MountPermissionError):
            run(storage.asave("new.txt", ContentFile(b"x")))
