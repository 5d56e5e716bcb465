"""The Storage contract of tests/test_conformance.py and tests/test_contract.py, on the
sftp, ftp and webdav mounts.

Their kinds are not in ``WRITABLE_KINDS``: that list drives many other modules.
Importing the tests here runs them once more, with this module's ``kind``.
"""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from tests import test_contract
from tests.test_conformance import *  # noqa: F403
from tests.test_contract import *  # noqa: F403

REMOTE_KINDS = ["sftp", "ftp", "webdav"]

# The times each kind records, as docs/backends.rst lists them.
test_contract.TIMES.update(
    {"sftp": {"accessed", "modified"}, "ftp": {"modified"}, "webdav": {"created", "modified"}}
)


@pytest.fixture(params=REMOTE_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


def test_modified_time_of_a_directory_is_a_time_or_an_oserror(storage, kind):
    # Replaces the imported test: these servers have real directories, with
    # times of their own, like a local disk (not key prefixes).
    storage.save("folder/inside.txt", ContentFile(b"x"))
    assert storage.get_modified_time("folder").tzinfo is not None
