"""Real third-party apps and Django's model fields on real mounts, of all five kinds.

Nothing here is mocked. The models of ``tests/thirdparty`` keep their files on the
"thirdparty" mount through ``get_storage()``; each test redefines that mount with
``override_settings``, as a mount of each kind: local, memory, s3 (moto), gcs
(fake-gcs-server or gcp-storage-emulator) and azure (Azurite), the servers on
127.0.0.1. What runs for real:

* Django's ``ImageField`` (width and height fields, ``get_image_dimensions``) with Pillow,
  on a model with one image field and on a model with two;
* Django's ``FileField`` and ``FieldFile``: assignment, ``save()``, ``delete()``,
  defaults, callable storages, equality and hashing, pickling (also through
  Django's cache), and the ``STORAGES`` handler;
* sorl-thumbnail, with its thumbnails in the default storage or in a mount named by
  its class path, and its key-value store rebuilding the storage from that path;
* easy-thumbnails, with its ``Source`` and ``Thumbnail`` rows;
* django-cleanup, deleting files after the transaction commits;
* pickle and ``copy.deepcopy`` of instances and storages, and storages built from
  their dotted path, as sorl-thumbnail and django-cleanup build them.

Results are checked by reading back through the mounts: bytes, image sizes read
with Pillow, files that exist or not, and which files were opened on the mount.
The tests written for one of Django's own test cases name it in their docstring.
"""

from __future__ import annotations

import copy
import io
import json
import pickle
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile, File
from django.core.files.images import get_image_dimensions
from django.core.files.storage import Storage, default_storage, storages
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.test import Client, override_settings
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
from genro_storage_django.storage import MountStorage, storage_class
from tests.thirdparty.models import (
    Document,
    Dossier,
    KeptDocument,
    Letterhead,
    Photo,
    Portrait,
    thirdparty_storage,
)

pytestmark = pytest.mark.django_db

KINDS = ["local", "memory", "s3", "gcs", "azure"]
SOURCE_SIZE = (120, 80)
OTHER_SIZE = (30, 60)
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
    if "prefix" in config:  # s3, gcs, azure: one bucket or container, another prefix.
        return {**config, "prefix": f"{config['prefix']}-thumbs"}
    return dict(config)  # Each memory mount has its own namespace.


def png(size: tuple[int, int] = SOURCE_SIZE, name: str = "picture.png") -> ContentFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name=name)


def png_bytes(size: tuple[int, int] = SOURCE_SIZE) -> bytes:
    return png(size).read()


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


def files_in(storage: MountStorage, folder: str) -> list[str]:
    return sorted(storage.listdir(folder)[1])


def dimensions(instance: Any, field: str) -> tuple[Any, Any]:
    """The values of the width and height fields that belong to image field ``field``."""
    model_field = instance._meta.get_field(field)
    return getattr(instance, model_field.width_field), getattr(instance, model_field.height_field)


def stable_url(file: FieldFile) -> str:
    """The URL of ``file``, less the query string of a signed URL (it holds the signing time)."""
    url = file.url
    return url.split("?", 1)[0] if file.storage.signs_urls() else url


def fetch(url: str) -> bytes:
    """The bytes served at ``url``: by the app's view for a relative URL, else by the store."""
    if url.startswith("/"):
        response = Client().get(url)
        assert response.status_code == 200, url
        return b"".join(response.streaming_content)
    with urllib.request.urlopen(url, timeout=10) as response:  # a server on 127.0.0.1
        return response.read()


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
    """The "thirdparty" mount, empty, of each kind; "thumbs" beside it, of the same kind.

    The mount is served by the app's view, so that local and memory mounts have URLs
    too; object stores keep giving their own.
    """
    config = {**kind_config(request, request.param), "serve": True}
    mounts = {
        **settings.STORAGE_MOUNTS,
        "thirdparty": config,
        "thumbs": other_namespace(config, tmp_path),
    }
    with override_settings(STORAGE_MOUNTS=mounts):
        yield get_storage("thirdparty")


