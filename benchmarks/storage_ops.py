"""The Storage API operations whose S3 requests WL4 counts, for any Django storage.

Imported by both venvs: Django and the standard library only (Pillow, when
installed, draws the photo of the image-dimensions row).
"""

from __future__ import annotations

import io
import random
import time
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

from django.core.files.base import ContentFile
from django.core.files.images import get_image_dimensions
from django.core.files.storage import Storage

from benchmarks.servers import S3Server

KIB = 1024
MIB = 1024 * 1024
BIG_SIZE = 10 * MIB
LISTED_FILES = 100
PHOTO_NAME = "wl4/photo.jpg"
PHOTO_SIZE = (6000, 4000)  # 24 megapixels, as in tests/test_readahead.py
#: Timed runs of the sequential read; its requests are those of the first.
SEQUENTIAL_ROUNDS = 5

FIRST_KIB = "open+read first KiB"
DIMENSIONS = "image dimensions (24 MP JPEG)"
SEQUENTIAL = "sequential read, 1 MiB chunks"


class Operation(NamedTuple):
    label: str
    action: Callable[[], Any]
    read: int = 0  # the bytes the caller reads, when it asks for a known amount
    rounds: int = 1  # timed runs


def prepare(storage: Storage, big_size: int = BIG_SIZE, listed: int = LISTED_FILES) -> bool:
    """Write the files the operations use (not counted); return whether the photo is one."""
    storage.save("wl4/big.bin", ContentFile(b"\x01" * big_size))
    storage.save("wl4/small.txt", ContentFile(b"hello\n" * 100))
    for index in range(listed):
        storage.save(f"wl4/listed/file-{index:04d}.txt", ContentFile(b"x" * 100))
    for index in range(5):
        storage.save(f"wl4/listed/sub-{index}/inner.txt", ContentFile(b"y"))
    photo = _photo()
    if photo is not None:
        storage.save(PHOTO_NAME, ContentFile(photo))
    return photo is not None


def _photo() -> bytes | None:
    """Return a 24-megapixel JPEG of about 7 MB, or None without Pillow."""
    try:
        from PIL import Image
    except ImportError:
        return None
    # Seeded grain, enlarged: both venvs draw the same picture, and it weighs
    # what a camera's does (noise at full size would be twice as heavy).
    grain = Image.frombytes("L", (1500, 1000), random.Random(23).randbytes(1500 * 1000))
    image = grain.resize(PHOTO_SIZE, Image.Resampling.BILINEAR).convert("RGB")
    exif = Image.Exif()
    exif[0x9286] = "x" * 4000  # UserComment: a few KB of metadata before the image
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, exif=exif)
    return out.getvalue()


def _read(storage: Storage, name: str, size: int) -> int:
    with storage.open(name, "rb") as file:
        return len(file.read(size))


def _read_chunks(storage: Storage, name: str) -> int:
    read = 0
    with storage.open(name, "rb") as file:
        for chunk in file.chunks(MIB):
            read += len(chunk)
    return read


def _dimensions(storage: Storage, name: str) -> tuple[int, int]:
    # What ImageField does to fill width and height.
    with storage.open(name, "rb") as file:
        dimensions = get_image_dimensions(file)
    if dimensions != PHOTO_SIZE:
        raise RuntimeError(f"{name}: read dimensions {dimensions}, not {PHOTO_SIZE}")
    return dimensions


def operations(storage: Storage, big_size: int, photo: bool = False) -> list[Operation]:
    """Return the counted operations; the image one only if ``photo`` was written."""
    new_name = f"wl4/new/{uuid.uuid4().hex}.txt"
    taken_name = "wl4/small.txt"
    big = "wl4/big.bin"
    listed = [
        Operation("save (new name)", lambda: storage.save(new_name, ContentFile(b"z" * 1024))),
        Operation("save (name taken)", lambda: storage.save(taken_name, ContentFile(b"z" * 1024))),
        Operation("exists", lambda: storage.exists("wl4/small.txt")),
        Operation("exists (missing)", lambda: storage.exists("wl4/missing.txt")),
        Operation("size", lambda: storage.size(big)),
        Operation("url", lambda: storage.url(big)),
        Operation("open+read all", lambda: _read(storage, big, -1), big_size),
        Operation("open+read first MiB", lambda: _read(storage, big, MIB), min(MIB, big_size)),
        Operation(FIRST_KIB, lambda: _read(storage, big, KIB), KIB),
        # WL4's big file (10 MiB in the real run): the 1 GiB of issue #23 is WL2's.
        Operation(SEQUENTIAL, lambda: _read_chunks(storage, big), big_size, SEQUENTIAL_ROUNDS),
    ]
    if photo:
        listed.append(Operation(DIMENSIONS, lambda: _dimensions(storage, PHOTO_NAME)))
    listed.append(Operation("listdir (100 files, 5 dirs)", lambda: storage.listdir("wl4/listed")))
    listed.append(Operation("delete", lambda: storage.delete(new_name)))
    return listed


def _timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def count_requests(
    storage: Storage, server: S3Server, big_size: int = BIG_SIZE, photo: bool = False
) -> dict[str, dict[str, Any]]:
    """Run each operation; return the server's counts for its first run, and the
    seconds of every run."""
    results = {}
    for operation in operations(storage, big_size, photo):
        server.reset()
        seconds = [_timed(operation.action)]
        counts = server.counts()
        seconds += [_timed(operation.action) for _ in range(operation.rounds - 1)]
        counts["read"] = operation.read
        counts["seconds"] = seconds
        results[operation.label] = counts
    return results
