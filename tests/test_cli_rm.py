"""``storage_rm``: deletes what it names, refuses everything else with exit status 2."""

from __future__ import annotations

import os
import pty
import select
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clikit import KINDS, manage, refused, run, seeded_mounts, tree
from tests.test_transfer import TREE, read_tree, write_tree


@pytest.fixture(params=KINDS)
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from seeded_mounts(request, tmp_path)


def test_deletes_a_file_with_yes(seeded):
    assert run("storage_rm", "m:a.txt", "--yes") == "Deleted 1 file (5 B) from m:a.txt.\n"
    assert tree("m") == {name: data for name, data in TREE.items() if name != "a.txt"}


def test_deletes_a_folder_with_r(seeded):
    out = run("storage_rm", "m:photos", "-r", "--yes")
    assert out == "Deleted 3 files (2.9 KiB) from m:photos.\n"
    assert tree("m") == {name: data for name, data in TREE.items() if not name.startswith("photos")}


def test_dry_run_lists_and_deletes_nothing(seeded):
    out = run("storage_rm", "m:photos", "-r", "--dry-run", "-v", "2")
    assert out.splitlines() == [
        "would delete m:photos/2024/one.jpg",
        "would delete m:photos/2024/two.png",
        "would delete m:photos/thumbs/one.tmp",
        "Would delete 3 files (2.9 KiB) from m:photos.",
    ]
    assert tree("m") == TREE


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["m:", "-r", "--yes"], "m: is the root of mount 'm': a whole mount is never deleted"),
        (["m:photos", "--yes"], "m:photos is a folder: pass -r"),
        (["m:missing.txt", "--yes"], "m:missing.txt does not exist."),
        (
            ["ro:a.txt", "--yes"],
            "Mount 'ro' does not allow delete 'a.txt' (permissions: 'readonly')",
        ),
        (["rw:photos", "-r", "--yes"], "Mount 'rw' does not allow delete"),
        (["nowhere:a.txt", "--yes"], "'nowhere' is not defined in STORAGE_MOUNTS"),
        (["m", "--yes"], "'m' is not MOUNT:PATH"),
        (["m:../seed/a.txt", "--yes"], "path traversal"),
        # Off a terminal (as here), no confirmation can be asked.
        (["m:a.txt"], "Standard input is not a terminal"),
    ],
)
def test_refusals_exit_2_and_change_nothing(seeded, args, message):
    assert message in refused("storage_rm", *args)
    assert tree("m") == TREE


def answer(tmp_path: Path, reply: bytes, *args: str) -> tuple[int, str, str]:
    """Run storage_rm with its standard input on a terminal, typing ``reply``."""
    leader, follower = pty.openpty()
    process = manage(tmp_path, local_mount(tmp_path), "storage_rm", *args, stdin=follower)
    os.close(follower)
    assert select.select([process.stdout], [], [], 60)[0]
    os.write(leader, reply)
    out, err = process.communicate(timeout=60)
    os.close(leader)
    return process.returncode, out.decode(), err.decode()


def local_mount(tmp_path: Path) -> dict[str, dict[str, str]]:
    return {"m": {"type": "local", "path": str(tmp_path / "m")}}


def test_on_a_terminal_it_asks_first(tmp_path):
    write_tree(tmp_path / "m", TREE)
    code, out, err = answer(tmp_path, b"n\n", "m:photos", "-r")
    assert out == "Delete 3 files (2.9 KiB) from m:photos? [y/N] "
    assert code == 2 and "Not confirmed: nothing was deleted." in err
    assert read_tree(tmp_path / "m") == TREE
    code, out, err = answer(tmp_path, b"y\n", "m:photos", "-r")
    assert code == 0, err
    assert out.endswith("[y/N] Deleted 3 files (2.9 KiB) from m:photos.\n")
    assert sorted(read_tree(tmp_path / "m")) == ["a.txt", "docs/caf\u00e9 menu.pdf", "empty.bin"]


def test_off_a_terminal_the_real_process_exits_2(tmp_path):
    write_tree(tmp_path / "m", TREE)
    process = manage(tmp_path, local_mount(tmp_path), "storage_rm", "m:a.txt")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2 and b"pass --yes to delete" in err
    assert read_tree(tmp_path / "m") == TREE