@pytest.fixture
def mount_opens(thirdparty: MountStorage, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names opened on the "thirdparty" mount during the test, in order."""
    opened: list[str] = []
    mount_class = type(thirdparty)
    open_file = mount_class._open_file

    def counting_open_file(self: MountStorage, name: str, mode: str) -> Any:
        opened.append(name)
        return open_file(self, name, mode)

    monkeypatch.setattr(mount_class, "_open_file", counting_open_file)
    return opened


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


# Each kind switches to the next one; the last one back to the first.
@pytest.mark.parametrize(("first", "second"), list(zip(KINDS, KINDS[1:] + KINDS[:1], strict=True)))
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


def storages_with_default_on_the_mount() -> dict[str, Any]:
    """``STORAGES`` with "default" on the "thirdparty" mount, as a project would set it."""
    return {
        **settings.STORAGES,
        "default": {
            "BACKEND": "genro_storage_django.storage.MountStorage",
            "OPTIONS": {"mount": "thirdparty"},
        },
    }


# sorl-thumbnail


def test_sorl_thumbnail_in_the_default_storage(thirdparty):
    default_is_the_mount = storages_with_default_on_the_mount()
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


# Django's FileField on a model (file_storage/tests.py, model_fields/test_filefield.py)


def test_file_field_files_on_a_model_instance(thirdparty, django_capture_on_commit_callbacks):
    """file_storage/tests: FileFieldStorageTests.test_files.

    The model-level steps. ``KeptDocument`` opts out of django-cleanup
    (``cleanup.ignore``), so the commit callbacks run here and still delete nothing:
    what is checked is Django's own behaviour, that deleting an instance keeps its file.
    """
    empty = KeptDocument()
    assert empty.file.name == ""
    assert not empty.file
    with pytest.raises(ValueError):
        empty.file.size  # noqa: B018 (no file: the attribute raises)

    first = KeptDocument()
    first.file.save("notes.txt", ContentFile(b"saved by the field"))
    assert first.file.name == "kept/notes.txt"
    assert first.file.size == len(b"saved by the field")

    # An assigned file reaches the mount only when its instance is saved.
    first.file = ContentFile(b"assigned to the instance", name="assigned.txt")
    assert files_in(thirdparty, "kept") == ["notes.txt"]
    first.save()
    assert files_in(thirdparty, "kept") == ["assigned.txt", "notes.txt"]
    assert thirdparty.open("kept/assigned.txt").read() == b"assigned to the instance"

    # The same name again: the mount keeps both files.
    second = KeptDocument()
    second.file.save("notes.txt", ContentFile(b"a second file"))
    taken = second.file.name
    assert taken != "kept/notes.txt"
    assert taken.startswith("kept/notes_")
    assert thirdparty.open(taken).read() == b"a second file"

    # Deleting the instance keeps its file: the name stays taken.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second.delete()
    assert callbacks == []
    assert thirdparty.open(taken).read() == b"a second file"
    second.file.save("notes.txt", ContentFile(b"a third file"))
    assert second.file.name not in (taken, "kept/notes.txt")
    assert thirdparty.open(second.file.name).read() == b"a third file"
    assert thirdparty.open("kept/notes.txt").read() == b"saved by the field"


def test_file_field_default(thirdparty, django_capture_on_commit_callbacks):
    """file_storage/tests: FileFieldStorageTests.test_filefield_default.

    ``Letterhead`` is under django-cleanup, which deletes the file of a deleted
    instance but never a field's default: the commit callbacks run, and the
    default file stays while a file of the instance's own goes.
    """
    default = thirdparty.save("letterheads/default.txt", ContentFile(b"the default letterhead"))
    assert default == "letterheads/default.txt"
    letterhead = Letterhead.objects.create()
    assert letterhead.file.name == "letterheads/default.txt"
    assert letterhead.file.read() == b"the default letterhead"
    letterhead.file.close()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        letterhead.delete()
    assert callbacks == []
    assert thirdparty.exists("letterheads/default.txt")

    fresh = Letterhead()
    assert fresh.file.read() == b"the default letterhead"
    fresh.file.close()

    own = Letterhead.objects.create(file=ContentFile(b"its own", name="own.txt"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        own.delete()
    assert callbacks
    assert not thirdparty.exists(own.file.name)
    assert thirdparty.open("letterheads/default.txt").read() == b"the default letterhead"


def test_file_field_pickling_through_the_cache(thirdparty):
    """file_storage/tests: FileFieldStorageTests.test_filefield_pickling."""
    document = Document()
    document.file.save("cached.txt", ContentFile(b"through the cache"))
    document.file.close()

    cache.set("document", document)
    restored = cache.get("document")

    assert restored is not document
    assert restored.file.name == document.file.name == "documents/cached.txt"
    assert restored.file.storage == thirdparty
    with restored.file.open() as file:
        assert file.read() == b"through the cache"


def test_field_file_pickle(thirdparty):
    """model_fields/test_filefield: FileFieldTests.test_pickle."""
    document = Document()
    document.file.save("pickled.txt", ContentFile(b"pickled field file"))

    restored = pickle_round_trip(document)
    assert restored.file == document.file
    assert stable_url(restored.file) == stable_url(document.file)
    assert fetch(restored.file.url) == b"pickled field file"
    assert restored.file.storage == document.file.storage == thirdparty
    assert restored.file.file.read() == document.file.file.read() == b"pickled field file"
    document.file.close()
    restored.file.close()

    # The field file alone keeps its instance, its field and its storage.
    alone = pickle_round_trip(document.file)
    assert alone == document.file
    assert stable_url(alone) == stable_url(document.file)
    assert alone.storage == thirdparty
    assert alone.instance == document
    assert alone.field is Document._meta.get_field("file")
    with alone.open() as file:
        assert file.read() == b"pickled field file"


def test_field_file_delete_content_file(thirdparty):
    """model_fields/test_filefield: FileFieldTests.test_delete_content_file."""
    document = Document.objects.create(file=ContentFile(b"", name="empty"))
    name = document.file.name
    assert thirdparty.exists(name)
    assert thirdparty.size(name) == 0

    document.file.delete()

    assert document.file.name is None
    assert not thirdparty.exists(name)
    assert Document.objects.get(pk=document.pk).file.name == ""
    with pytest.raises(ValueError, match="'file' attribute has no file associated with it"):
        document.file.file  # noqa: B018 (no file: the attribute raises)


def test_file_field_save_without_name(thirdparty):
    """model_fields/test_filefield: FileFieldTests.test_save_without_name.

    A file whose name is an absolute path is refused before anything is written.
    """
    document = Document.objects.create(file="documents/something.txt")
    with tempfile.NamedTemporaryFile(suffix=".txt") as local:
        local.write(b"a local temporary file")
        local.flush()
        document.file = File(local)
        with pytest.raises(SuspiciousFileOperation, match="path traversal"), transaction.atomic():
            document.save()

    assert thirdparty.listdir("") == ([], [])
    assert Document.objects.get(pk=document.pk).file.name == "documents/something.txt"


# Django's ImageField (model_fields/test_imagefield.py)


def test_image_field_equal_notequal_hash(thirdparty):
    """model_fields/test_imagefield: ImageFieldTests.test_equal_notequal_hash."""
    first = Photo()
    first.image.save("mug.png", png(SOURCE_SIZE))
    second = Photo()
    second.image.save("mug.png", png(OTHER_SIZE))

    assert first.image.name != second.image.name
    assert (first.image == second.image) is False
    assert (first.image != second.image) is True

    fetched = Photo.objects.get(pk=first.pk)
    assert (fetched.image == first.image) is True
    assert (fetched.image != first.image) is False
    assert hash(fetched.image) == hash(first.image)
    assert stored_image_size(thirdparty, fetched.image.name) == SOURCE_SIZE
    assert stored_image_size(thirdparty, second.image.name) == OTHER_SIZE


def test_image_field_size_method(thirdparty, mount_opens):
    """model_fields/test_imagefield: ImageFieldTests.test_size_method."""
    photo = saved_photo()
    assert photo.image.closed is True

    assert photo.image.size == len(png_bytes()) == thirdparty.size(photo.image.name)

    assert photo.image.closed is True
    assert mount_opens == []


def test_image_field_pickle(thirdparty):
    """model_fields/test_imagefield: ImageFieldTests.test_pickle."""
    photo = Photo()
    photo.image.save("mug.png", png())

    restored = pickle_round_trip(photo)
    assert restored.image == photo.image
    assert stable_url(restored.image) == stable_url(photo.image)
    assert restored.image.storage == photo.image.storage == thirdparty
    assert restored.image.instance == photo
    assert restored.image.field is Photo._meta.get_field("image")
    assert (restored.width, restored.height) == SOURCE_SIZE
    assert fetch(restored.image.url) == png_bytes()

    alone = pickle_round_trip(photo.image)
    assert alone == photo.image
    assert stable_url(alone) == stable_url(photo.image)
    assert alone.storage == thirdparty
    assert alone.instance == photo
    assert alone.field is Photo._meta.get_field("image")
    assert (alone.width, alone.height) == SOURCE_SIZE  # read from the mount
    with alone.open() as file, Image.open(file) as image:
        assert image.size == SOURCE_SIZE


def test_image_field_two_dimensions_constructor(thirdparty, mount_opens):
    """model_fields/test_imagefield: ImageFieldTwoDimensionsTests.test_constructor."""
    photo = Photo(image=png())
    # The dimensions come from the file given, before anything is on the mount.
    assert dimensions(photo, "image") == SOURCE_SIZE
    assert (photo.image.width, photo.image.height) == SOURCE_SIZE
    assert files_in(thirdparty, "photos") == []

    photo.save()

    assert dimensions(photo, "image") == SOURCE_SIZE
    assert files_in(thirdparty, "photos") == ["picture.png"]
    assert mount_opens == []
    assert stored_image_size(thirdparty, photo.image.name) == SOURCE_SIZE


def test_image_field_two_dimensions_create(thirdparty):
    """model_fields/test_imagefield: ImageFieldTwoDimensionsTests.test_create."""
    photo = Photo.objects.create(image=png())

    assert dimensions(photo, "image") == SOURCE_SIZE
    assert Photo.objects.filter(pk=photo.pk).values_list("width", "height").get() == SOURCE_SIZE
    fetched = Photo.objects.get(pk=photo.pk)
    assert (fetched.image.width, fetched.image.height) == SOURCE_SIZE
    assert stored_image_size(thirdparty, fetched.image.name) == SOURCE_SIZE


def test_image_field_two_dimensions_field_save_and_delete_methods(thirdparty):
    """model_fields/test_imagefield: ImageFieldTwoDimensionsTests.test_field_save_and_delete_methods."""  # noqa: E501
    photo = Photo()
    photo.image.save("mug.png", png(SOURCE_SIZE))
    first = photo.image.name
    assert dimensions(photo, "image") == SOURCE_SIZE

    photo.image.save("mug.png", png(OTHER_SIZE))
    assert dimensions(photo, "image") == OTHER_SIZE
    assert (photo.image.width, photo.image.height) == OTHER_SIZE
    assert stored_image_size(thirdparty, photo.image.name) == OTHER_SIZE
    assert stored_image_size(thirdparty, first) == SOURCE_SIZE

    second = photo.image.name
    photo.image.delete(save=False)
    assert photo.image.name is None
    assert dimensions(photo, "image") == (None, None)
    with pytest.raises(ValueError):
        photo.image.width  # noqa: B018 (no file: the attribute raises)
    with pytest.raises(ValueError):
        photo.image.height  # noqa: B018 (no file: the attribute raises)
    assert not thirdparty.exists(second)


def test_image_field_two_dimensions_dimensions(thirdparty, mount_opens):
    """model_fields/test_imagefield: ImageFieldTwoDimensionsTests.test_dimensions."""
    photo = Photo()
    photo.image.save("mug.png", png(SOURCE_SIZE))
    assert dimensions(photo, "image") == SOURCE_SIZE
    assert mount_opens == []  # Saving takes the dimensions from the content.

    # Loaded from the database, the dimensions come from their fields...
    photo = Photo.objects.get(pk=photo.pk)
    assert dimensions(photo, "image") == SOURCE_SIZE
    assert mount_opens == []
    # ...until the field file is asked: then the image is read from the mount, once.
    assert (photo.image.width, photo.image.height) == SOURCE_SIZE
    assert mount_opens == [photo.image.name]
    assert (photo.image.width, photo.image.height) == SOURCE_SIZE
    assert mount_opens == [photo.image.name]

    # A new file gives new dimensions, read from the file assigned.
    photo.image = png(OTHER_SIZE, name="other.png")
    assert dimensions(photo, "image") == OTHER_SIZE
    assert (photo.image.width, photo.image.height) == OTHER_SIZE
    photo.save()
    assert len(mount_opens) == 1
    assert stored_image_size(thirdparty, photo.image.name) == OTHER_SIZE


def test_image_field_width_height_correct_name_mangling_correct(thirdparty, mount_opens):
    """model_fields/test_imagefield: test_width_height_correct_name_mangling_correct.

    The dimensions of a saved image come from its content, not from reading the
    file back, also when the mount gives the file another name.
    """
    first = Photo()
    first.image.save("mug.png", png(), save=False)
    assert dimensions(first, "image") == SOURCE_SIZE
    first.save()
    assert dimensions(first, "image") == SOURCE_SIZE

    second = Photo()
    second.image.save("mug.png", png(), save=False)
    second.save()

    assert first.image.name == "photos/mug.png"
    assert second.image.name != first.image.name
    assert dimensions(second, "image") == dimensions(first, "image") == SOURCE_SIZE
    assert mount_opens == []
    assert stored_image_size(thirdparty, second.image.name) == SOURCE_SIZE


# Two image fields on one model (model_fields/test_imagefield.py, TwoImageFieldTests)


def test_two_image_fields_constructor(thirdparty):
    """model_fields/test_imagefield: TwoImageFieldTests.test_constructor."""
    portrait = Portrait(front=png(SOURCE_SIZE, name="front.png"))
    assert dimensions(portrait, "front") == SOURCE_SIZE
    assert dimensions(portrait, "side") == (None, None)

    portrait = Portrait(
        front=png(SOURCE_SIZE, name="front.png"), side=png(OTHER_SIZE, name="side.png")
    )
    assert dimensions(portrait, "front") == SOURCE_SIZE
    assert dimensions(portrait, "side") == OTHER_SIZE
    assert files_in(thirdparty, "portraits") == []

    portrait.save()

    assert dimensions(portrait, "front") == SOURCE_SIZE
    assert dimensions(portrait, "side") == OTHER_SIZE
    assert stored_image_size(thirdparty, portrait.front.name) == SOURCE_SIZE
    assert stored_image_size(thirdparty, portrait.side.name) == OTHER_SIZE


def test_two_image_fields_create(thirdparty):
    """model_fields/test_imagefield: TwoImageFieldTests.test_create."""
    portrait = Portrait.objects.create(
        front=png(SOURCE_SIZE, name="front.png"), side=png(OTHER_SIZE, name="side.png")
    )
    assert dimensions(portrait, "front") == SOURCE_SIZE
    assert dimensions(portrait, "side") == OTHER_SIZE

    fetched = Portrait.objects.get(pk=portrait.pk)
    assert dimensions(fetched, "front") == SOURCE_SIZE
    assert dimensions(fetched, "side") == OTHER_SIZE
    assert stored_image_size(thirdparty, fetched.front.name) == SOURCE_SIZE
    assert stored_image_size(thirdparty, fetched.side.name) == OTHER_SIZE


def test_two_image_fields_field_save_and_delete_methods(thirdparty):
    """model_fields/test_imagefield: TwoImageFieldTests.test_field_save_and_delete_methods."""
    portrait = Portrait()
    portrait.front.save("front.png", png(SOURCE_SIZE))
    assert dimensions(portrait, "front") == SOURCE_SIZE
    assert dimensions(portrait, "side") == (None, None)

    portrait.side.save("side.png", png(OTHER_SIZE))
    assert dimensions(portrait, "front") == SOURCE_SIZE
    assert dimensions(portrait, "side") == OTHER_SIZE

    portrait.front.save("front.png", png(OTHER_SIZE))
    assert dimensions(portrait, "front") == OTHER_SIZE
    assert dimensions(portrait, "side") == OTHER_SIZE
    assert stored_image_size(thirdparty, portrait.front.name) == OTHER_SIZE

    side = portrait.side.name
    portrait.side.delete(save=False)
    assert portrait.side.name is None
    assert dimensions(portrait, "side") == (None, None)
    assert dimensions(portrait, "front") == OTHER_SIZE
    assert not thirdparty.exists(side)
    assert stored_image_size(thirdparty, portrait.front.name) == OTHER_SIZE


def test_two_image_fields_dimensions(thirdparty, mount_opens):
    """model_fields/test_imagefield: TwoImageFieldTests.test_dimensions."""
    portrait = Portrait()
    portrait.front.save("front.png", png(SOURCE_SIZE))
    portrait.side.save("side.png", png(OTHER_SIZE))
    assert mount_opens == []

    portrait = Portrait.objects.get(pk=portrait.pk)
    assert dimensions(portrait, "front") == SOURCE_SIZE
    assert dimensions(portrait, "side") == OTHER_SIZE
    assert mount_opens == []

    # Each field file reads its own image, once.
    assert (portrait.front.width, portrait.front.height) == SOURCE_SIZE
    assert mount_opens == [portrait.front.name]
    assert (portrait.side.width, portrait.side.height) == OTHER_SIZE
    assert mount_opens == [portrait.front.name, portrait.side.name]
    assert (portrait.front.width, portrait.side.width) == (SOURCE_SIZE[0], OTHER_SIZE[0])
    assert len(mount_opens) == 2

    # A new file on one field leaves the other's dimensions alone.
    portrait.front = png(OTHER_SIZE, name="new-front.png")
    assert dimensions(portrait, "front") == OTHER_SIZE
    assert dimensions(portrait, "side") == OTHER_SIZE
    portrait.side = png(SOURCE_SIZE, name="new-side.png")
    assert dimensions(portrait, "front") == OTHER_SIZE
    assert dimensions(portrait, "side") == SOURCE_SIZE
    portrait.save()
    assert len(mount_opens) == 2
    assert stored_image_size(thirdparty, portrait.front.name) == OTHER_SIZE
    assert stored_image_size(thirdparty, portrait.side.name) == SOURCE_SIZE


# Callable storages and Django's storage handler (file_storage/tests.py)


def test_callable_function_storage_file_field(thirdparty):
    """file_storage/tests: FieldCallableFileStorageTests.test_callable_function_storage_file_field."""  # noqa: E501
    # The field called the function when it was made, at import: a storage of the
    # "thirdparty" mount, which follows every redefinition of the mount.
    field = Dossier._meta.get_field("by_function")
    assert type(field.storage) is storage_class("thirdparty")
    assert field.storage == thirdparty_storage() == thirdparty

    name = field.storage.save("dossiers/by-function.txt", ContentFile(b"through the function"))

    assert thirdparty.open(name).read() == b"through the function"


def test_callable_storage_file_field_in_model(thirdparty):
    """file_storage/tests: FieldCallableFileStorageTests.test_callable_storage_file_field_in_model."""  # noqa: E501
    dossier = Dossier()
    assert dossier.by_function.storage == thirdparty
    assert isinstance(dossier.by_class.storage, Storage)
    assert type(dossier.by_class.storage) is storage_class("thirdparty")
    assert dossier.by_class.storage == thirdparty

    dossier.by_function.save("a.txt", ContentFile(b"function storage"), save=False)
    dossier.by_class.save("b.txt", ContentFile(b"class storage"), save=False)
    dossier.save()

    fetched = Dossier.objects.get(pk=dossier.pk)
    assert files_in(thirdparty, "dossiers") == ["a.txt", "b.txt"]
    assert fetched.by_function.read() == b"function storage"
    assert fetched.by_class.read() == b"class storage"
    fetched.by_function.close()
    fetched.by_class.close()


def test_callable_storage_deconstruction(thirdparty):
    """file_storage/tests: FieldCallableFileStorageTests.test_deconstruction."""
    *_, by_function = Dossier._meta.get_field("by_function").deconstruct()
    *_, by_class = Dossier._meta.get_field("by_class").deconstruct()

    assert by_function["storage"] is thirdparty_storage
    assert by_class["storage"] is storage_class("thirdparty")
    # Called again, as a migration would, each gives the same mount.
    name = thirdparty.save("dossiers/deconstructed.txt", ContentFile(b"one mount"))
    assert by_function["storage"]().open(name).read() == b"one mount"
    assert by_class["storage"]().open(name).read() == b"one mount"


def test_storage_handler_same_instance(thirdparty):
    """file_storage/tests: StorageHandlerTests.test_same_instance."""
    default_is_the_mount = storages_with_default_on_the_mount()
    with override_settings(STORAGES=default_is_the_mount):
        first = storages["default"]
        second = storages["default"]

        assert first is second
        assert type(first) is storage_class("thirdparty")
        assert first == thirdparty
        name = default_storage.save("handled.txt", ContentFile(b"through STORAGES"))
        assert default_storage._wrapped is first
        assert thirdparty.open(name).read() == b"through STORAGES"
