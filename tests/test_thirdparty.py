"""Real third-party apps on real mounts: local, memory and s3 (moto on 127.0.0.1).

Nothing here is mocked. The models of ``tests/thirdparty`` keep their files on the
"thirdparty" mount through ``get_storage()``; each test redefines that mount with
``override_settings``. What runs for real:

* Django's ``ImageField`` (width and height fields, ``get_image_dimensions``) with Pillow;
* ``FieldFile`` opened, closed and opened again;
* sorl-thumbnail, with its thumbnails in the default storage or in a mount named by
  its class path, and its key-value store rebuilding the storage from that path;
* easy-thumbnails, with its ``Source`` and ``Thumbnail`` rows;
* django-cleanup, deleting files after the transaction commits;
* pickle and ``copy.deepcopy`` of instances and storages, and storages built from
  their dotted path, as sorl-thumbnail and django-cleanup build them.

Results are checked by reading back through the mounts: bytes, image sizes read
with Pillow, files that exist or not.
"""

from __future__ import annotations

import copy
import io
import json
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.images import get_image_dimensions
from django.test import override_settings
from django.utils.functional import empty
from django.utils.module_loading import import_string
from easy_thumbnails.files import get_thumbnailer
from easy_thumbnails.models import Source
from easy_thumbnails.utils import get_storage_hash
from PIL import Image
from sorl.thumbnail import default as sorl_default
from sorl.thumbnail import get_thumbnail
from sorl.thumbnail.images import get_or_create_storage
from sorl.thumbnail.models import KVStore

from genro_storage_django import get_storage
from genro_storage_django.storage import MountStorage
from tests.thirdparty.models import Document, Photo

pytestmark = pytest.mark.django_db

KINDS = ["local", "memory", "s3"]
SOURCE_SIZE = (120, 80)
THUMBS_CLASS_PATH = "genro_storage_django.storage.ThumbsMountStorage"


# Helpers


def kind_config(request: pytest.FixtureRequest, kind: str) -> dict[str, Any]:
    """A fresh, empty mount of ``kind`` (the ``<kind>_mount_config`` fixtures)."""
    return dict(request.getfixturevalue(f"{kind}_mount_config"))


def other_namespace(config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """A mount of the same kind as ``config`` that shares no file with it."""
    if config["type"] == "local":
        root = tmp_path / "thumbs"
        root.mkdir()
        return {**config, "path": str(root)}
    if config["type"] == "s3":
        return {**config, "prefix": f"{config['prefix']}-thumbs"}
    return dict(config)  # Each memory mount has its own namespace.


def png(size: tuple[int, int] = SOURCE_SIZE, name: str = "picture.png") -> ContentFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name=name)


def stored_image_size(storage: MountStorage, name: str) -> tuple[int, int]:
    """The size of image ``name``, read from ``storage`` by Pillow."""
    with storage.open(name) as file, Image.open(file) as image:
        return image.size


def saved_photo() -> Photo:
    photo = Photo()
    photo.image.save("picture.png", png(), save=True)
    return Photo.objects.get(pk=photo.pk)


def saved_document(content: bytes = b"kept on the mount", name: str = "report.txt") -> Document:
    document = Document.objects.create(file=ContentFile(content, name=name))
    return Document.objects.get(pk=document.pk)


def kvstore_storages() -> set[str]:
    """The storages sorl-thumbnail's key-value store recorded for its image files."""
    values = (json.loads(value) for value in KVStore.objects.values_list("value", flat=True))
    return {value["storage"] for value in values if isinstance(value, dict)}


def pickle_round_trip(value: Any) -> Any:
    return pickle.loads(pickle.dumps(value))


def reset_sorl() -> None:
    """Forget the storages sorl-thumbnail built: it does not follow setting changes."""
    sorl_default.storage._wrapped = empty
    get_or_create_storage.cache_clear()


@contextmanager
def sorl_settings(**overrides: Any) -> Iterator[None]:
    with override_settings(**overrides):
        reset_sorl()
        try:
            yield
        finally:
            reset_sorl()


# Fixtures


