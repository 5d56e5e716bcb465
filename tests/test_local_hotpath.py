"""The local mount's hot path (``exists``, ``size``, ``listdir``): its shortcuts keep every check.

``names.clean_name`` returns most names as they are without splitting them, and
``LocalBackend.location`` joins them to the root without ``os.path.join``: these
tests hold both to the full rules, on generated names and on the disk.
"""

from __future__ import annotations

import itertools
import os
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile

from genro_storage_django.backends.local import is_temporary
from genro_storage_django.names import clean_name
from genro_storage_django.storage import MountStorage
from tests.conftest import mount_storage

TEMPORARY = f".{'ab' * 16}.part"


def reference_clean(name: str) -> str:
    """The rules of ``clean_name`` written out in full, without its shortcut."""
    if "\x00" in name:
        raise SuspiciousFileOperation("NUL")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise SuspiciousFileOperation("not text") from None
    posix = name.replace("\\", "/")
    parts = [part for part in posix.split("/") if part not in ("", ".")]
    cleaned = "/".join(parts)
    if posix.startswith("/") or re.match(r"^[A-Za-z]:(/|$)", cleaned):
        raise SuspiciousFileOperation("absolute")
    if ".." in parts:
        raise SuspiciousFileOperation("traversal")
    return cleaned


def outcome(function: Any, name: str) -> str:
    try:
        return f"ok:{function(name)}"
    except SuspiciousFileOperation:
        return "refused"


PIECES = ["a", "b.txt", ".", "..", "...", ".hidden", "/", "//", "\\", ":", "C:", "é", "\x00", " "]


def test_clean_name_matches_the_full_rules_on_every_short_combination():
    for length in range(1, 4):
        for pieces in itertools.product(PIECES, repeat=length):
            name = "".join(pieces)
            assert outcome(clean_name, name) == outcome(reference_clean, name), repr(name)


def test_clean_name_matches_the_full_rules_on_random_names():
    generator = random.Random(23)
    for _ in range(20_000):
        name = "".join(generator.choice(PIECES) for _ in range(generator.randrange(1, 9)))
        assert outcome(clean_name, name) == outcome(reference_clean, name), repr(name)


def test_clean_name_of_a_path_object():
    assert clean_name(Path("a/b/c.txt")) == "a/b/c.txt"  # type: ignore[arg-type]


def test_is_temporary():
    assert is_temporary(TEMPORARY)
    assert not is_temporary("report.part")
    assert not is_temporary(f".{'AB' * 16}.part")  # upper-case hex is no name we write
    assert not is_temporary(f"{TEMPORARY}x")
    assert not is_temporary(f"x{TEMPORARY}")


@pytest.fixture
def disk(local_mount_config: dict[str, Any]) -> Iterator[MountStorage]:
    yield from mount_storage({"disk": local_mount_config}, "disk")


def test_exists_size_listdir_on_disk(disk, local_mount_config):
    root = Path(local_mount_config["path"])
    disk.save("a/b/file.txt", ContentFile(b"12345"))
    disk.save("a/notes.part", ContentFile(b"1"))  # ".part", but no temporary name
    (root / "a" / TEMPORARY).write_bytes(b"being written")
    (root / "a" / "sub").mkdir()
    assert disk.exists("a/b/file.txt") and disk.exists("a\\b\\file.txt")
    assert disk.exists("./a//b/./file.txt")
    assert disk.size("a/b/file.txt") == 5 == disk.size("a/./b//file.txt")
    assert disk.exists("a/notes.part") and disk.size("a/notes.part") == 1
    assert not disk.exists("a/missing.txt")
    assert disk.listdir("a") in ((["b", "sub"], ["notes.part"]), (["sub", "b"], ["notes.part"]))
    assert disk.path("a/b/file.txt") == os.path.join(os.path.realpath(root), "a", "b", "file.txt")
    assert disk.exists("") and disk.listdir("nowhere") == ([], [])


@pytest.mark.parametrize(
    "name",
    ["../outside.txt", "a/../../outside.txt", "/etc/passwd", "C:/x", "a\\..\\..\\x", "a\x00b"],
)
def test_names_leaving_the_mount_are_refused(disk, name):
    for operation in (disk.exists, disk.size, disk.listdir):
        with pytest.raises(SuspiciousFileOperation):
            operation(name)


@pytest.mark.parametrize("name", [TEMPORARY, f"a/{TEMPORARY}", f"{TEMPORARY}/inner.txt"])
def test_temporary_names_are_refused(disk, local_mount_config, name):
    (Path(local_mount_config["path"]) / TEMPORARY).write_bytes(b"being written")
    for operation in (disk.exists, disk.size, disk.listdir):
        with pytest.raises(SuspiciousFileOperation):
            operation(name)
    assert TEMPORARY not in disk.listdir("")[1]


def test_a_mount_at_the_filesystem_root_joins_without_a_double_slash():
    for storage in mount_storage({"top": {"type": "local", "path": os.sep}}, "top"):
        assert storage.path("etc/hosts") == f"{os.sep}etc{os.sep}hosts"
        assert storage.exists("") and storage.exists(os.path.relpath(__file__, os.sep))
