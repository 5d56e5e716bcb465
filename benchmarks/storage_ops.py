"""The Storage API operations whose S3 requests WL4 counts, for any Django storage.

Imported by both venvs: Django and the standard library only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import Storage

from benchmarks.servers import S3Server

MIB = 1024 * 1024
BIG_SIZE = 10 * MIB
LISTED_FILES = 100


def prepare(storage: Storage, big_size: int = BIG_SIZE, listed: int = LISTED_FILES) -> None:
    """Write the files the operations use (not counted)."""
    storage.save("wl4/big.bin", ContentFile(b"\x01" * big_size))
    storage.save("wl4/small.txt", ContentFile(b"hello\n" * 100))
    for index in range(listed):
        storage.save(f"wl4/listed/file-{index:04d}.txt", ContentFile(b"x" * 100))
    for index in range(5):
        storage.save(f"wl4/listed/sub-{index}/inner.txt", ContentFile(b"y"))


def _read_all(storage: Storage, name: str) -> int:
    with storage.open(name, "rb") as file:
        return len(file.read())


def _read_head(storage: Storage, name: str) -> int:
    with storage.open(name, "rb") as file:
        return len(file.read(MIB))


def operations(storage: Storage, big_size: int) -> list[tuple[str, Callable[[], Any], int]]:
    """Return ``(label, action, bytes the caller reads)`` for each counted operation."""
    new_name = f"wl4/new/{uuid.uuid4().hex}.txt"
    taken_name = "wl4/small.txt"
    return [
        ("save (new name)", lambda: storage.save(new_name, ContentFile(b"z" * 1024)), 0),
        ("save (name taken)", lambda: storage.save(taken_name, ContentFile(b"z" * 1024)), 0),
        ("exists", lambda: storage.exists("wl4/small.txt"), 0),
        ("exists (missing)", lambda: storage.exists("wl4/missing.txt"), 0),
        ("size", lambda: storage.size("wl4/big.bin"), 0),
        ("url", lambda: storage.url("wl4/big.bin"), 0),
        ("open+read all", lambda: _read_all(storage, "wl4/big.bin"), big_size),
        ("open+read first MiB", lambda: _read_head(storage, "wl4/big.bin"), min(MIB, big_size)),
        ("listdir (100 files, 5 dirs)", lambda: storage.listdir("wl4/listed"), 0),
        ("delete", lambda: storage.delete(new_name), 0),
    ]


def count_requests(
    storage: Storage, server: S3Server, big_size: int = BIG_SIZE
) -> dict[str, dict[str, Any]]:
    """Run each operation once; return the server's counts for each."""
    results = {}
    for label, action, read in operations(storage, big_size):
        server.reset()
        action()
        counts = server.counts()
        counts["read"] = read
        results[label] = counts
    return results
