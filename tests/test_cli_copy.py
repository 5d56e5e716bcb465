"""``storage_copy``'s rules, filters and controls, to local, memory and s3 destinations."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.core.management import CommandError, call_command

from genro_storage_django import get_storage
from genro_storage_django.transfer.units import parse_duration, parse_size
from tests.clikit import KINDS, REPO, copy_mounts, manage, refused, tree
from tests.test_transfer import TREE, read_tree, write_tree

MiB = 1024 * 1024
SIZES = {name: len(data) for name, data in TREE.items()}


@pytest.fixture(params=KINDS)
def dest(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    yield from copy_mounts(request, tmp_path)


def copy(*args: str, returncode: int = 0) -> list[dict[str, Any]]:
    """Run storage_copy --json, which must exit with ``returncode``; return its NDJSON objects."""
    stdout = io.StringIO()
    try:
        call_command("storage_copy", *args, "--json", stdout=stdout)
    except CommandError as error:
        assert error.returncode == returncode, str(error)
    else:
        assert returncode == 0
    return [json.loads(line) for line in stdout.getvalue().splitlines()]


def files(events: list[dict[str, Any]], action: str) -> list[str]:
    return sorted(e["name"] for e in events if e["event"] == "file" and e["action"] == action)


def age(path: Path, seconds: float) -> None:
    """Make ``path`` look modified ``seconds`` ago (negative: in the future)."""
    when = time.time() - seconds
    os.utime(path, (when, when))


# Skip rules


def test_skip_size_compares_sizes_alone_size_time_also_times(dest):
    copy("src:", "d:")
    (dest / "a.txt").write_bytes(b"ALPHA")  # same size, edited after the copy
    age(dest / "a.txt", -60)
    assert files(copy("src:", "d:", "--skip", "size"), "copy") == []
    assert tree("d")["a.txt"] == b"alpha"
    events = copy("src:", "d:", "--skip", "size-time")
    assert files(events, "copy") == ["a.txt"]
    assert [e["reason"] for e in events if e.get("action") == "copy"] == ["source is newer"]
    assert tree("d")["a.txt"] == b"ALPHA"
    # The default is size-time: a newer same-size edit is copied again.
    (dest / "a.txt").write_bytes(b"alpha")
    age(dest / "a.txt", -120)
    assert files(copy("src:", "d:"), "copy") == ["a.txt"]


# Filters


def test_min_and_max_size(dest):
    events = copy("src:", "d:", "--min-size", "10", "--max-size", "1K")
    assert files(events, "copy") == ["docs/caf\u00e9 menu.pdf", "photos/2024/two.png"]
    assert sorted(tree("d")) == ["docs/caf\u00e9 menu.pdf", "photos/2024/two.png"]
    assert files(copy("src:", "d:", "--min-size", "2.9K"), "copy") == ["photos/2024/one.jpg"]


def test_min_and_max_age(dest):
    age(dest / "a.txt", 3 * 86400)
    age(dest / "photos/2024/one.jpg", 2 * 3600)
    assert files(copy("src:", "d:", "--min-age", "1d"), "copy") == ["a.txt"]
    events = copy("src:", "d:", "--max-age", "1d", "--min-age", "1h")
    assert files(events, "copy") == ["photos/2024/one.jpg"]
    assert sorted(tree("d")) == ["a.txt", "photos/2024/one.jpg"]


def test_files_from_a_file_and_stdin(dest, tmp_path, monkeypatch):
    names = tmp_path / "names.txt"
    names.write_text("# wanted\na.txt\n\nphotos/2024/two.png\nnot/there.txt\n", encoding="utf-8")
    events = copy("src:", "d:", "--files-from", str(names))
    assert files(events, "copy") == ["a.txt", "photos/2024/two.png"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("docs/caf\u00e9 menu.pdf\n"))
    events = copy("src:", "d:", "--files-from", "-", "--exclude", "*.png")
    assert files(events, "copy") == ["docs/caf\u00e9 menu.pdf"]
    assert sorted(tree("d")) == ["a.txt", "docs/caf\u00e9 menu.pdf", "photos/2024/two.png"]


def test_filters_protect_destination_files_from_delete(dest):
    copy("src:", "d:")
    (dest / "a.txt").unlink()
    (dest / "empty.bin").unlink()
    events = copy("src:", "d:", "--delete", "--min-size", "1")
    # empty.bin (0 bytes) is left out by the filter on the destination side too.
    assert files(events, "delete") == ["a.txt"]
    assert "empty.bin" in tree("d")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--min-size", "ten"], "'ten' is not a size"),
        (["--max-age", "3 days"], "'3 days' is not a duration"),
    ],
)
def test_bad_filter_values_are_refused(dest, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("storage_copy", "src:", "d:", *args)
    assert tree("d") == {}


def test_refusals_exit_2_from_the_command_line(tmp_path):
    write_tree(tmp_path / "src", TREE)
    mounts = {"src": {"type": "local", "path": str(tmp_path / "src")}}
    for args, message in [
        (["src:", "src:inner"], b"overlap"),
        (["src:", "nowhere:"], b"'nowhere' is not defined in STORAGE_MOUNTS"),
        (["src:", "dst", "--max-size", "1X"], b"'1X' is not a size"),
    ]:
        process = manage(tmp_path, mounts, "storage_copy", *args)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 2 and message in err, err
    assert read_tree(tmp_path / "src") == TREE and not (tmp_path / "src" / "inner").exists()


def test_a_missing_files_from_is_a_refusal(dest, tmp_path):
    message = refused("storage_copy", "src:", "d:", "--files-from", str(tmp_path / "nope"))
    assert "No such file or directory" in message
    assert tree("d") == {}


# NDJSON


def ndjson_schema() -> dict[str, Any]:
    """The JSON Schema that docs/storage_copy.rst publishes as the --json contract."""
    text = (REPO / "docs" / "storage_copy.rst").read_text(encoding="utf-8")
    block = re.search(r"the contract \(.*?\)::\n\n((?:    .*\n|\n)+)", text)
    assert block, "the schema block of docs/storage_copy.rst moved"
    return json.loads(block.group(1))


def test_json_is_ndjson_valid_against_the_documented_schema(dest):
    schema = ndjson_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    copy("src:", "d:", "--include", "a.txt")
    get_storage("d").save("stale.txt", io.BytesIO(b"old"))
    args = ["--delete", "--max-transfer", "3000", "--workers", "1", "--backup-dir", "bak:"]
    events = copy("src:", "d:", *args, returncode=3)
    for event in events:
        jsonschema.validate(event, schema)
    assert [e["event"] for e in events] == ["file"] * (len(TREE) + 1) + ["summary"]
    assert files(events, "skip") == ["a.txt"]
    assert files(events, "defer") == ["photos/2024/one.jpg"]
    assert files(events, "delete") == ["stale.txt"]
    assert [e["backup"] for e in events if e.get("action") == "delete"] == ["bak:stale.txt"]
    summary = events[-1]
    assert (summary["copied"], summary["deferred"], summary["bytes"]) == (4, 1, 411)
    # A wrong key or type is caught: the validation can fail.
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**events[0], "size": "5"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({k: v for k, v in summary.items() if k != "deferred"}, schema)


@pytest.mark.parametrize(
    ("text", "size"),
    [("0", 0), ("512", 512), ("10K", 10240), ("10M", 10 * 2**20), ("1.5G", 3 * 2**29),
     ("2MiB", 2 * 2**20), ("3 kb", 3072), ("1T", 2**40)],
)  # fmt: skip
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("30m", 1800), ("24h", 86400), ("7d", 7 * 86400),
     ("2w", 14 * 86400), ("1d12h", 1.5 * 86400), ("0.5h", 1800)],
)  # fmt: skip
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "M", "10X", "-1", "1.2.3K"])
def test_bad_sizes(text):
    with pytest.raises(ValueError, match="is not a size"):
        parse_size(text)


@pytest.mark.parametrize("text", ["", "d", "1y", "1h 30m", "h1", "-5m"])
def test_bad_durations(text):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)