@pytest.fixture(autouse=True)
def _fresh_thumbnail_caches() -> Iterator[None]:
    """sorl-thumbnail's key-value store keeps entries in Django's cache across tests."""
    cache.clear()
    reset_sorl()
    yield
    cache.clear()
    reset_sorl()


@pytest.fixture(params=KINDS)
def thirdparty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MountStorage]:
    """The "thirdparty" mount, empty, of each kind; "thumbs" beside it, of the same kind."""
    config = kind_config(request, request.param)
    mounts = {
        **settings.STORAGE_MOUNTS,
        "thirdparty": config,
        "thumbs": other_namespace(config, tmp_path),
    }
    with override_settings(STORAGE_MOUNTS=mounts):
        yield get_storage("thirdparty")


# Django's ImageField and FieldFile


def test_image_field_stores_dimensions_read_from_the_mount(thirdparty):
    photo = saved_photo()

    assert photo.image.name.startswith("photos/")
    assert thirdparty.open(photo.image.name).read() == png().read()
    assert (photo.width, photo.height) == SOURCE_SIZE
    # A fresh instance reads the image itself from the mount.
    assert (photo.image.width, photo.image.height) == SOURCE_SIZE
    with photo.image.open() as file, Image.open(file) as image:
        assert image.size == SOURCE_SIZE
    assert get_image_dimensions(Photo.objects.get(pk=photo.pk).image) == SOURCE_SIZE


def test_field_file_reopens_from_the_mount_not_the_working_directory(
    thirdparty, tmp_path, monkeypatch
):
    document = saved_document(b"kept on the mount")
    decoy = tmp_path / "cwd" / document.file.name
    decoy.parent.mkdir(parents=True)
    decoy.write_bytes(b"a decoy in the working directory")
    monkeypatch.chdir(tmp_path / "cwd")

    file = document.file
    file.open()
    first = file.read()
    file.close()
    file.open()
    second = file.read()
    file.close()

    assert first == second == b"kept on the mount"


@pytest.mark.parametrize(
    ("first", "second"), [("local", "memory"), ("memory", "s3"), ("s3", "local")]
)
def test_override_settings_switches_the_mount_of_a_field(request, first, second):
    with override_settings(STORAGE_MOUNTS={"thirdparty": kind_config(request, first)}):
        outer = saved_document(b"on the first mount", name="same.txt")
        with override_settings(STORAGE_MOUNTS={"thirdparty": kind_config(request, second)}):
            inner = saved_document(b"on the second mount", name="same.txt")
            # The name was free on the new mount: the file went there.
            assert inner.file.name == outer.file.name
            assert get_storage("thirdparty").open(inner.file.name).read() == b"on the second mount"
            assert Document.objects.get(pk=outer.pk).file.read() == b"on the second mount"
        assert get_storage("thirdparty").open(outer.file.name).read() == b"on the first mount"
        assert Document.objects.get(pk=outer.pk).file.read() == b"on the first mount"


# sorl-thumbnail


def test_sorl_thumbnail_in_the_default_storage(thirdparty):
    default_is_the_mount = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "genro_storage_django.storage.MountStorage",
            "OPTIONS": {"mount": "thirdparty"},
        },
    }
    with sorl_settings(STORAGES=default_is_the_mount):
        photo = saved_photo()
        thumbnail = get_thumbnail(photo.image, "50x50")

        assert thirdparty.exists(thumbnail.name)
        assert stored_image_size(thirdparty, thumbnail.name) == (50, 33)
        assert tuple(thumbnail.size) == (50, 33)

        assert kvstore_storages() == {"genro_storage_django.storage.ThirdpartyMountStorage"}
        entries = KVStore.objects.count()
        again = get_thumbnail(Photo.objects.get(pk=photo.pk).image, "50x50")
        # From the key-value store: its storage was rebuilt from its dotted path.
        assert KVStore.objects.count() == entries
        assert again.name == thumbnail.name
        assert again.storage is not sorl_default.storage
        assert again.storage == thirdparty
        assert stored_image_size(again.storage, again.name) == (50, 33)


