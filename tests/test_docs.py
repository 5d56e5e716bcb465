"""The reference pages cannot drift from the code.

The option tables in docs/settings.rst are generated from the schema by
docs/_ext/mount_options.py, which also fails the docs build on an
undocumented key. These tests cover the rest: every mount type has a table,
and every system check id the code can emit is explained in docs/checks.rst.
"""

from __future__ import annotations

import re
from pathlib import Path

from genro_storage_django.backends import BACKENDS

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "genro_storage_django"
DOCS = ROOT / "docs"

# Problem("E001", ...) in conf.py and the backends, id=f"{CHECK_ID_PREFIX}.E011" in checks.py.
ID_IN_CODE = re.compile(r"""(?:Problem\(\s*|CHECK_ID_PREFIX\}\.)["']?([EW]\d{3})\b""")
ID_IN_DOCS = re.compile(r"``genro_storage_django\.([EW]\d{3})``")


def _code_ids() -> set[str]:
    ids: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        ids.update(ID_IN_CODE.findall(path.read_text(encoding="utf-8")))
    return ids


def test_check_ids_are_found_in_the_code() -> None:
    # Guards the regular expression itself: it must see the core checks.
    assert {"E001", "E005", "E009", "E011", "W001"} <= _code_ids()


def test_every_check_id_is_documented() -> None:
    documented = set(ID_IN_DOCS.findall((DOCS / "checks.rst").read_text(encoding="utf-8")))
    assert sorted(_code_ids() - documented) == [], "add these ids to docs/checks.rst"
    assert sorted(documented - _code_ids()) == [], "docs/checks.rst lists ids the code lacks"


def test_every_mount_type_has_an_options_table() -> None:
    text = (DOCS / "settings.rst").read_text(encoding="utf-8")
    tables = set(re.findall(r"^\.\. mount-options:: (\S+)$", text, flags=re.MULTILINE))
    assert tables == {"common", "child", *BACKENDS}
