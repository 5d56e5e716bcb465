"""Generated file names never reach outside their mount.

Hypothesis builds names from the pieces that break path handling (``..``,
absolute paths, backslashes, NUL, drive letters, very long segments,
trailing slashes and dots, unicode, URL and glob syntax) and runs each one
through the storage calls a web application makes with user input. Every call
must either work inside the mount or raise one of the errors in
``ACCEPTED``; everything outside the mount root is snapshotted before and
compared after.

Accepted errors, and why:

* ``SuspiciousFileOperation``: the name tries to leave the mount, holds a NUL
  byte or a lone surrogate (not UTF-8 text), holds s3fs's ``?versionId=``
  (adlfs: ``?versionid=``) version syntax, or has no file name (``""``, ``"a/"``, ``"a/.."``).
* ``FileNotFoundError`` / ``NotADirectoryError`` / ``IsADirectoryError``: the
  name is inside the mount but nothing (or a directory) is there.
* ``OSError`` with ``errno.ENAMETOOLONG``: a segment is longer than the
  filesystem allows (255 bytes on Linux). Object stores answer keys longer
  than 1,024 bytes with an ``OSError`` too.
"""

from __future__ import annotations

import errno
import hashlib
import os
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genro_storage_django.names import clean_name
from tests.conftest import mount_storage
from tests.serverkit import snapshot as tree

#: At least this many names must be tried over the three backends in one run.
MINIMUM_NAMES = 9_800
EXAMPLES = {"local": 4_800, "memory": 4_800, "s3": 200}

_counts: dict[str, int] = {}
_counts_lock = threading.Lock()

PIECES = [
    "..",
    ".",
    "",
    "...",
    "a",
    "b.txt",
    "é",
    "日本語",
    "\u202e",  # right-to-left override
    "\ud800",  # lone surrogates: not encodable as UTF-8
    "\udc80",
    "\u00a0",
    "\\",
    "/",
    "//",
    "\\..\\",
    "../",
    "/..",
    "\x00",
    "\n",
    "C:",
    "C:\\",
    "c:/",
    "~",
    "~root",
    "$HOME",
    "%2e%2e",
    "%2f",
    "..%2f",
    "?versionId=1",
    "#frag",
    "*",
    "[a]",
    "**",
    " ",
    "x" * 255,
    "y" * 256,
    "é" * 130,  # 260 bytes in UTF-8
    "s3://",
    "file://",
    "memory://",
    ":",
    ";",
    "'\"<>",
]

name_strategy = st.one_of(
    st.lists(st.sampled_from(PIECES), min_size=0, max_size=8).map("".join),
    st.lists(
        st.one_of(st.sampled_from(PIECES), st.text(min_size=1, max_size=12)),
        min_size=1,
        max_size=6,
    ).map("/".join),
    st.text(max_size=40),
)

NOT_FOUND = (FileNotFoundError, NotADirectoryError, IsADirectoryError)


def accepted(error: BaseException) -> bool:
    if isinstance(error, (SuspiciousFileOperation, *NOT_FOUND)):
        return True
    return isinstance(error, OSError) and (
        error.errno == errno.ENAMETOOLONG or "too long" in str(error).lower()
    )


def attempt(call, *args: Any) -> tuple[bool, Any]:
    """Run ``call``; return ``(True, result)``, or ``(False, error)`` if the error is accepted."""
    try:
        return True, call(*args)
    except Exception as error:
        if not accepted(error):
            raise AssertionError(f"{call.__name__}{args!r} raised {error!r}") from error
        return False, error


def exercise(storage, name: str, inside) -> None:
    """Run ``name`` through the storage calls that take a user's file name."""
    try:
        expected = clean_name(name)
    except SuspiciousFileOperation:
        expected = None
    content = hashlib.sha256(name.encode("utf-8", "surrogatepass")).digest()
    for call in (storage.exists, storage.size, storage.isdir, storage.scandir):
        attempt(call, name)
    opened, handle = attempt(storage.open, name)
    if opened:
        handle.close()
    saved_ok, saved = attempt(storage.save, name, ContentFile(content))
    if not saved_ok:
        return
    # What was saved has a clean name, inside the mount, with the right bytes.
    assert expected is not None, f"{name!r} was saved as {saved!r}"
    assert saved == clean_name(saved)
    inside(storage, saved)
    with storage.open(saved, "rb") as handle:
        assert handle.read() == content
    assert storage.size(saved) == len(content)
    storage.delete(saved)
    assert not storage.exists(saved)


