"""Adaptive read-ahead (backends.readahead): small reads stay small, sequential ones grow.

Requests and bytes are counted where they arrive: moto's request log (s3), a
RangeHTTPServer this module starts over its own files (http), and a counting
TCP proxy in front of Azurite and the GCS emulator (requests only). The bytes
of a GET are those of its ``Range`` header, or the whole object without one.
"""

from __future__ import annotations

import asyncio
import functools
import io
import random
import re
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile, File
from django.core.files.images import get_image_dimensions

from genro_storage_django.backends.readahead import FIRST_BLOCK
from genro_storage_django.storage import MountStorage
from tests.conftest import mount_storage
from tests.faultproxy import FaultProxy
from tests.serverkit import RequestLog, serve_in_thread
from tests.servers import Server

KIB, MIB = 1024, 1024 * 1024
BIG_SIZE = 10 * MIB
BLOCK = 8 * MIB  # Backend.block_size
PHOTO_SIZE = (6000, 4000)  # 24 megapixels


def pattern(size: int) -> bytes:
    """Bytes that differ at every offset modulo 251 (a prime), so misplaced ranges show."""
    return (bytes(range(251)) * (size // 251 + 1))[:size]


BIG = pattern(BIG_SIZE)


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 24-megapixel JPEG of noise (a few MB), with an EXIF block as cameras write."""
    from PIL import Image

    path = tmp_path_factory.mktemp("photo") / "photo.jpg"
    noise = Image.effect_noise(PHOTO_SIZE, 64).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "genro-storage-django tests"  # Make
    exif[0x9286] = "x" * 4000  # UserComment: a few KB of metadata before the image
    noise.save(path, format="JPEG", quality=85, exif=exif)
    assert path.stat().st_size > 2 * MIB
    return path


def gets(log: RequestLog, size: int) -> list[tuple[int, int]]:
    """Return the ``(start, length)`` of every GET in ``log``, for an object of ``size``."""
    ranges = []
    for method, _path, byte_range in log.snapshot():
        if method != "GET":
            continue
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", byte_range)
        if match is None:
            ranges.append((0, size))
            continue
        start = int(match.group(1))
        end = min(size, int(match.group(2)) + 1) if match.group(2) else size
        ranges.append((start, end - start))
    return ranges


def requests(log: RequestLog) -> int:
    return len(log.snapshot())


# S3 (moto): request log with Range headers.


@pytest.fixture
def s3(s3_mount_config: dict[str, Any]) -> Iterator[MountStorage]:
    yield from mount_storage({"s3": s3_mount_config}, "s3")


@pytest.fixture
def s3_big(s3: MountStorage) -> str:
    return s3.save("big.bin", ContentFile(BIG))


def test_s3_first_kib_of_a_big_object(s3, s3_big, s3_server: Server):
    assert s3_server.log is not None
    s3_server.log.clear()
    with s3.open(s3_big) as file:
        assert file.read(KIB) == BIG[:KIB]
    fetched = gets(s3_server.log, BIG_SIZE)
    assert requests(s3_server.log) <= 2
    assert sum(length for _, length in fetched) <= 128 * KIB
    assert fetched == [(0, FIRST_BLOCK)]


def test_s3_image_dimensions_of_a_24_megapixel_jpeg(s3, photo, s3_server: Server):
    with photo.open("rb") as source:
        name = s3.save("photos/photo.jpg", File(source))
    assert s3_server.log is not None
    s3_server.log.clear()
    with s3.open(name) as file:
        assert get_image_dimensions(file) == PHOTO_SIZE
    fetched = gets(s3_server.log, photo.stat().st_size)
    assert 1 <= len(fetched) <= 2
    assert sum(length for _, length in fetched) <= 256 * KIB


def test_s3_image_field_dimensions(s3, photo, s3_server: Server):
    """Through a FieldFile, as ``ImageField`` reads width and height."""
    from django.db.models.fields.files import ImageFieldFile

    with photo.open("rb") as source:
        name = s3.save("photos/field.jpg", File(source))

    class Instance:
        pass

    field: Any = type("Field", (), {"storage": s3, "name": "image"})()
    field_file = ImageFieldFile(Instance(), field, name)
    assert s3_server.log is not None
    s3_server.log.clear()
    assert (field_file.width, field_file.height) == PHOTO_SIZE
    fetched = gets(s3_server.log, photo.stat().st_size)
    assert 1 <= len(fetched) <= 2
    assert sum(length for _, length in fetched) <= 256 * KIB


def test_s3_sequential_read_grows_to_the_block_size(s3, s3_server: Server):
    size = 20 * MIB
    data = pattern(size)
    name = s3.save("seq.bin", ContentFile(data))
    assert s3_server.log is not None
    s3_server.log.clear()
    read = 0
    with s3.open(name) as file:
        for chunk in file.chunks():  # 64 KiB at a time, as Django's File
            assert chunk == data[read : read + len(chunk)]
            read += len(chunk)
    assert read == size
    fetched = gets(s3_server.log, size)
    # 64 KiB, 256 KiB, 1 MiB, 4 MiB, then 8 MiB blocks: each byte fetched once.
    assert [length for _, length in fetched[:4]] == [64 * KIB, 256 * KIB, MIB, 4 * MIB]
    assert max(length for _, length in fetched) == BLOCK
    assert len(fetched) <= 6
    assert sum(length for _, length in fetched) == size
    assert [start for start, _ in fetched] == sorted(start for start, _ in fetched)


def test_s3_reads_of_a_mib_grow_from_what_they_ask(s3, s3_big, s3_server: Server):
    # Reads larger than the window: it grows from each fetch, not from 64 KiB,
    # so 10 MiB read a MiB at a time costs what django-storages' two GETs and
    # two HEADs cost, not a GET per MiB.
    assert s3_server.log is not None
    s3_server.log.clear()
    read = b""
    with s3.open(s3_big) as file:
        while chunk := file.read(MIB):
            read += chunk
    assert read == BIG
    fetched = gets(s3_server.log, BIG_SIZE)
    assert [length for _, length in fetched] == [MIB, 4 * MIB, BIG_SIZE - 5 * MIB]
    assert requests(s3_server.log) <= 4


def test_s3_whole_read_is_one_get(s3, s3_big, s3_server: Server):
    assert s3_server.log is not None
    s3_server.log.clear()
    with s3.open(s3_big) as file:
        assert file.read() == BIG
    assert gets(s3_server.log, BIG_SIZE) == [(0, BIG_SIZE)]


def test_s3_seek_starts_small_again(s3, s3_big, s3_server: Server):
    assert s3_server.log is not None
    with s3.open(s3_big) as file:
        for chunk_start in range(0, 4 * MIB, 64 * KIB):
            assert file.read(64 * KIB) == BIG[chunk_start : chunk_start + 64 * KIB]
        s3_server.log.clear()
        file.seek(7 * MIB)
        assert file.tell() == 7 * MIB
        assert file.read(KIB) == BIG[7 * MIB : 7 * MIB + KIB]
        assert gets(s3_server.log, BIG_SIZE) == [(7 * MIB, FIRST_BLOCK)]
        s3_server.log.clear()
        file.seek(100)  # back, before what is held
        assert file.read(10) == BIG[100:110]
        assert gets(s3_server.log, BIG_SIZE) == [(100, FIRST_BLOCK)]


def test_s3_random_reads_return_the_right_bytes(s3, s3_big):
    generator = random.Random(23)
    with s3.open(s3_big) as file:
        for _ in range(150):
            if generator.random() < 0.3:
                offset = generator.randrange(BIG_SIZE + 10)
                file.seek(offset)
            position = file.tell()
            length = generator.choice([1, 100, 5000, 70_000, 300_000, 3 * MIB, -1])
            expected = BIG[position:] if length < 0 else BIG[position : position + length]
            assert file.read(length) == expected
            assert file.tell() == min(BIG_SIZE, position + len(expected))


def test_s3_readline_and_text_mode(s3, s3_server: Server):
    lines = [f"line {index}: {'x' * (index % 97)}\n".encode() for index in range(60_000)]
    name = s3.save("lines.txt", ContentFile(b"".join(lines)))
    assert s3_server.log is not None
    s3_server.log.clear()
    with s3.open(name) as file:
        assert file.readline() == lines[0]
        assert gets(s3_server.log, 10**9) == [(0, FIRST_BLOCK)]
        # fsspec's readline() reads one file block (64 KiB) past the line: the
        # second one goes on sequentially, so the next fetch is larger.
        assert file.readline() == lines[1]
        assert len(gets(s3_server.log, 10**9)) <= 2
        assert file.read() == b"".join(lines[2:])
    with s3.open(name, "r") as file:
        assert [file.readline() for _ in range(3)] == [line.decode() for line in lines[:3]]
    with s3.open(name) as file:
        assert list(file) == lines  # File.__iter__: chunks split into lines


def test_s3_async_first_kib_and_growth(s3, s3_big, s3_server: Server):
    async def scenario() -> tuple[bytes, list[tuple[int, int]], bytes]:
        assert s3_server.log is not None
        s3_server.log.clear()
        file = await s3.aopen(s3_big)
        async with file:
            head = await file.read(KIB)
            first = gets(s3_server.log, BIG_SIZE)
            rest = b"".join([chunk async for chunk in file])
        return head, first, rest

    head, first, rest = asyncio.run(scenario())
    assert head == BIG[:KIB]
    assert first == [(0, FIRST_BLOCK)]
    assert requests(s3_server.log) - len(gets(s3_server.log, BIG_SIZE)) <= 1  # one HEAD
    assert head + rest == BIG
    fetched = gets(s3_server.log, BIG_SIZE)
    assert [length for _, length in fetched[:3]] == [64 * KIB, 256 * KIB, MIB]
    assert max(length for _, length in fetched) <= BLOCK
    assert sum(length for _, length in fetched) == BIG_SIZE


def test_s3_async_seek_starts_small_again(s3, s3_big, s3_server: Server):
    async def scenario() -> list[tuple[int, int]]:
        file = await s3.aopen(s3_big)
        async with file:
            for start in range(0, 2 * MIB, 64 * KIB):
                assert await file.read(64 * KIB) == BIG[start : start + 64 * KIB]
            assert s3_server.log is not None
            s3_server.log.clear()
            await file.seek(9 * MIB)
            assert await file.read(10) == BIG[9 * MIB : 9 * MIB + 10]
            return gets(s3_server.log, BIG_SIZE)

    assert asyncio.run(scenario()) == [(9 * MIB, FIRST_BLOCK)]


def test_writes_keep_their_parts(s3, s3_server: Server):
    """A big write still goes up in block-sized parts: read-ahead is for reads only."""
    assert s3_server.log is not None
    s3_server.log.clear()
    with s3.open("written.bin", "wb") as file:
        for _start in range(0, 20 * MIB, MIB):
            file.write(pattern(MIB))
    puts = [entry for entry in s3_server.log.snapshot() if entry[0] == "PUT"]
    assert len(puts) == 3  # parts of 8 MiB, 8 MiB and 4 MiB
    assert s3.size("written.bin") == 20 * MIB


# HTTP: a RangeHTTPServer of this module's own, over a big file and the photo.


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory, photo: Path) -> Iterator[Server]:
    from RangeHTTPServer import RangeRequestHandler

    root = tmp_path_factory.mktemp("web")
    (root / "big.bin").write_bytes(BIG)
    (root / "photo.jpg").write_bytes(photo.read_bytes())
    log = RequestLog()

    class Handler(RangeRequestHandler):
        def send_head(self) -> Any:
            log.add(self.command, self.path, self.headers.get("Range"))
            return super().send_head()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
    with serve_in_thread(server):
        yield Server(f"http://127.0.0.1:{server.server_address[1]}", log)


@pytest.fixture
def web(web_server: Server) -> Iterator[MountStorage]:
    assert web_server.log is not None
    web_server.log.clear()
    yield from mount_storage({"web": {"type": "http", "base_url": web_server.url}}, "web")


def test_http_first_kib_of_a_big_file(web, web_server: Server):
    with web.open("big.bin") as file:
        assert file.read(KIB) == BIG[:KIB]
    assert requests(web_server.log) <= 2
    assert gets(web_server.log, BIG_SIZE) == [(0, FIRST_BLOCK)]


def test_http_image_dimensions(web, web_server: Server, photo: Path):
    with web.open("photo.jpg") as file:
        assert get_image_dimensions(file) == PHOTO_SIZE
    fetched = gets(web_server.log, photo.stat().st_size)
    assert 1 <= len(fetched) <= 2
    assert sum(length for _, length in fetched) <= 256 * KIB


def test_http_sequential_read_and_seek(web, web_server: Server):
    out = io.BytesIO()
    with web.open("big.bin") as file:
        for chunk in file.chunks():
            out.write(chunk)
        assert out.getvalue() == BIG
        fetched = gets(web_server.log, BIG_SIZE)
        assert sum(length for _, length in fetched) == BIG_SIZE
        assert len(fetched) <= 6
        web_server.log.clear()
        file.seek(3 * MIB)
        assert file.read(5) == BIG[3 * MIB : 3 * MIB + 5]
        assert gets(web_server.log, BIG_SIZE) == [(3 * MIB, FIRST_BLOCK)]


# Azure and GCS: the requests through a counting proxy.


@pytest.fixture
def azure_pair(azure_mount_config: dict[str, Any], azure_server: Server) -> Iterator[Any]:
    port = int(azure_server.url.split(":")[2].split("/")[0])
    with FaultProxy(port) as proxy:
        counted = {**azure_mount_config, "endpoint_url": f"{proxy.url}/devstoreaccount1"}
        yield from _pair(azure_mount_config, counted, proxy)


@pytest.fixture
def gcs_pair(gcs_mount_config: dict[str, Any], gcs_server: Server) -> Iterator[Any]:
    port = int(gcs_server.url.rsplit(":", 1)[1])
    with FaultProxy(port) as proxy:
        yield from _pair(gcs_mount_config, {**gcs_mount_config, "endpoint_url": proxy.url}, proxy)


def _pair(direct: dict[str, Any], counted: dict[str, Any], proxy: FaultProxy) -> Iterator[Any]:
    for storage in mount_storage({"direct": direct, "counted": counted}, "direct"):
        from genro_storage_django import get_storage

        yield storage, get_storage("counted"), proxy


# Opening costs what the SDK asks before any read (adlfs: one request for the
# size; gcsfs: up to three, an object lookup raced with a listing, then the
# object again). The proxy's count bounds the total; the file's cache counts
# its own ranged GETs (the racing listing may reach the proxy late).
OPENING = {"azure_pair": 1, "gcs_pair": 3}


@pytest.mark.parametrize("pair", ["azure_pair", "gcs_pair"])
def test_cloud_first_kib_and_sequential_read(pair: str, request: pytest.FixtureRequest):
    direct, counted, proxy = request.getfixturevalue(pair)
    name = direct.save("big.bin", ContentFile(BIG))
    counted.exists(name)  # the client's first connection and token, not counted
    before = proxy.requests
    with counted.open(name) as file:
        cache = file.file.cache
        assert file.read(KIB) == BIG[:KIB]
        assert (cache.fetches, cache.total_requested_bytes) == (1, FIRST_BLOCK)
        assert proxy.requests - before <= OPENING[pair] + 1
        rest = b"".join(iter(functools.partial(file.read, 64 * KIB), b""))
    assert BIG[:KIB] + rest == BIG
    # 64 KiB, 256 KiB, 1 MiB, 4 MiB, then the rest (4.7 MiB): 5 GETs, each byte once.
    assert (cache.fetches, cache.total_requested_bytes) == (5, BIG_SIZE)
    assert proxy.requests - before <= OPENING[pair] + 5


@pytest.mark.parametrize("pair", ["azure_pair", "gcs_pair"])
def test_cloud_image_dimensions(pair: str, request: pytest.FixtureRequest, photo: Path):
    direct, counted, proxy = request.getfixturevalue(pair)
    with photo.open("rb") as source:
        name = direct.save("photo.jpg", File(source))
    counted.exists(name)
    before = proxy.requests
    with counted.open(name) as file:
        cache = file.file.cache
        assert get_image_dimensions(file) == PHOTO_SIZE
    assert 1 <= cache.fetches <= 2
    assert cache.total_requested_bytes <= 256 * KIB
    assert proxy.requests - before <= OPENING[pair] + 2
