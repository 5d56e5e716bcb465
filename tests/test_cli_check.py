"""``storage_check SRC DST``: only in SRC, only in DST, differing; exit 1 on any difference."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from genro_storage_django import get_storage, transfer
from tests.clikit import KINDS, refused, run, seeded_mounts
from tests.test_transfer import TREE


@pytest.fixture(params=KINDS)
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from seeded_mounts(request, tmp_path)


def replace(mount: str, name: str, data: bytes) -> None:
    storage = get_storage(mount)
    storage.delete(name)
    storage.save(name, ContentFile(data))


def _output(*args: str) -> str:
    """The output of a storage_check that finds differences (and so fails)."""
    stdout = io.StringIO()
    with pytest.raises(CommandError):
        call_command("storage_check", *args, stdout=stdout)
    return stdout.getvalue()


def test_equal_folders_exit_0(seeded):
    assert transfer.copy("m:", "other:").ok
    assert run("storage_check", "m:", "other:") == (
        "6 matching files, 0 only in SRC, 0 only in DST, 0 differing"
        + ("" if seeded == "s3" else " (6 compared by size only: no common checksum)")
        + ".\n"
    )
    out = run("storage_check", "m:", "other:", "--checksum")
    assert out == "6 matching files, 0 only in SRC, 0 only in DST, 0 differing.\n"


def test_differences_are_listed_and_exit_1(seeded):
    assert transfer.copy("m:", "other:").ok
    replace("other", "a.txt", b"ALPHA")  # same size, other bytes
    replace("other", "photos/2024/two.png", b"longer than before")
    get_storage("other").delete("empty.bin")
    get_storage("other").save("extra.txt", ContentFile(b"x"))
    message = refused("storage_check", "m:", "other:", "--checksum", returncode=1)
    assert message == "m: and other: differ."
    out = _output("m:", "other:", "--checksum")
    assert out.splitlines() == [
        "only in SRC: empty.bin",
        "only in DST: extra.txt",
        "differs (checksum): a.txt",
        "differs (size): photos/2024/two.png",
        "3 matching files, 1 only in SRC, 1 only in DST, 2 differing.",
    ]
    # Without --checksum, a same-size change is seen only where the listings have checksums.
    out = _output("m:", "other:")
    assert ("differs (checksum): a.txt" in out) == (seeded == "s3")


def test_json_and_a_missing_destination(seeded):
    stdout = _output("m:photos", "other:nothing-here", "--json")
    result = json.loads(stdout)
    assert result["only_in_source"] == ["2024/one.jpg", "2024/two.png", "thumbs/one.tmp"]
    assert result["ok"] is False and result["differing"] == [] and result["matching"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere:", "m:"], "'nowhere' is not defined in STORAGE_MOUNTS"),
        (["m:", "nowhere:"], "'nowhere' is not defined in STORAGE_MOUNTS"),
        (["m", "other:"], "'m' is not MOUNT:PATH"),
        (["m:missing", "other:"], "m:missing does not exist."),
        (["m:a.txt", "other:"], "m:a.txt is a file: storage_check compares folders."),
        (["m:", "m:a.txt"], "m:a.txt is a file"),
        (["m:../x", "other:"], "path traversal"),
        (["m:", "other:", "--checkers", "0"], "checkers must be at least 1"),
    ],
)
def test_refusals_exit_2(seeded, args, message):
    assert message in refused("storage_check", *args)


def test_reads_and_compares_with_the_given_number_of_checkers(seeded):
    assert transfer.copy("m:", "other:").ok
    assert len(TREE) == 6
    out = run("storage_check", "m:", "other:", "--checksum", "--checkers", "1")
    assert out.startswith("6 matching files")