def run_names(storage, kind: str, inside) -> None:
    @settings(
        max_examples=EXAMPLES[kind],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(name=name_strategy)
    def check(name: str) -> None:
        with _counts_lock:
            _counts[kind] = _counts.get(kind, 0) + 1
        exercise(storage, name, inside)

    check()


def test_local_names_stay_inside(tmp_path: Path) -> None:
    root = tmp_path / "mount"
    root.mkdir()
    (tmp_path / "sibling").mkdir()
    (tmp_path / "sibling" / "secret.txt").write_bytes(b"outside")
    (tmp_path / "mount-other").mkdir()
    (tmp_path / "mount-other" / "a").write_bytes(b"prefix twin")
    (tmp_path / "b.txt").write_bytes(b"parent file")
    before = tree(tmp_path, skip=root)
    real_root = os.path.realpath(root)

    def inside(storage, saved: str) -> None:
        path = os.path.realpath(storage.path(saved))
        assert path.startswith(real_root + os.sep), (saved, path)

    for storage in mount_storage(
        {"names": {"type": "local", "path": str(root), "serve": True}}, "names"
    ):
        run_names(storage, "local", inside)
    assert tree(tmp_path, skip=root) == before


def test_memory_names_stay_inside() -> None:
    mounts = {"names": {"type": "memory"}, "neighbour": {"type": "memory"}}
    for storage in mount_storage(mounts, "names"):
        from genro_storage_django import get_storage

        neighbour = get_storage("neighbour")
        neighbour.save("secret.txt", ContentFile(b"outside"))
        fs = storage.backend.fs
        fs.pipe_file("/outside/secret.txt", b"outside")
        fs.pipe_file("/files-twin/a", b"prefix twin")
        before = {path: fs.cat_file(path) for path in fs.find("/") if not _under(path, "/files")}

        def inside(storage, saved: str) -> None:
            assert storage.backend.full_path(saved).startswith("/files/")

        run_names(storage, "memory", inside)
        after = {path: fs.cat_file(path) for path in fs.find("/") if not _under(path, "/files")}
        assert after == before
        assert neighbour.listdir("") == ([], ["secret.txt"])


def _under(path: str, root: str) -> bool:
    path = "/" + path.lstrip("/")
    return path == root or path.startswith(f"{root}/")


def test_s3_names_stay_inside(s3_mount_config: dict[str, Any]) -> None:
    import s3fs

    fs = s3fs.S3FileSystem(
        key=s3_mount_config["key"],
        secret=s3_mount_config["secret"],
        endpoint_url=s3_mount_config["endpoint_url"],
        skip_instance_cache=True,
        use_listings_cache=False,
    )
    # A bucket of its own: outside() reads every key around the mount, and
    # the suite's shared bucket holds thousands by the time this test runs.
    config = {**s3_mount_config, "bucket": f"names-{uuid.uuid4().hex[:12]}"}
    fs.mkdir(config["bucket"])
    bucket, prefix = config["bucket"], config["prefix"]
    fs.pipe(
        {
            f"{bucket}/{prefix}-twin/a": b"prefix twin",
            f"{bucket}/{prefix}.sibling/secret.txt": b"outside",
            f"{bucket}/b.txt": b"bucket root",
        }
    )

    def outside() -> dict[str, bytes]:
        keys = [key for key in fs.find(bucket) if not key.startswith(f"{bucket}/{prefix}/")]
        return {key: fs.cat_file(key) for key in keys}

    before = outside()

    def inside(storage, saved: str) -> None:
        assert storage.backend.full_path(saved).startswith(f"{bucket}/{prefix}/")

    for storage in mount_storage({"names": config}, "names"):
        run_names(storage, "s3", inside)
    assert outside() == before


def test_names_tried_total() -> None:
    # Runs last in this module: the three tests above counted their names.
    if set(_counts) != set(EXAMPLES):
        pytest.skip("run the whole module to count the names tried")
    total = sum(_counts.values())
    print(f"names tried: {_counts} total {total}")
    assert total >= MINIMUM_NAMES
