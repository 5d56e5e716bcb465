"""The timestamps of S3's answers, read without dateutil.

botocore reads every timestamp of a response (the ``Last-Modified`` header of
a GET or HEAD, the ``LastModified`` of each key of a listing) with
``dateutil.parser``: about 80 µs each, a tenth of the client's CPU when a
copy moves many small files (``docs/benchmarks.rst``). S3 sends two fixed
formats, which the standard library reads in a few microseconds; anything
else goes to botocore's own parser, so the result is always botocore's.
"""

from __future__ import annotations

import datetime
import email.utils
from typing import Any

from botocore.utils import parse_timestamp as botocore_parse_timestamp


def parse_timestamp(value: Any) -> datetime.datetime:
    """Return the aware datetime of ``value``, as ``botocore.utils.parse_timestamp`` does."""
    if isinstance(value, str):
        parsed = _iso_8601(value) if value[:4].isdigit() else _http_date(value)
        # A time without a zone is read by botocore as local time: leave it to botocore.
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return botocore_parse_timestamp(value)


def _iso_8601(value: str) -> datetime.datetime | None:
    # Listings: "2026-12-06T08:00:00.000Z". Python 3.10's fromisoformat()
    # does not take the "Z".
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        return None


def _http_date(value: str) -> datetime.datetime | None:
    # Headers: "Sun, 06 Dec 2026 08:00:00 GMT".
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def session(session_options: dict[str, Any]) -> Any:
    """Return the aiobotocore session s3fs would make, with ``parse_timestamp`` for its clients.

    The parser is chosen when a client is made: the session must have it first.
    """
    from aiobotocore.session import AioSession

    created = AioSession(**session_options)
    factory = created.get_component("response_parser_factory")
    factory.set_parser_defaults(timestamp_parser=parse_timestamp)
    return created
