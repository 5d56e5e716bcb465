"""Fast ``collectstatic`` onto a mount (genro_storage_django.collect): local, memory and S3.

Each scenario runs the same steps with Django's own command onto a
``FileSystemStorage`` (or django-storages' ``S3ManifestStaticStorage``) as the
reference, and compares the files both leave. Requests are counted by the
moto server itself; on a disk, untouched files keep their inode and mtime.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles.finders import FileSystemFinder
from django.contrib.staticfiles.management.commands.collectstatic import (
    Command as DjangoCollectstatic,
)
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.storage import FileSystemStorage, storages
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils.functional import empty

from genro_storage_django import get_storage
from genro_storage_django.storage import MountStorage
from tests.servers import BUCKET

PLAIN = "genro_storage_django.staticfiles.MountStaticStorage"
MANIFEST = "genro_storage_django.staticfiles.MountManifestStaticStorage"
DJANGO_BACKEND = {
    PLAIN: "django.contrib.staticfiles.storage.StaticFilesStorage",
    MANIFEST: "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
}
FILESYSTEM_FINDER = ["django.contrib.staticfiles.finders.FileSystemFinder"]
KINDS = ["local", "memory", "s3"]
BACKENDS = {"plain": PLAIN, "manifest": MANIFEST}
HASHED = re.compile(r"\.[0-9a-f]{12}(\.[^./]+)?$")


def write_sources(root: Path) -> dict[str, bytes]:
    """Write a small static tree: CSS with url() references, images, fonts, JS, a binary."""
    files = {
        "css/app.css": b'body { background: url("../img/logo.png"); }\n'
        b'@font-face { src: url("../fonts/icons.woff2"); }\n',
        "css/theme.css": b'.banner { background: url("../img/banner.png"); }\n',
        "img/logo.png": b"\x89PNG logo " + bytes(range(256)) * 8,
        "img/banner.png": b"\x89PNG banner " + bytes(range(256)) * 40,
        "fonts/icons.woff2": b"wOF2" + os.urandom(5000),
        "js/app.js": b"console.log('app');\n",
        "js/old.js": b"console.log('old');\n",
        "data/blob.bin": os.urandom(300_000),
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    root = tmp_path / "static-src"
    write_sources(root)
    return root


@pytest.fixture(params=KINDS)
def config(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(request.getfixturevalue(f"{request.param}_mount_config"))


@pytest.fixture(params=list(BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    return BACKENDS[request.param]


@contextmanager
def on_mount(
    config: dict[str, Any], sources: Path, backend: str, finders: list[str] = FILESYSTEM_FINDER
) -> Iterator[MountStorage]:
    """Settings with STORAGES["staticfiles"] on the mount "static"; yields its storage."""
    storages_setting = {
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
        "staticfiles": {"BACKEND": backend, "OPTIONS": {"mount": "static"}},
    }
    if config["type"] != "s3":
        # No URL of their own (an S3 mount has its public one).
        config = {**config, "base_url": "/static/"}
    with override_settings(
        STORAGE_MOUNTS={"static": config},
        STORAGES=storages_setting,
        STATICFILES_DIRS=[str(sources)],
        STATICFILES_FINDERS=finders,
        STATIC_URL="/static/",
    ):
        yield get_storage("static")


@contextmanager
def on_disk(
    root: Path, sources: Path, backend: str, finders: list[str] = FILESYSTEM_FINDER
) -> Iterator[None]:
    """The same with Django's own storage in ``root``: the reference."""
    with override_settings(
        STORAGES={"staticfiles": {"BACKEND": DJANGO_BACKEND[backend]}},
        STATIC_ROOT=str(root),
        STATICFILES_DIRS=[str(sources)],
        STATICFILES_FINDERS=finders,
        STATIC_URL="/static/",
    ):
        yield


