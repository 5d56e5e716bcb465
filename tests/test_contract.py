"""The calls of Django code that once failed on mounts, each on every writable mount kind.

One test per item of the "Django's storage contract, exactly" issue, so that
a regression names the item: text content, reopening, importable per-mount
classes, memory mounts across ``override_settings``, file times, ``listdir()``
of a file, static files with a manifest, and the Content-Type of ``.gz`` files.
"""

from __future__ import annotations

import copy
import io
import pickle
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.checks import run_checks
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils.module_loading import import_string

from genro_storage_django import get_storage
from genro_storage_django.storage import MountStorage
from tests.test_backends_cloud import gcs_service_account  # noqa: F401 (a fixture)
from tests.test_differential import field_file, read

# 1. Text content


def test_str_content_is_saved_as_utf8(storage):
    name = storage.save("a.txt", ContentFile("some text ☃"))
    assert read(storage, name) == "some text ☃".encode()
    assert storage.size(name) == len("some text ☃".encode())


def test_stringio_and_text_mode_files_are_saved(storage, tmp_path):
    assert read(storage, storage.save("s.txt", io.StringIO("from StringIO"))) == b"from StringIO"
    source = tmp_path / "text.txt"
    source.write_text("text mode ☃", encoding="utf-8")
    with open(source, encoding="utf-8") as handle:
        name = storage.save("t.txt", File(handle))
    assert read(storage, name) == "text mode ☃".encode()


def test_fieldfile_save_of_str_content(storage):
    file = field_file(storage)
    file.save("note.txt", ContentFile("field text"), save=False)
    assert read(storage, file.name) == b"field text"


# 2. Reopening


@pytest.mark.parametrize("mode", ["rb", "r"])
def test_closed_file_reopens_from_its_mount_not_the_working_directory(
    storage, tmp_path, monkeypatch, mode
):
    name = storage.save("docs/same-name.txt", ContentFile(b"from the mount"))
    decoy = tmp_path / "cwd"
    (decoy / "docs").mkdir(parents=True)
    (decoy / name).write_bytes(b"from the working directory")
    monkeypatch.chdir(decoy)
    file = field_file(storage, name=name)
    file.open(mode)
    first = file.read()
    file.close()
    file.open(mode)
    second = file.read()
    file.close()
    expected = b"from the mount" if mode == "rb" else "from the mount"
    assert (first, second) == (expected, expected)


def test_reopen_sees_a_new_version(storage, make_storage):
    overwriting = make_storage(file_overwrite=True)
    overwriting.save("v.txt", ContentFile(b"version 1"))
    handle = overwriting.open("v.txt")
    handle.close()
    overwriting.save("v.txt", ContentFile(b"version two"))
    with handle.open():
        assert (handle.read(), handle.size) == (b"version two", 11)


# 3. Per-mount classes: pickle, deepcopy, dotted paths


def test_storage_pickles_deepcopies_and_rebuilds_from_its_class_path(storage):
    storage.save("kept.txt", ContentFile(b"kept"))
    path = f"{type(storage).__module__}.{type(storage).__qualname__}"
    assert path == "genro_storage_django.storage.UnderTestMountStorage"
    rebuilt = [pickle.loads(pickle.dumps(storage)), copy.deepcopy(storage), import_string(path)()]
    for other in rebuilt:
        assert other == storage
        assert type(other) is type(storage)
        assert read(other, "kept.txt") == b"kept"


def test_mountstorage_with_a_mount_is_the_mounts_class(storage):
    built = MountStorage(mount="under_test")
    assert type(built) is type(storage)
    assert pickle.loads(pickle.dumps(built)) == storage


def test_unpickled_storage_follows_later_settings(storage, kind, tmp_path):
    data = pickle.dumps(storage)
    other = {"type": "local", "path": str(tmp_path)} if kind == "memory" else {"type": "memory"}
    with override_settings(STORAGE_MOUNTS={"under_test": other}):
        assert pickle.loads(data).mount.type == other["type"]


def test_class_name_collisions_are_a_check_error():
    mounts = {"my-media": {"type": "memory"}, "my_media": {"type": "memory"}}
    with override_settings(STORAGE_MOUNTS=mounts):
        errors = [m for m in run_checks(tags=["storage_mounts"]) if m.id.endswith("E022")]
    assert len(errors) == 1
    assert "'my-media'" in errors[0].msg and "MyMediaMountStorage" in errors[0].msg


# 4. Memory mounts live as long as the process


