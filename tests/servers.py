"""Session fixtures that start real local servers for the cloud backends.

Filled in by the cloud backends work; until then the cloud kinds are skipped.
"""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def s3_mount_config() -> dict[str, Any]:
    pytest.skip("s3 backend not available yet")


@pytest.fixture
def gcs_mount_config() -> dict[str, Any]:
    pytest.skip("gcs backend not available yet")


@pytest.fixture
def azure_mount_config() -> dict[str, Any]:
    pytest.skip("azure backend not available yet")