def collectstatic(*args: str, command: Any = "collectstatic", **options: Any) -> str:
    """Run collectstatic as a new process would (a storage made afresh); return its output."""
    storages._storages = {}
    staticfiles_storage._wrapped = empty
    out = StringIO()
    call_command(command, *args, interactive=False, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def django_collectstatic(*args: str, **options: Any) -> str:
    return collectstatic(*args, command=DjangoCollectstatic(), **options)


def mount_files(storage: MountStorage) -> dict[str, bytes]:
    backend = storage.backend
    return {
        name: backend.read(backend.full_path(name)) for name, _ in backend.find(backend.mount_root)
    }


def disk_files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def assert_same_files(ours: dict[str, bytes], reference: dict[str, bytes]) -> None:
    assert sorted(ours) == sorted(reference)
    for name, data in reference.items():
        if name == "staticfiles.json":
            # Django's JSON carries the same paths and hash, written by the same code.
            assert json.loads(ours[name]) == json.loads(data)
        else:
            assert ours[name] == data, name


def fingerprints(storage: MountStorage) -> dict[str, Any]:
    """What a write changes: inode and mtime on a disk, the stored object in memory."""
    backend = storage.backend
    found = {}
    for name, _ in backend.find(backend.mount_root):
        path = backend.full_path(name)
        if storage.mount.type == "local":
            stat = os.stat(path)
            found[name] = (stat.st_ino, stat.st_mtime_ns)
        else:
            found[name] = id(backend.fs.store[path])
    return found


class Requests:
    """The requests the moto server received during a block, by kind."""

    def __init__(self, log: Any) -> None:
        self.log = log
        self.seen: list[tuple[str, str, str]] = []

    def __enter__(self) -> Requests:
        self.log.clear()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.seen = self.log.snapshot()

    def paths(self, method: str) -> list[str]:
        return [path for seen, path, _ in self.seen if seen == method]

    @property
    def listings(self) -> int:
        return sum(1 for method, path, _ in self.seen if method == "GET" and _is_bucket(path))

    @property
    def object_gets(self) -> int:
        return sum(1 for method, path, _ in self.seen if method == "GET" and not _is_bucket(path))

    def names(self, method: str, prefix: str) -> list[str]:
        """The file names (relative to the mount) that requests of ``method`` touched."""
        start = f"/{BUCKET}/{prefix}/"
        return sorted(path[len(start) :] for path in self.paths(method) if path.startswith(start))


def _is_bucket(path: str) -> bool:
    return path.strip("/") == BUCKET


@contextmanager
def counting(request: pytest.FixtureRequest, config: dict[str, Any]) -> Iterator[Requests | None]:
    if config["type"] != "s3":
        yield None
        return
    with Requests(request.getfixturevalue("s3_server").log) as requests:
        yield requests


def hashed(names: Any, original: str) -> list[str]:
    root, ext = os.path.splitext(original)
    return [
        name for name in names if re.fullmatch(rf"{re.escape(root)}\.[0-9a-f]{{12}}{ext}", name)
    ]


# First run


def test_first_run_leaves_the_files_django_leaves(config, sources, backend, tmp_path):
    with on_mount(config, sources, backend) as storage:
        output = collectstatic(verbosity=1)
        ours = mount_files(storage)
    with on_disk(tmp_path / "reference", sources, backend):
        reference_output = django_collectstatic(verbosity=1)
    assert_same_files(ours, disk_files(tmp_path / "reference"))
    # The summary line is Django's, less the folder it names on a disk.
    reference_summary = re.sub(r" to '[^']*'", "", reference_output.strip().splitlines()[-1])
    assert output.strip().splitlines()[-1] == reference_summary
    if backend == MANIFEST:
        css = ours[hashed(ours, "css/app.css")[0]].decode()
        assert re.search(r'url\("\.\./img/logo\.[0-9a-f]{12}\.png"\)', css), css


def test_first_run_on_s3_uploads_each_file_once_without_asking_first(
    s3_mount_config, sources, backend, request
):
    with on_mount(s3_mount_config, sources, backend) as storage:
        with counting(request, s3_mount_config) as requests:
            collectstatic(verbosity=0)
        files = mount_files(storage)
    assert requests is not None
    assert sorted(requests.names("PUT", s3_mount_config["prefix"])) == sorted(files)
    # The only HEAD: s3fs's look at the empty prefix, once, after the empty listing.
    assert requests.names("HEAD", s3_mount_config["prefix"]) == []
    assert len(requests.paths("HEAD")) <= 1
    assert requests.object_gets == 0


# A rerun with nothing changed


def test_no_change_rerun_writes_nothing(config, sources, backend, request):
    with on_mount(config, sources, backend) as storage:
        collectstatic(verbosity=0)
        before = fingerprints(storage) if config["type"] != "s3" else None
        with counting(request, config) as requests:
            output = collectstatic(verbosity=1)
        files = mount_files(storage)
        after = fingerprints(storage) if config["type"] != "s3" else None
    originals = [name for name in files if not HASHED.search(name) and name != "staticfiles.json"]
    assert f"0 static files copied, {len(originals)} unmodified" in output
    if requests is None:
        assert after == before
        return
    # Listing requests only: no PUT, no HEAD, no object read.
    assert requests.paths("PUT") == []
    assert requests.paths("HEAD") == []
    assert requests.paths("POST") == []
    assert requests.paths("DELETE") == []
    assert requests.object_gets == 0
    assert requests.listings >= 1


def test_manifest_storage_reads_its_manifest_on_first_use_in_one_get(
    s3_mount_config, sources, request
):
    with on_mount(s3_mount_config, sources, MANIFEST):
        collectstatic(verbosity=0)
        hashed_url = staticfiles_storage.url("css/app.css")
        storages._storages = {}
        staticfiles_storage._wrapped = empty
        with counting(request, s3_mount_config) as built:
            storage = storages["staticfiles"]
        with counting(request, s3_mount_config) as used:
            url = storage.url("css/app.css")
    assert re.search(r"css/app\.[0-9a-f]{12}\.css$", hashed_url)
    assert url == hashed_url
    assert built is not None and built.seen == []
    assert used is not None
    assert [method for method, _, _ in used.seen] == ["GET"]
    assert used.names("GET", s3_mount_config["prefix"]) == ["staticfiles.json"]


# One edited file


def test_edited_css_uploads_that_file_only(config, sources, backend, request, tmp_path):
    reference_root = tmp_path / "reference"
    with on_disk(reference_root, sources, backend):
        django_collectstatic(verbosity=0)
    with on_mount(config, sources, backend) as storage:
        collectstatic(verbosity=0)
        before = fingerprints(storage) if config["type"] != "s3" else None
        old = set(mount_files(storage))
        edited = sources / "css" / "theme.css"
        edited.write_bytes(b".banner { color: red; }\n")
        # Django compares whole seconds of mtime: a file edited within the second
        # of its last copy is skipped. Ours compares content and needs no such help.
        later = time.time() + 5
        os.utime(edited, (later, later))
        with counting(request, config) as requests:
            output = collectstatic(verbosity=1)
        files = mount_files(storage)
        after = fingerprints(storage) if config["type"] != "s3" else None
    expected = {"css/theme.css"}
    if backend == MANIFEST:
        new_hashed = set(hashed(files, "css/theme.css")) - old
        assert len(new_hashed) == 1
        expected |= new_hashed | {"staticfiles.json"}
    assert "\n1 static file copied" in output
    if requests is not None:
        assert set(requests.names("PUT", config["prefix"])) == expected
        assert requests.paths("POST") == [] and requests.paths("DELETE") == []
        assert requests.paths("HEAD") == []
    else:
        assert before is not None and after is not None
        changed = {name for name in after if before.get(name) != after[name]}
        assert changed == expected
    with on_disk(reference_root, sources, backend):
        django_collectstatic(verbosity=0)
    # Both keep the old hashed CSS beside the new one (no --clear).
    assert_same_files(files, disk_files(reference_root))


# A deleted source, with --clear


def test_clear_deletes_what_the_sources_no_longer_have(config, sources, backend, tmp_path):
    with on_mount(config, sources, backend) as storage:
        collectstatic(verbosity=0)
        (sources / "js" / "old.js").unlink()
        output = collectstatic("--clear", verbosity=1)
        ours = mount_files(storage)
    assert "Deleting 'js/old.js'" in output
    assert not [name for name in ours if name.startswith("js/old")]
    reference_root = tmp_path / "reference"
    with on_disk(reference_root, sources, backend):
        django_collectstatic("--clear", verbosity=0)
    assert_same_files(ours, disk_files(reference_root))


def test_clear_with_dry_run_deletes_nothing(config, sources):
    with on_mount(config, sources, PLAIN) as storage:
        collectstatic(verbosity=0)
        (sources / "js" / "old.js").unlink()
        output = collectstatic("--clear", "--dry-run", verbosity=1)
        assert "Pretending to delete 'js/old.js'" in output
        assert "js/old.js" in mount_files(storage)


# A crash in the middle of the uploads


class FailingUploadStorage(FileSystemStorage):
    """A finder's storage whose ``banner.png`` cannot be read outside the main thread.

    ``post_process()`` (the main thread) reads it fine; the upload workers
    fail on it, as a disk error in the middle of the run would.
    """

    broken = "img/banner.png"

    def open(self, name: str, mode: str = "rb") -> Any:
        if name == self.broken and threading.current_thread() is not threading.main_thread():
            raise OSError(f"injected read error on {name}")
        return super().open(name, mode)


class FailingUploadFinder(FileSystemFinder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for root, storage in list(self.storages.items()):
            replacement = FailingUploadStorage(location=storage.location)
            replacement.prefix = storage.prefix
            self.storages[root] = replacement


FAILING_FINDER = [f"{__name__}.FailingUploadFinder"]


def assert_manifest_not_ahead(files: dict[str, bytes]) -> None:
    if "staticfiles.json" not in files:
        return
    for name in json.loads(files["staticfiles.json"])["paths"].values():
        assert name in files, f"the manifest names {name!r}, which is missing"


def test_failed_upload_exits_non_zero_and_never_leaves_the_manifest_ahead(config, sources, backend):
    with on_mount(config, sources, backend, FAILING_FINDER) as storage:
        with pytest.raises(CommandError, match="could not be written"):
            collectstatic(verbosity=0)
        files = mount_files(storage)
    assert "img/banner.png" not in files
    assert "staticfiles.json" not in files
    assert files, "the other files were uploaded"
    with on_mount(config, sources, backend) as storage:
        collectstatic(verbosity=0)
        files = mount_files(storage)
    assert "img/banner.png" in files
    assert_manifest_not_ahead(files)
    if backend == MANIFEST:
        assert "staticfiles.json" in files


def test_failed_rerun_keeps_the_previous_manifest_and_its_files(config, sources):
    with on_mount(config, sources, MANIFEST) as storage:
        collectstatic(verbosity=0)
        manifest = mount_files(storage)["staticfiles.json"]
        (sources / "img" / "banner.png").write_bytes(b"\x89PNG a new banner")
    with on_mount(config, sources, MANIFEST, FAILING_FINDER) as storage:
        with pytest.raises(CommandError):
            collectstatic("--clear", verbosity=0)
        files = mount_files(storage)
    assert files["staticfiles.json"] == manifest
    assert_manifest_not_ahead(files)


KILL_SETTINGS = """
from tests.settings import *  # noqa: F403
STORAGE_MOUNTS = {{"static": {config!r}}}
STORAGES = {{
    "default": {{"BACKEND": "django.core.files.storage.InMemoryStorage"}},
    "staticfiles": {{"BACKEND": {backend!r}, "OPTIONS": {{"mount": "static"}}}},
}}
STATICFILES_DIRS = [{sources!r}]
STATICFILES_FINDERS = {finders!r}
"""


def write_many_css(root: Path, rule: str) -> None:
    for index in range(200):
        path = root / f"dir-{index // 50}" / f"file-{index:04d}.css"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f".c{index} {{ {rule} }}\n")


def test_killed_run_never_leaves_the_manifest_ahead(s3_mount_config, s3_server, tmp_path):
    sources = tmp_path / "many"
    write_many_css(sources, "color: red;")
    with on_mount(s3_mount_config, sources, MANIFEST) as storage:
        collectstatic(verbosity=0)
        manifest = mount_files(storage)["staticfiles.json"]
    # Every file changes: the killed run uploads 400 new files, then the manifest.
    write_many_css(sources, "color: blue;")
    settings_dir = tmp_path / "killsettings"
    settings_dir.mkdir()
    (settings_dir / "kill_settings.py").write_text(
        KILL_SETTINGS.format(
            config=s3_mount_config,
            backend=MANIFEST,
            sources=str(sources),
            finders=FILESYSTEM_FINDER,
        )
    )
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kill_settings",
        "PYTHONPATH": os.pathsep.join([str(settings_dir), str(root), str(root / "testproject")]),
    }
    s3_server.log.clear()
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "collectstatic", "--noinput", "--clear", "-v0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(s3_server.log.snapshot()) >= 150:
            break
        time.sleep(0.005)
    process.kill()
    process.wait()
    with on_mount(s3_mount_config, sources, MANIFEST) as storage:
        files = mount_files(storage)
        written = [name for name, data in files.items() if b"blue" in data]
        assert written, "killed once the uploads had begun"
        # Killed before the end: the old manifest, and every old file it names.
        assert files["staticfiles.json"] == manifest
        assert_manifest_not_ahead(files)
        collectstatic("--clear", verbosity=0)
        files = mount_files(storage)
    assert files["staticfiles.json"] != manifest
    assert len(files) == 401
    assert_manifest_not_ahead(files)