def test_memory_files_survive_override_settings():
    mounts = {"ram": {"type": "memory"}}
    with override_settings(STORAGE_MOUNTS=mounts):
        get_storage("ram").save("kept.txt", ContentFile(b"kept"))
        with override_settings(STORAGE_MOUNTS={**mounts, "other": {"type": "memory"}}):
            assert read(get_storage("ram"), "kept.txt") == b"kept"
            assert not get_storage("other").exists("kept.txt")
        assert read(get_storage("ram"), "kept.txt") == b"kept"
        copied = copy.deepcopy(get_storage("ram"))
        assert read(copied, "kept.txt") == b"kept"
        assert read(pickle.loads(pickle.dumps(get_storage("ram"))), "kept.txt") == b"kept"


# 5. Times: what each kind records (the rest raise NotImplementedError)

TIMES = {
    "local": {"created", "accessed", "modified"},
    "memory": {"created", "accessed", "modified"},
    "s3": {"modified"},
    "gcs": {"created", "modified"},
    "azure": {"created", "modified"},
}


def test_each_kind_gives_its_documented_times(storage, kind):
    name = storage.save("t.txt", ContentFile(b"t"))
    given = set()
    for time in ("created", "accessed", "modified"):
        try:
            value = getattr(storage, f"get_{time}_time")(name)
        except NotImplementedError:
            continue
        assert value.tzinfo is not None
        given.add(time)
    assert given == TIMES[kind]
    text = (Path(__file__).parent.parent / "docs" / "backends.rst").read_text(encoding="utf-8")
    assert re.search(rf"``{kind}``.*{', '.join(sorted(TIMES[kind]))}", text), "docs/backends.rst"


# 6. listdir() of a file


def test_listdir_of_a_file_raises_not_a_directory(storage):
    storage.save("dir/file.txt", ContentFile(b"x"))
    with pytest.raises(NotADirectoryError):
        storage.listdir("dir/file.txt")
    assert storage.listdir("dir") == ([], ["file.txt"])


# 7. Static files on a mount, with a manifest


@pytest.fixture
def static_sources(tmp_path: Path) -> Path:
    root = tmp_path / "static-src"
    (root / "css").mkdir(parents=True)
    (root / "img").mkdir()
    (root / "img" / "logo.png").write_bytes(b"\x89PNG not really")
    (root / "css" / "app.css").write_text('body { background: url("../img/logo.png"); }\n')
    return root


@contextmanager
def static_mount(config: dict[str, Any], sources: Path, backend: str, **options: Any) -> Any:
    """Settings with STORAGES["staticfiles"] on the mount "static"; yields its storage."""
    storages = {
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
        "staticfiles": {"BACKEND": backend, "OPTIONS": {"mount": "static"}},
    }
    with override_settings(
        STORAGE_MOUNTS={"static": {**config, **options}},
        STORAGES=storages,
        STATICFILES_DIRS=[sources],
    ):
        yield get_storage("static")


def collectstatic() -> str:
    """Run collectstatic; return the URL of css/app.css."""
    call_command("collectstatic", interactive=False, verbosity=0)
    return staticfiles_storage.url("css/app.css")


MANIFEST = "genro_storage_django.staticfiles.MountManifestStaticStorage"


def test_manifest_static_files_on_every_kind(mount_config, static_sources):
    with static_mount(mount_config, static_sources, MANIFEST, base_url="/static/") as storage:
        hashed = collectstatic().removeprefix("/static/")
        assert re.fullmatch(r"css/app\.[0-9a-f]{12}\.css", hashed)
        css = read(storage, hashed).decode()
        assert re.search(r'url\("\.\./img/logo\.[0-9a-f]{12}\.png"\)', css), css
        assert storage.exists("staticfiles.json")


def test_plain_static_files_on_every_kind(mount_config, static_sources):
    backend = "genro_storage_django.staticfiles.MountStaticStorage"
    with static_mount(mount_config, static_sources, backend, base_url="/static/") as storage:
        assert collectstatic() == "/static/css/app.css"
        assert read(storage, "img/logo.png") == b"\x89PNG not really"
        # A second run replaces the files in place: no renamed copies.
        collectstatic()
        assert storage.listdir("css") == ([], ["app.css"])


def test_manifest_on_a_signing_mount_has_no_signatures(s3_mount_config, static_sources):
    with static_mount(s3_mount_config, static_sources, MANIFEST) as storage:
        url = collectstatic()
        assert "?" not in url and "X-Amz" not in url
        hashed = re.search(r"css/app\.[0-9a-f]{12}\.css$", url)
        assert hashed, url
        css = read(storage, hashed.group()).decode()
        assert "X-Amz" not in css and "aws4_request" not in css, css
        # Unsigned URLs do not change between runs, so neither do the hashes.
        assert collectstatic() == url
        # The mount itself still signs the URLs of other callers.
        assert "X-Amz-Signature" in MountStorage(mount="static").url("img/logo.png")


