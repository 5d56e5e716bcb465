"""``storage_ls`` and ``storage_du`` on local, memory and s3 mounts."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clikit import KINDS, refused, run, seeded_mounts
from tests.test_transfer import TREE

SIZES = {name: len(data) for name, data in TREE.items()}


@pytest.fixture(params=KINDS)
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from seeded_mounts(request, tmp_path)


def test_ls_lists_the_children_by_name_folders_marked(seeded):
    assert run("storage_ls", "m:").splitlines() == ["a.txt", "docs/", "empty.bin", "photos/"]
    assert run("storage_ls", "m:photos").splitlines() == ["2024/", "thumbs/"]
    assert run("storage_ls", "m:photos/2024/").splitlines() == ["one.jpg", "two.png"]


def test_ls_recursive_long_gives_sizes_times_and_listed_checksums(seeded):
    lines = run("storage_ls", "m:", "-R", "-l").splitlines()
    names = sorted(TREE)
    for line, name in zip(lines, names, strict=True):
        size, day, time, *_ = line.split()
        assert int(size) == SIZES[name]
        datetime.datetime.fromisoformat(f"{day} {time}")
        md5 = hashlib.md5(TREE[name]).hexdigest()
        expected = f"{name}  md5:{md5}" if seeded == "s3" else name
        assert line.endswith(f"  {expected}")


def test_ls_json_is_one_object_per_line(seeded):
    lines = run("storage_ls", "m:", "-R", "--json").splitlines()
    entries = [json.loads(line) for line in lines]
    assert [entry["name"] for entry in entries] == sorted(TREE)
    for entry in entries:
        assert entry["type"] == "file" and entry["size"] == SIZES[entry["name"]]
        modified = datetime.datetime.fromisoformat(entry["modified"])
        assert abs(datetime.datetime.now(datetime.timezone.utc) - modified).total_seconds() < 600
        md5 = hashlib.md5(TREE[entry["name"]]).hexdigest()
        assert entry["checksums"] == ({"md5": md5} if seeded == "s3" else {})
    top = [json.loads(line) for line in run("storage_ls", "m:", "--json").splitlines()]
    assert {entry["name"]: entry["type"] for entry in top} == {
        "a.txt": "file",
        "docs": "dir",
        "empty.bin": "file",
        "photos": "dir",
    }


def test_ls_of_a_file_describes_it(seeded):
    assert run("storage_ls", "m:a.txt").splitlines() == ["a.txt"]
    (line,) = run("storage_ls", "-l", "m:photos/2024/one.jpg").splitlines()
    assert line.split()[0] == "3000" and "one.jpg" in line


def test_du_adds_up_every_folder_from_one_listing(seeded, request):
    total = sum(SIZES.values())
    if seeded == "s3":
        log = request.getfixturevalue("s3_server").log
        log.clear()
    lines = [line.split("\t") for line in run("storage_du", "m:").splitlines()]
    assert lines == [
        [str(SIZES["docs/caf\u00e9 menu.pdf"]), "1", "m:docs"],
        ["3011", "3", "m:photos"],
        ["3010", "2", "m:photos/2024"],
        ["1", "1", "m:photos/thumbs"],
        [str(total), "6", "m:"],
    ]
    if seeded == "s3":
        requests = log.snapshot()
        # No object is read; listings: the folder test and one recursive listing.
        assert all(path.rstrip("/").count("/") == 1 for _, path, _ in requests), requests
        assert len(requests) <= 2, requests


def test_du_depth_and_human_sizes(seeded):
    lines = run("storage_du", "m:photos", "-d", "1", "-h").splitlines()
    assert lines == ["2.9 KiB\t2\tm:photos/2024", "1 B\t1\tm:photos/thumbs", "2.9 KiB\t3\tm:photos"]
    assert run("storage_du", "m:", "-d", "0").splitlines() == [f"{sum(SIZES.values())}\t6\tm:"]
    assert run("storage_du", "m:a.txt").splitlines() == ["5\t1\tm:a.txt"]


@pytest.mark.parametrize("command", ["storage_ls", "storage_du"])
@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("nowhere:", "'nowhere' is not defined in STORAGE_MOUNTS"),
        ("m", "'m' is not MOUNT:PATH"),
        ("m:missing", "m:missing does not exist."),
        ("m:../x", "path traversal"),
    ],
)
def test_refusals_exit_2(seeded, command, location, message):
    assert message in refused(command, location)


def test_du_refuses_a_negative_depth(seeded):
    assert "--max-depth must be 0 or more" in refused("storage_du", "m:", "-d", "-1")
