"""Shared fixtures. The conformance suite runs once per mount kind in ``WRITABLE_KINDS``.

A backend plugs into the suite by adding its kind to ``WRITABLE_KINDS`` and
providing a fixture named ``<kind>_mount_config`` that returns a fresh
``STORAGE_MOUNTS`` entry (an empty namespace) for one test.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from genro_storage_django import get_storage
from genro_storage_django.backends import memory
from genro_storage_django.storage import MountStorage

pytest_plugins = ["tests.servers", "tests.servers_remote"]

WRITABLE_KINDS = ["local", "memory", "s3", "gcs", "azure"]


@pytest.fixture
def local_mount_config(tmp_path: Path) -> dict[str, Any]:
    root = tmp_path / "mount"
    root.mkdir()
    return {"type": "local", "path": str(root)}


@pytest.fixture
def memory_mount_config() -> dict[str, Any]:
    return {"type": "memory"}


@pytest.fixture(autouse=True, scope="session")
def _ctrl_c_raises() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt, as at a terminal, also where the suite was started
    in the background by a shell, which ignores SIGINT in what it starts (the Ctrl-C
    tests send a real SIGINT)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(autouse=True)
def _empty_memory_mounts() -> Iterator[None]:
    """Every test starts with empty memory mounts: their files outlive a redefinition."""
    yield
    memory.clear()


@pytest.fixture
def unique_prefix() -> str:
    """A prefix no other test uses, for object-store mounts that share a bucket."""
    return f"test-{uuid.uuid4().hex[:12]}"


def mount_storage(mounts: dict[str, dict[str, Any]], name: str) -> Iterator[MountStorage]:
    with override_settings(STORAGE_MOUNTS=mounts):
        yield get_storage(name)


@pytest.fixture(params=WRITABLE_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def mount_config(kind: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(request.getfixturevalue(f"{kind}_mount_config"))


@pytest.fixture
def storage(mount_config: dict[str, Any]) -> Iterator[MountStorage]:
    """A writable storage of each kind, empty at the start of the test."""
    yield from mount_storage({"under_test": mount_config}, "under_test")


@pytest.fixture
def make_storage(mount_config: dict[str, Any]):
    """Build a storage of the same kind with extra options: ``make_storage(permissions=...)``.

    The new mount is called "variant"; "under_test" stays defined beside it.
    """
    stack: list[Any] = []

    def factory(**options: Any) -> MountStorage:
        mounts = {"under_test": mount_config, "variant": {**mount_config, **options}}
        context = override_settings(STORAGE_MOUNTS=mounts)
        context.enable()
        stack.append(context)
        return get_storage("variant")

    yield factory
    for context in reversed(stack):
        context.disable()


def pytest_configure(config: pytest.Config) -> None:
    from tests import liveserver

    liveserver.install()
