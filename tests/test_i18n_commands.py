"""System checks and command output in the active language (the admin's are in test_admin_i18n)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.test import override_settings
from django.utils import translation

from genro_storage_django import get_storage
from genro_storage_django.exceptions import InvalidMount
from genro_storage_django.management.commands.storage_du import Command as DiskUsage

TYPO = {"media": {"type": "local", "pth": "/srv"}}


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            "it",
            [
                "Il mount 'media' ha una chiave sconosciuta 'pth'.",
                "Intendevi 'path'?",
                "Al mount 'media' manca la chiave obbligatoria 'path'.",
                "I mount 'local' richiedono 'path'.",
            ],
        ),
        (
            "de",
            [
                "Mount 'media' hat einen unbekannten Schlüssel 'pth'.",
                "Meinten Sie 'path'?",
                "Dem Mount 'media' fehlt der Pflichtschlüssel 'path'.",
            ],
        ),
    ],
)
def test_check_reports_a_bad_mount_in_the_active_language(language, texts):
    with (
        override_settings(STORAGE_MOUNTS=TYPO),
        translation.override(language),
        pytest.raises(SystemCheckError) as error,
    ):
        call_command("check")
    report = str(error.value)
    for text in texts:
        assert text in report, text
    assert "genro_storage_django.E006" in report  # ids stay as they are
    assert "unknown key" not in report


def test_problems_take_the_language_they_are_shown_in():
    # The parsed setting is cached: parsed in English, shown in French.
    setting = {"scratch": {"type": "memory", "file_overwrite": "yes"}}
    with override_settings(STORAGE_MOUNTS=setting):
        with translation.override("en"):
            english = [str(message) for message in run_checks()]
        with translation.override("fr"):
            french = [str(message) for message in run_checks()]
            with pytest.raises(InvalidMount) as error:
                get_storage("scratch").exists("x")
    assert any("'file_overwrite' must be a boolean, not str." in line for line in english)
    assert any("'file_overwrite' doit être un booléen, pas str." in line for line in french)
    assert "Lancez 'manage.py check' pour les détails." in str(error.value)


@pytest.fixture
def docs(tmp_path: Path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("hello")
    (tmp_path / "docs" / "b.txt").write_text("world")
    with override_settings(STORAGE_MOUNTS={"m": {"type": "local", "path": str(tmp_path)}}):
        yield tmp_path


def run(*args: str) -> str:
    stdout = io.StringIO()
    call_command(*args, stdout=stdout, stderr=io.StringIO())
    return stdout.getvalue()


def test_storage_rm_speaks_italian(docs):
    with translation.override("it"):
        would = run("storage_rm", "m:docs", "-r", "--dry-run")
        with pytest.raises(CommandError) as refused:
            run("storage_rm", "m:docs", "-r")  # stdin is no terminal under pytest
        done = run("storage_rm", "m:docs", "-r", "--yes")
    assert would == "Eliminerei 2 file (10 B) da m:docs.\n"
    assert str(refused.value).startswith("Lo standard input non è un terminale")
    assert done == "Eliminati 2 file (10 B) da m:docs.\n"
    assert not (docs / "docs").exists()


def test_storage_du_refuses_and_helps_in_spanish(docs):
    with translation.override("es"):
        with pytest.raises(CommandError) as refused:
            run("storage_du", "m:", "-d", "-1")
        help_text = DiskUsage().create_parser("manage.py", "storage_du").format_help()
        listing = run("storage_du", "m:", "-d", "0")
    assert str(refused.value) == "--max-depth debe ser 0 o más, no -1."
    assert "Muestra los bytes y el número de archivos" in help_text
    assert "Qué medir." in help_text
    assert listing == "10\t2\tm:\n"  # the lines themselves are not translated


def test_check_shows_backend_problems_and_the_missing_extra_in_italian(monkeypatch, tmp_path):
    from genro_storage_django.backends.s3 import S3Backend

    monkeypatch.setattr(S3Backend, "requires", ("genro_no_such_module",))
    setting = {"rel": {"type": "local", "path": "media"}, "up": {"type": "s3", "bucket": "b"}}
    with (
        override_settings(STORAGE_MOUNTS=setting),
        translation.override("it"),
        pytest.raises(SystemCheckError) as error,
    ):
        call_command("check")
    report = str(error.value)
    assert "Mount 'rel': 'path' deve essere assoluto, non 'media'." in report
    assert "Costruiscilo a partire da BASE_DIR" in report
    assert "Il mount 'up' di tipo 's3' richiede il pacchetto 'genro_no_such_module'" in report
    assert 'Installalo con: pip install "genro-storage-django[s3]"' in report
    assert "must be absolute" not in report and "needs the" not in report


def test_bad_sizes_and_durations_are_told_in_german(docs):
    with translation.override("de"), pytest.raises(CommandError) as size:
        run("storage_copy", "m:docs", "m:copy", "--max-size", "10X")
    with translation.override("de"), pytest.raises(CommandError) as age:
        run("storage_copy", "m:docs", "m:copy", "--max-age", "1y")
    assert "'10X' ist keine Größe (zum Beispiel 512, 10K, 10M, 1.5G)." in str(size.value)
    assert "'1y' ist keine Dauer (zum Beispiel 90s, 30m, 24h, 7d, 1d12h)." in str(age.value)
    with pytest.raises(CommandError, match="'10X' is not a size"):
        run("storage_copy", "m:docs", "m:copy", "--max-size", "10X")


def test_storage_copy_refuses_an_overlap_in_italian(docs):
    with translation.override("it"), pytest.raises(CommandError) as refused:
        run("storage_copy", "m:docs", "m:docs/copy")
    assert str(refused.value) == "m:docs e m:docs/copy si sovrappongono: uno è dentro l\u2019altro."
    assert refused.value.returncode == 2
    assert not (docs / "docs" / "copy").exists()


def test_storage_rm_and_storage_ls_refuse_in_french(docs):
    with translation.override("fr"):
        with pytest.raises(CommandError) as folder:
            run("storage_rm", "m:docs", "--yes")
        with pytest.raises(CommandError) as missing:
            run("storage_ls", "m:nowhere")
        with pytest.raises(CommandError) as location:
            run("storage_ls", "m")
    assert str(folder.value) == (
        "m:docs est un dossier : passez -r pour supprimer tout ce qu\u2019il contient."
    )
    assert str(missing.value) == "m:nowhere n\u2019existe pas."
    assert str(location.value) == (
        "'m' n\u2019est pas de la forme MOUNT:PATH (par exemple media:photos/2024)."
    )
    assert (docs / "docs" / "a.txt").exists()


def test_copy_and_check_refusals_in_german(docs):
    with translation.override("de"):
        with pytest.raises(CommandError) as retries:
            run("storage_copy", "m:docs", "m:copy", "--retries", "-1")
        with pytest.raises(CommandError) as delete:
            run("storage_copy", "m:docs/a.txt", "m:copy", "--delete")
        with pytest.raises(CommandError) as check:
            run("storage_check", "m:docs/a.txt", "m:copy")
    assert str(retries.value) == "retries muss 0 oder mehr sein, nicht -1."
    assert str(delete.value) == (
        "--delete braucht einen Ordner als Quelle; m:docs/a.txt ist eine Datei."
    )
    assert str(check.value) == "m:docs/a.txt ist eine Datei: storage_check vergleicht Ordner."
    with pytest.raises(CommandError, match=r"retries must be 0 or more, not -1\."):
        run("storage_copy", "m:docs", "m:copy", "--retries", "-1")


def test_an_azure_mount_without_credentials_is_told_in_spanish():
    setting = {"up": {"type": "azure", "container": "c"}}
    with override_settings(STORAGE_MOUNTS=setting), translation.override("es"):
        problem = next(m for m in run_checks() if m.id == "genro_storage_django.E021")
        message, hint = str(problem.msg), str(problem.hint)
    assert message == "El montaje 'up' necesita 'account_name' o 'connection_string'."
    assert hint.startswith("Define 'account_name' (con 'account_key', 'sas_token' o 'anon')")