@pytest.fixture(params=["s3", "gcs", "azure"])
def signing_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    """An object-store mount whose credentials sign URLs (GCS: a service-account key)."""
    config = dict(request.getfixturevalue(f"{request.param}_mount_config"))
    if request.param == "gcs":
        config["token"] = str(request.getfixturevalue("gcs_service_account"))
    return config


def test_signing_mount_as_plain_staticfiles_storage_is_warned(signing_config):
    def warnings(backend: str, **options: Any) -> list[str]:
        storages = {"staticfiles": {"BACKEND": backend, "OPTIONS": {"mount": "static"}}}
        mounts = {"static": {**signing_config, **options}}
        with override_settings(STORAGE_MOUNTS=mounts, STORAGES=storages):
            return [m.id for m in run_checks(tags=["storage_mounts"])]

    plain = "genro_storage_django.storage.MountStorage"
    assert "genro_storage_django.W003" in warnings(plain)
    assert "genro_storage_django.W003" not in warnings(MANIFEST)
    assert "genro_storage_django.W003" not in warnings(plain, querystring_auth=False)
    assert "genro_storage_django.W003" not in warnings(plain, custom_domain="cdn.test")
    # The judgement matches what url() does: a signed URL exactly when warned.
    with override_settings(STORAGE_MOUNTS={"static": signing_config}):
        url = get_storage("static").url("css/app.css")
    assert re.search(r"(Signature|sig)=", url), url


def test_unsigned_gcs_staticfiles_mount_is_not_warned(gcs_mount_config):
    plain = {"BACKEND": "genro_storage_django.storage.MountStorage", "OPTIONS": {"mount": "static"}}
    storages = {"staticfiles": plain}
    with override_settings(STORAGE_MOUNTS={"static": gcs_mount_config}, STORAGES=storages):
        ids = [m.id for m in run_checks(tags=["storage_mounts"])]
        assert "genro_storage_django.W003" not in ids
        assert "Signature" not in get_storage("static").url("css/app.css")


# 8. One Content-Type for a compressed file, stored and served


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("app.css.gz", "application/gzip"),
        ("app.css", "text/css"),
        ("a.tar.bz2", "application/x-bzip"),
    ],
)
def test_stored_and_served_content_types_agree(kind, make_storage, client, name, expected):
    storage = make_storage(serve=True)
    storage.save(name, ContentFile(b"bytes"))
    response = client.get(reverse("genro_storage_django:serve", args=["variant", name]))
    assert response["Content-Type"] == expected
    assert not response.has_header("Content-Encoding")
    if kind in ("s3", "gcs", "azure"):
        info = storage.backend.info(storage._path(name))
        stored = (
            info.get("ContentType")
            or info.get("contentType")
            or (info.get("content_settings") or {}).get("content_type")
        )
        encoding = info.get("ContentEncoding") or info.get("contentEncoding")
        assert (stored, encoding) == (expected, None)


# Found on the way: errors outside the contract


def test_modified_time_of_a_directory_is_a_time_or_an_oserror(storage, kind):
    storage.save("folder/inside.txt", ContentFile(b"x"))
    if kind == "local":
        assert storage.get_modified_time("folder").tzinfo is not None
        return
    # A key prefix has no time: an OSError, never adlfs' KeyError('last_modified').
    with pytest.raises(OSError):
        storage.get_modified_time("folder")


def test_malformed_last_modified_header_means_no_time():
    from genro_storage_django.backends.http import HTTPBackend

    assert HTTPBackend.modified_from_info(None, {"Last-Modified": "not a date"}) is None  # type: ignore[arg-type]
    stamp = HTTPBackend.modified_from_info(None, {"Last-Modified": "Wed, 02 Dec 2026 06:00:00 GMT"})  # type: ignore[arg-type]
    assert stamp is not None and stamp.isoformat() == "2026-12-02T06:00:00+00:00"


def test_memory_clear_empties_mounts_in_use():
    from genro_storage_django.backends import memory

    with override_settings(STORAGE_MOUNTS={"ram": {"type": "memory"}, "kept": {"type": "memory"}}):
        ram, kept = get_storage("ram"), get_storage("kept")
        ram.save("dir/a.txt", ContentFile(b"a"))
        ram.makedirs("empty")
        kept.save("b.txt", ContentFile(b"b"))
        memory.clear("ram")
        assert ram.listdir("") == ([], []) and not ram.exists("dir/a.txt")
        assert MountStorage(mount="ram").listdir("") == ([], [])
        assert read(kept, "b.txt") == b"b"
        ram.save("dir/a.txt", ContentFile(b"again"))
        assert read(ram, "dir/a.txt") == b"again"
