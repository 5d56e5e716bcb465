"""The admin browser's catalogues (Italian, French, German, Spanish): complete, compiled, used."""

from __future__ import annotations

import gettext
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from tests.test_admin import mounts, put, url  # noqa: F401 -- the fixture is used by name

pytestmark = pytest.mark.django_db

PACKAGE = Path(__file__).resolve().parent.parent / "genro_storage_django"
LANGUAGES = ["it", "fr", "de", "es"]


@pytest.fixture(autouse=True)
def default_language_after() -> Any:
    """Leave the default language active after each test of this module.

    LocaleMiddleware activates the request's language in the test's thread and
    never deactivates it: the English checks and commands of later tests would
    speak Italian.
    """
    yield
    translation.deactivate()


def po_entries(path: Path) -> dict[tuple[str, str | None], list[str]]:
    """Return ``(msgid, msgid_plural) -> msgstr forms`` of a .po file; fuzzy entries marked."""
    entries = {}
    for block in path.read_text().split("\n\n"):
        fields: dict[str, str] = {}
        current = None
        for line in block.splitlines():
            match = re.match(r'(msgid_plural|msgid|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if not fields.get("msgid"):
            continue  # the header
        forms = [value for key, value in sorted(fields.items()) if key.startswith("msgstr")]
        if "#, fuzzy" in block:
            forms = ["<fuzzy>"]
        unescape = lambda text: text.replace('\\"', '"').replace("\\n", "\n")  # noqa: E731
        key = (unescape(fields["msgid"]), unescape(fields.get("msgid_plural", "")) or None)
        entries[key] = [unescape(form) for form in forms]
    return entries


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_catalogue_is_complete_and_compiled(language: str) -> None:
    folder = PACKAGE / "locale" / language / "LC_MESSAGES"
    entries = po_entries(folder / "django.po")
    assert len(entries) > 100
    untranslated = [key for key, forms in entries.items() if not all(forms) or "<fuzzy>" in forms]
    assert untranslated == []
    with open(folder / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for (msgid, plural), forms in entries.items():
        if plural is None:
            assert compiled.gettext(msgid) == forms[0], msgid
        else:
            assert compiled.ngettext(msgid, plural, 1) == forms[0], msgid
            assert compiled.ngettext(msgid, plural, 5) == forms[-1], msgid


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="makemessages needs GNU gettext")
def test_makemessages_finds_no_new_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "genro_storage_django"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=LANGUAGES, no_obsolete=True, verbosity=0)
    for language in LANGUAGES:
        before = po_entries(PACKAGE / "locale" / language / "LC_MESSAGES" / "django.po")
        after = po_entries(copy / "locale" / language / "LC_MESSAGES" / "django.po")
        assert after == before, language


def test_the_browser_in_italian(admin_client: Client, mounts: Any) -> None:  # noqa: F811
    put("files", "docs/a.txt")
    put("files", "b.txt")
    italian = {"HTTP_ACCEPT_LANGUAGE": "it"}
    page = admin_client.get(url("browse", "files"), **italian)
    html = page.content.decode()
    for text in (
        "Scarica come ZIP",
        "Seleziona tutto in questa pagina",
        "Cerca in tutte le sottocartelle",
        "Dimensione",
        "Griglia",
        "Crea cartella",
        "2 elementi",
    ):
        assert text in html, text
    assert "Download as ZIP" not in html
    confirm = admin_client.post(
        url("bulk", "files"), {"action": "delete", "names": ["docs", "b.txt"]}, **italian
    )
    assert "Vuoi davvero eliminare questi 2 elementi?" in confirm.content.decode()
    done = admin_client.post(
        url("bulk", "files"),
        {"action": "delete", "names": ["docs", "b.txt"], "confirm": "1"},
        follow=True,
        **italian,
    )
    assert "Eliminati 2 elementi." in done.content.decode()
    mounts_page = admin_client.get("/admin/genro_storage_django/storagemount/", **italian)
    assert "leggere, scrivere ed eliminare" in mounts_page.content.decode()


def test_select_all_matching_in_french(admin_client: Client, mounts: Any) -> None:  # noqa: F811
    for index in range(101):
        put("files", f"many/{index:03}.txt")
    french = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    html = admin_client.get(url("browse", "files", "many"), **french).content.decode()
    assert "Sélectionner les 101 éléments" in html and "Effacer la sélection" in html
    page = admin_client.post(
        url("bulk", "files", "many"), {"action": "delete", "select_across": "1"}, **french
    )
    assert "…et 1 élément de plus." in page.content.decode()