# Objects uploaded in parts


def test_multipart_object_is_compared_by_the_md5_in_its_metadata(s3_mount_config, sources, request):
    (sources / "data" / "big.bin").write_bytes(os.urandom(9 * 2**20))
    with on_mount(s3_mount_config, sources, PLAIN) as storage:
        with counting(request, s3_mount_config) as first:
            collectstatic(verbosity=0)
        with counting(request, s3_mount_config) as rerun:
            collectstatic(verbosity=0)
        assert storage.open("data/big.bin").read() == (sources / "data" / "big.bin").read_bytes()
    assert first is not None and rerun is not None
    # Uploaded in parts (its ETag is no MD5), then found unchanged by one HEAD.
    assert first.names("POST", s3_mount_config["prefix"]) != []
    assert rerun.paths("PUT") == [] and rerun.paths("POST") == []
    assert rerun.names("HEAD", s3_mount_config["prefix"]) == ["data/big.bin"]


# Options


@pytest.mark.parametrize("kind", ["memory", "s3"])
def test_link_is_refused_on_a_mount_not_on_disk(kind, sources, request):
    config = request.getfixturevalue(f"{kind}_mount_config")
    with on_mount(config, sources, PLAIN), pytest.raises(CommandError, match="--link"):
        collectstatic("--link", verbosity=0)


