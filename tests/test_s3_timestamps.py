"""The S3 mount reads the timestamps of S3's answers as botocore does, without dateutil.

The reference is botocore's own ``parse_timestamp`` (what boto3, and so
django-storages' S3Storage, uses): every value gives the same instant, aware
where botocore's is aware.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.utils import parse_timestamp as botocore_parse_timestamp
from django.core.files.base import ContentFile
from hypothesis import given
from hypothesis import strategies as st

from genro_storage_django.backends import s3_timestamps
from genro_storage_django.storage import MountStorage
from tests.conftest import mount_storage
from tests.servers import BUCKET

VALUES = [
    "Sun, 06 Dec 2026 08:00:00 GMT",  # Last-Modified of a GET or HEAD
    "Sun, 06 Dec 2026 08:00:00 +0100",
    "Sun, 06 Dec 2026 08:00:00 -0000",
    "2026-12-06T08:00:00.000Z",  # LastModified of a listing
    "2026-12-06T08:00:00Z",
    "2026-12-06T08:00:00.123456+02:00",
    "2026-12-06T08:00:00.123456789Z",  # more digits than a datetime keeps
    "2026-12-06T08:00:00",  # no zone: botocore's choice
    "2026-12-06",
    "1700000000",  # seconds since the epoch
    1700000000,
    1700000000.5,
]


def same(ours: datetime.datetime, theirs: datetime.datetime) -> bool:
    aware = ours.utcoffset() is not None
    return aware == (theirs.utcoffset() is not None) and ours == theirs


@pytest.mark.parametrize("value", VALUES)
def test_each_format_gives_botocores_datetime(value: Any) -> None:
    ours, theirs = s3_timestamps.parse_timestamp(value), botocore_parse_timestamp(value)
    assert same(ours, theirs), (ours, theirs)


@pytest.mark.parametrize(
    "value", ["", "yesterday", "Sun, 99 Dec 2026 08:00:00 GMT", "2026-13-01T00:00:00Z"]
)
def test_what_botocore_refuses_is_refused_alike(value: str) -> None:
    with pytest.raises(ValueError) as theirs:
        botocore_parse_timestamp(value)
    with pytest.raises(type(theirs.value)):
        s3_timestamps.parse_timestamp(value)


instants = st.datetimes(
    min_value=datetime.datetime(1971, 1, 1),
    max_value=datetime.datetime(2200, 1, 1),
    timezones=st.just(datetime.timezone.utc),
)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: datetime.timezone(datetime.timedelta(minutes=minutes))
)


@given(instants)
def test_any_header_date_gives_botocores_datetime(instant: datetime.datetime) -> None:
    value = instant.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert same(s3_timestamps.parse_timestamp(value), botocore_parse_timestamp(value))


@given(instants, offsets, st.sampled_from(["auto", "seconds", "milliseconds"]))
def test_any_listing_date_gives_botocores_datetime(
    instant: datetime.datetime, offset: datetime.timezone, timespec: str
) -> None:
    value = instant.astimezone(offset).isoformat(timespec=timespec)
    if offset.utcoffset(None) == datetime.timedelta(0):
        value = value.replace("+00:00", "Z")
    assert same(s3_timestamps.parse_timestamp(value), botocore_parse_timestamp(value))


# The mount's client: its answers take the fast paths, and give what S3Storage gives.


@pytest.fixture
def s3(s3_mount_config: dict[str, Any]) -> Iterator[MountStorage]:
    yield from mount_storage({"s3": s3_mount_config}, "s3")


@pytest.fixture
def fast_paths(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the values read by the standard library rather than by botocore."""
    counts = {"header": 0, "listing": 0}

    def counted(read: Any, kind: str) -> Any:
        def counting(value: str) -> Any:
            parsed = read(value)
            counts[kind] += parsed is not None and parsed.tzinfo is not None
            return parsed

        return counting

    for name, kind in (("_http_date", "header"), ("_iso_8601", "listing")):
        monkeypatch.setattr(s3_timestamps, name, counted(getattr(s3_timestamps, name), kind))
    return counts


def test_the_s3_mount_reads_answers_as_s3storage_does(
    s3: MountStorage, s3_mount_config: dict[str, Any], fast_paths: dict[str, int]
) -> None:
    from storages.backends.s3 import S3Storage

    name = s3.save("times/a.txt", ContentFile(b"text"))
    ours = s3.get_modified_time(name)
    [entry] = [e for e in s3.backend.scandir(s3._path("times")) if e.name == "a.txt"]
    # The same object, read by django-storages (boto3, dateutil).
    reference = S3Storage(
        bucket_name=BUCKET,
        location=s3_mount_config["prefix"],
        endpoint_url=s3_mount_config["endpoint_url"],
        access_key="testing",
        secret_key="testing",
    )
    assert ours == reference.get_modified_time(name)
    assert (
        entry.modified
        == reference.bucket.Object(f"{s3_mount_config['prefix']}/{name}").last_modified
    )
    assert fast_paths["header"] >= 1 and fast_paths["listing"] >= 1, fast_paths


def test_the_benchmark_prints_both_parsers_for_both_formats() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.timestamps"],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = completed.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["listing (ISO 8601)", "header (HTTP date)"]
    assert all("botocore" in line and "s3 mount" in line for line in lines)
