"""What reading S3's timestamps costs the client, per value.

Run as ``python -m benchmarks.timestamps``. botocore reads the date of every
key of a listing and the ``Last-Modified`` header of every GET and HEAD; a
copy of 2,000 small files from S3 reads about 4,000. Each figure is the best
of five ``timeit`` rounds, in microseconds per value, for botocore's own
parser and for the one the s3 mount gives its clients
(``backends/s3_timestamps.py``).
"""

from __future__ import annotations

import sys
import timeit
from collections.abc import Callable

from botocore.utils import parse_timestamp as botocore_parse_timestamp

from genro_storage_django.backends.s3_timestamps import parse_timestamp

VALUES = {
    "listing (ISO 8601)": "2026-12-06T08:00:00.000Z",
    "header (HTTP date)": "Sun, 06 Dec 2026 08:00:00 GMT",
}
NUMBER = 2_000


def per_value(parser: Callable[[str], object], value: str) -> float:
    timer = timeit.Timer(lambda: parser(value))
    return min(timer.repeat(repeat=5, number=NUMBER)) / NUMBER * 1e6


def main() -> int:
    for label, value in VALUES.items():
        assert parse_timestamp(value) == botocore_parse_timestamp(value)
        theirs = per_value(botocore_parse_timestamp, value)
        ours = per_value(parse_timestamp, value)
        print(f"{label}: botocore {theirs:.1f} µs, s3 mount {ours:.1f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
