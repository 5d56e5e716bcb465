"""Generated ``STORAGE_MOUNTS`` values give system-check messages, never a traceback."""

from __future__ import annotations

import datetime
import decimal
from pathlib import Path, PurePosixPath

from django.core.checks import CheckMessage, run_checks
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genro_storage_django.backends import BACKENDS
from genro_storage_django.conf import COMMON_OPTIONS, get_config, option_schema

EXAMPLES = 600

KEYS = sorted(
    {key for mount_type in BACKENDS for key in option_schema(mount_type)} | set(COMMON_OPTIONS)
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.binary(max_size=8),
    st.sampled_from(
        [
            "local",
            "memory",
            "s3",
            "gcs",
            "azure",
            "http",
            "readonly",
            "readwrite",
            "delete",
            "/tmp/x",
            "relative/dir",
            "http://127.0.0.1:1/",
            "",
            Path("/tmp/p"),
            PurePosixPath("rel"),
            decimal.Decimal("1.5"),
            datetime.date(2020, 1, 1),
            object(),
            type,
            print,
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.tuples(children),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers()), children, max_size=3),
        st.frozensets(st.integers(), max_size=2),
    ),
    max_leaves=6,
)
keys = st.one_of(st.sampled_from([*KEYS, "name"]), st.text(max_size=8), st.integers(), st.none())
mount = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from([*BACKENDS, "ftp", "", None, 3])},
        optional={key: values for key in KEYS if key != "type"}
        | {"name": st.one_of(st.text(max_size=6), values)},
    ),
    st.dictionaries(keys, values, max_size=5),
    values,
)
mount_names = st.one_of(
    st.sampled_from(["media", "bad name!", "", ".hidden", "a" * 300, "é"]),
    st.text(max_size=10),
    st.integers(),
    st.none(),
    st.tuples(st.integers()),
)
storage_mounts = st.one_of(
    st.dictionaries(mount_names, mount, max_size=4),
    st.lists(mount, max_size=4),
    st.tuples(mount),
    values,
)

_tried: list[int] = []


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(raw=storage_mounts)
def test_any_setting_gives_check_messages(raw) -> None:
    _tried.append(1)
    with override_settings(STORAGE_MOUNTS=raw):
        messages = run_checks(tags=None)
        config = get_config()
    ours = [m for m in messages if (m.id or "").startswith("genro_storage_django.")]
    assert all(isinstance(m, CheckMessage) for m in ours)
    # Every mount is either valid or reported; messages are plain text.
    for message in ours:
        assert isinstance(message.msg, str) and message.msg
    if config.invalid:
        assert any(m.is_serious() for m in ours), (raw, ours)
    for name in config.mounts:
        assert name not in config.invalid


def test_configurations_tried() -> None:
    if _tried:
        assert len(_tried) >= EXAMPLES