def test_sorl_thumbnail_storage_named_by_a_mount_class_path(thirdparty):
    thumbs = get_storage("thumbs")
    with sorl_settings(THUMBNAIL_STORAGE=THUMBS_CLASS_PATH):
        photo = saved_photo()
        thumbnail = get_thumbnail(photo.image, "50x50")

        assert thumbs.exists(thumbnail.name)
        assert not thirdparty.exists(thumbnail.name)
        assert stored_image_size(thumbs, thumbnail.name) == (50, 33)
        assert THUMBS_CLASS_PATH in kvstore_storages()

        again = get_thumbnail(Photo.objects.get(pk=photo.pk).image, "50x50")
        assert again.name == thumbnail.name
        assert again.storage is not sorl_default.storage
        assert type(again.storage) is import_string(THUMBS_CLASS_PATH)
        assert again.storage == thumbs
        assert stored_image_size(again.storage, again.name) == (50, 33)


# easy-thumbnails (its thumbnails go to STORAGES["easy_thumbnails"]: the same mount)


def test_easy_thumbnails_saves_the_thumbnail_and_records_it(thirdparty):
    photo = saved_photo()
    thumbnail = get_thumbnailer(photo.image).get_thumbnail({"size": (40, 40)})

    assert thirdparty.exists(thumbnail.name)
    assert stored_image_size(thirdparty, thumbnail.name) == (40, 27)
    source = Source.objects.get(name=photo.image.name, storage_hash=get_storage_hash(thirdparty))
    assert list(source.thumbnails.values_list("name", flat=True)) == [thumbnail.name]

    again = get_thumbnailer(Photo.objects.get(pk=photo.pk).image).get_thumbnail({"size": (40, 40)})
    assert again.name == thumbnail.name
    assert source.thumbnails.count() == 1


# django-cleanup


def test_cleanup_deletes_the_file_of_a_deleted_instance(
    thirdparty, django_capture_on_commit_callbacks
):
    document = saved_document()
    name = document.file.name
    assert thirdparty.exists(name)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        document.delete()

    assert callbacks
    assert not thirdparty.exists(name)


def test_cleanup_deletes_the_replaced_file(thirdparty, django_capture_on_commit_callbacks):
    document = saved_document(b"old", name="old.txt")
    old_name = document.file.name

    document.file = ContentFile(b"new", name="new.txt")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        document.save()

    assert callbacks
    assert not thirdparty.exists(old_name)
    assert thirdparty.open(Document.objects.get(pk=document.pk).file.name).read() == b"new"


def test_cleanup_deletes_the_file_of_an_unpickled_instance(
    thirdparty, django_capture_on_commit_callbacks
):
    document = pickle_round_trip(saved_document())
    name = document.file.name

    with django_capture_on_commit_callbacks(execute=True):
        document.delete()

    assert not thirdparty.exists(name)


# pickle, deepcopy, dotted paths


def test_pickled_instance_reads_its_file(thirdparty):
    document = saved_document(b"pickled with its instance")

    restored = pickle_round_trip(document)

    assert restored.file.storage == thirdparty
    with restored.file.open() as file:
        assert file.read() == b"pickled with its instance"


@pytest.mark.parametrize(
    "duplicate", [pickle_round_trip, copy.deepcopy], ids=["pickle", "deepcopy"]
)
def test_duplicated_storage_reads_the_same_file(thirdparty, duplicate):
    name = thirdparty.save("copied.txt", ContentFile(b"one file"))
    thirdparty.exists(name)  # The mount and its backend are resolved before copying.

    twin = duplicate(thirdparty)

    assert twin is not thirdparty
    assert twin == thirdparty
    assert type(twin) is type(thirdparty)
    assert twin.open(name).read() == b"one file"


def test_storage_built_from_its_class_path_is_the_same_mount(thirdparty):
    name = thirdparty.save("built.txt", ContentFile(b"by dotted path"))
    field_storage = Document._meta.get_field("file").storage
    storage_class = type(thirdparty)

    assert type(field_storage) is storage_class
    built = import_string(f"{storage_class.__module__}.{storage_class.__qualname__}")()

    assert built == thirdparty
    assert built.open(name).read() == b"by dotted path"