def test_link_on_a_local_mount_makes_links(local_mount_config, sources):
    with on_mount(local_mount_config, sources, PLAIN) as storage:
        collectstatic("--link", verbosity=0)
        assert os.path.islink(storage.path("css/app.css"))


def test_dry_run_writes_nothing(config, sources, backend, request):
    with on_mount(config, sources, backend) as storage, counting(request, config) as requests:
        output = collectstatic("--dry-run", verbosity=1)
        assert mount_files(storage) == {}
    assert "Pretending to copy" in output
    if requests is not None:
        assert requests.paths("PUT") == [] and requests.paths("POST") == []


def test_ignore_and_no_post_process(config, sources):
    with on_mount(config, sources, MANIFEST) as storage:
        collectstatic("--ignore", "*.bin", "--no-post-process", verbosity=0)
        files = mount_files(storage)
    assert "data/blob.bin" not in files
    assert "staticfiles.json" not in files
    assert not [name for name in files if HASHED.search(name)]
    assert "css/app.css" in files


def test_app_directories_finder_onto_a_mount_matches_django(memory_mount_config, sources, tmp_path):
    finders = [
        *FILESYSTEM_FINDER,
        "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    ]
    with on_mount(memory_mount_config, sources, MANIFEST, finders) as storage:
        collectstatic(verbosity=0)
        ours = mount_files(storage)
    assert "admin/css/base.css" in ours
    with on_disk(tmp_path / "reference", sources, MANIFEST, finders):
        django_collectstatic(verbosity=0)
    assert_same_files(ours, disk_files(tmp_path / "reference"))


def test_a_storage_that_is_no_mount_gets_djangos_command(sources, tmp_path):
    with on_disk(tmp_path / "root", sources, MANIFEST):
        output = collectstatic(verbosity=1)
    assert "static files copied" in output
    assert (tmp_path / "root" / "staticfiles.json").exists()


def test_same_files_as_django_storages_s3_manifest_storage(s3_mount_config, s3_server, sources):
    ours_config = {**s3_mount_config, "prefix": f"{s3_mount_config['prefix']}/ours"}
    with on_mount(ours_config, sources, MANIFEST) as storage:
        collectstatic(verbosity=0)
        ours = mount_files(storage)
    options = {
        "bucket_name": BUCKET,
        "location": f"{s3_mount_config['prefix']}/theirs",
        "endpoint_url": s3_server.url,
        "access_key": "testing",
        "secret_key": "testing",
    }
    with override_settings(
        STORAGES={
            "staticfiles": {
                "BACKEND": "storages.backends.s3.S3ManifestStaticStorage",
                "OPTIONS": options,
            }
        },
        STATICFILES_DIRS=[str(sources)],
        STATICFILES_FINDERS=FILESYSTEM_FINDER,
    ):
        django_collectstatic(verbosity=0)
    theirs_config = {**s3_mount_config, "prefix": options["location"]}
    with override_settings(STORAGE_MOUNTS={"theirs": theirs_config}):
        theirs = mount_files(get_storage("theirs"))
    assert_same_files(ours, theirs)


@pytest.mark.parametrize("kind", ["gcs", "azure"])
def test_rerun_on_gcs_and_azure_finds_every_file_unchanged(kind, sources, request):
    config = dict(request.getfixturevalue(f"{kind}_mount_config"))
    with on_mount(config, sources, MANIFEST) as storage:
        collectstatic(verbosity=0)
        before = mount_files(storage)
        backend = storage.backend
        # Decided from the listing alone: it gives every file's MD5 (md5Hash on
        # GCS, on Azure the one stored in the metadata at upload).
        listed = {name: backend.checksums(info) for name, info in backend.find(backend.mount_root)}
        assert sorted(listed) == sorted(before)
        assert all(checksums.get("md5") for checksums in listed.values()), listed
        output = collectstatic(verbosity=1)
        assert mount_files(storage) == before
    assert "\n0 static files copied, 8 unmodified" in output


def test_read_only_mount_is_refused_before_anything_is_written(memory_mount_config, sources):
    config = {**memory_mount_config, "permissions": "readonly"}
    with on_mount(config, sources, PLAIN) as storage:
        with pytest.raises(CommandError, match="static"):
            collectstatic(verbosity=0)
        assert mount_files(storage) == {}
