"""What a process pays at start-up for having the app installed.

Every management command and every web worker of a project sets Django up;
reading ``STORAGE_MOUNTS`` there must not import the storage libraries, which
are imported when a mount is first used (fsspec alone takes about 30 ms).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("fsspec", "s3fs", "gcsfs", "adlfs", "aiohttp", "tqdm")

PROBE = """
import json, sys
import django
django.setup()
from django.conf import settings
from genro_storage_django import get_storage
from demo.models import Document  # its FileField resolves a mount at import
loaded_at_setup = [name for name in {heavy!r} if name in sys.modules]
from django.core.files.base import ContentFile
get_storage("scratch").save("probe.txt", ContentFile(b"x"))
print(json.dumps({{"setup": loaded_at_setup, "used": "fsspec" in sys.modules}}))
"""


def run_probe(code: str, cwd: Path, **env: str) -> object:
    """Run ``code`` in a new Python process; return the JSON of its last line."""
    done = subprocess.run(
        [sys.executable, "-c", code.format(heavy=HEAVY)],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_django_setup_with_mounts_imports_no_storage_library(tmp_path):
    found = run_probe(
        PROBE,
        tmp_path,
        DJANGO_SETTINGS_MODULE="testproject.settings",
        DEMO_VAR_DIR=str(tmp_path),
        PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "testproject")]),
    )
    assert isinstance(found, dict)
    assert found["setup"] == []
    # The probe can see an import happen: using the mount loads fsspec.
    assert found["used"] is True


EVERY_TYPE = """
import json, sys
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["genro_storage_django"],
    STORAGE_MOUNTS={{
        "disk": {{"type": "local", "path": "/tmp"}},
        "ram": {{"type": "memory"}},
        "s3": {{"type": "s3", "bucket": "b"}},
        "gcs": {{"type": "gcs", "bucket": "b", "token": "anon"}},
        "azure": {{"type": "azure", "container": "c", "account_name": "a"}},
        "web": {{"type": "http", "base_url": "http://127.0.0.1:9/"}},
    }},
)
import django
django.setup()
from genro_storage_django.conf import get_config
from genro_storage_django import get_storage
config = get_config()
assert not config.problems, config.problems
for name in config.mounts:
    get_storage(name)
print(json.dumps([name for name in {heavy!r} if name in sys.modules]))
"""


def test_every_mount_type_is_read_without_importing_its_library(tmp_path):
    assert run_probe(EVERY_TYPE, tmp_path, PYTHONPATH=str(ROOT)) == []
