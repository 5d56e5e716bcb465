"""Differential tests: the same steps on a reference storage and on every mount kind.

The reference of each kind is the storage a Django project would use there
today: ``FileSystemStorage`` for ``local``, ``InMemoryStorage`` for ``memory``
and django-storages' ``S3Storage`` (on the same moto server) for the object
stores ``s3``, ``gcs`` and ``azure``. A scenario returns what a caller can
observe (names, bytes, listings, the class of an exception); the test asserts
that ours and the reference observe the same.

Where we differ on purpose, ``DEVIATIONS`` states both results, so that a
change on either side shows. docs/contract.rst lists which of Django's own
``tests/file_storage`` and ``tests/model_fields`` cases each scenario covers.
"""

from __future__ import annotations

import datetime
import inspect
import io
import pathlib
import re
import time
import types
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import FlexibleChecksumError
from django.core.exceptions import SuspiciousOperation
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, InMemoryStorage, Storage
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.db import models
from django.db.models.fields.files import FieldFile
from django.test import override_settings

REFERENCES = {"local": "filesystem", "memory": "inmemory"}
OBJECT_STORE_REFERENCE = "s3storage"
REFERENCE_BUCKET = "genro-reference"


@dataclass(frozen=True)
class Raised:
    """The observable result of a call that raised."""

    error: type[BaseException]

    def __repr__(self) -> str:
        return f"Raised({self.error.__name__})"


# The classes an error is compared by: libraries raise their own subclasses.
COMPARED_ERRORS = (
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
    FileExistsError,
    SuspiciousOperation,
)


def observe(scenario: Callable[[Storage], Any], storage: Storage) -> Any:
    try:
        return scenario(storage)
    except Exception as error:
        for compared in COMPARED_ERRORS:
            if isinstance(error, compared):
                return Raised(compared)
        return Raised(type(error))


def family(kind: str) -> str:
    return REFERENCES.get(kind, OBJECT_STORE_REFERENCE)


@pytest.fixture
def reference(kind: str, tmp_path: pathlib.Path, request: pytest.FixtureRequest) -> Storage:
    if kind == "local":
        (tmp_path / "reference").mkdir()
        return FileSystemStorage(location=tmp_path / "reference")
    if kind == "memory":
        return InMemoryStorage()
    from storages.backends.s3 import S3Storage

    server = request.getfixturevalue("s3_server")
    prefix = request.getfixturevalue("unique_prefix")
    _create_bucket(server.url, REFERENCE_BUCKET)
    return S3Storage(
        bucket_name=REFERENCE_BUCKET,
        location=prefix,
        endpoint_url=server.url,
        access_key="testing",
        secret_key="testing",
        # Our mounts keep existing files unless told otherwise.
        file_overwrite=False,
    )


def _create_bucket(url: str, bucket: str) -> None:
    # The reference's objects stay apart from the mounts' bucket: tests that
    # read a whole bucket must not meet what S3Storage wrote (see save_str).
    request = urllib.request.Request(f"{url}/{bucket}", method="PUT")
    urllib.request.urlopen(request, timeout=10).close()


def read(storage: Storage, name: str, mode: str = "rb") -> Any:
    with storage.open(name, mode) as handle:
        return handle.read()


_SUFFIX = re.compile(r"_[A-Za-z0-9]{7}(?=\.|$|/)")


def shape(name: str) -> str:
    """``name`` with get_available_name()'s random suffix replaced by ``_XXXXXXX``."""
    return _SUFFIX.sub("_XXXXXXX", name)


def listing(storage: Storage, path: str) -> tuple[list[str], list[str]]:
    directories, files = storage.listdir(path)
    return sorted(directories), sorted(files)


# Scenarios. Each docstring names the Django cases it stands for.


def save_bytes(storage: Storage) -> Any:
    """file_storage: test_file_save_without_name's read-back; test_content_saving."""
    name = storage.save("data.bin", ContentFile(b"\x00\x01binary\xff"))
    return name, read(storage, name), storage.size(name)


def save_str(storage: Storage) -> Any:
    """test_content_saving (non-ASCII str); inmemory test_file_saving, test_file_size."""
    name = storage.save("text.txt", ContentFile("héllo ☃"))
    return name, read(storage, name), read(storage, name, "r"), storage.size(name)


def save_stringio(storage: Storage) -> Any:
    """model_fields/FileFieldStorageTests.test_stringio."""
    name = storage.save("stringio.txt", io.StringIO("content"))
    return name, read(storage, name)


@dataclass
class Env:
    """What some scenarios need besides the storage."""

    tmp: pathlib.Path
    request: pytest.FixtureRequest

    @property
    def http_url(self) -> str:
        return self.request.getfixturevalue("http_server").url


def save_text_mode_file(storage: Storage, env: Env) -> Any:
    """test_file_object: a file object opened by open(), here in text mode."""
    env.tmp.mkdir(exist_ok=True)
    source = env.tmp / "source.txt"
    source.write_text("from a text file ☃\n", encoding="utf-8")
    with open(source, encoding="utf-8") as handle:
        name = storage.save("from_text_file.txt", File(handle))
    return name, read(storage, name)


def save_without_name(storage: Storage) -> Any:
    """file_storage: test_file_save_without_name."""
    name = storage.save(None, ContentFile(b"named by content", name="content_name.txt"))
    return name, storage.exists(name), read(storage, name)


def save_with_path(storage: Storage) -> Any:
    """file_storage: test_file_save_with_path (the directory check is in DEVIATIONS)."""
    name = storage.save("path/to/test.file", ContentFile(b"file saved with path"))
    return name, read(storage, name), listing(storage, "path"), listing(storage, "path/to")


def pathlib_names(storage: Storage) -> Any:
    """file_storage: test_file_methods_pathlib_path (without path())."""
    name = storage.save(pathlib.Path("pathlib") / "test.file", ContentFile(b"pathlib"))
    path = pathlib.Path(name)
    found = storage.exists(path), storage.size(path), read(storage, str(path))
    storage.delete(path)
    return name, found, storage.exists(path)


def open_write_read_delete(storage: Storage) -> Any:
    """file_storage: test_file_access_options; inmemory test_write_string."""
    with storage.open("storage_test", "w") as handle:
        handle.write("storage contents")
    found = storage.exists("storage_test")
    text = read(storage, "storage_test", "r")
    storage.delete("storage_test")
    return found, text, storage.exists("storage_test")


def text_and_bytes_convert(storage: Storage) -> Any:
    """inmemory: test_convert_str_to_bytes_and_back."""
    with storage.open("as_text.txt", "w") as handle:
        handle.write("written as text ☃")
    with storage.open("as_bytes.bin", "wb") as handle:
        handle.write("written as bytes ☃".encode())
    return read(storage, "as_text.txt"), read(storage, "as_bytes.bin", "r")


def open_missing(storage: Storage) -> Any:
    """inmemory: test_open_missing_file."""
    return read(storage, "missing.txt")


def duplicate_names(storage: Storage) -> Any:
    """test_files and test_duplicate_filename (model_fields): the suffix, before every extension."""
    names = []
    for name in ("same.txt", "same.txt", "archive.tar.gz", "archive.tar.gz"):
        names.append(shape(storage.save(name, ContentFile(b"x"))))
    return names


def duplicate_dotted_directory(storage: Storage) -> Any:
    """FileStoragePathParsing: test_directory_with_dot, test_first_character_dot."""
    names = [shape(storage.save("dotted.path/test", ContentFile(b"1"))) for _ in range(2)]
    names += [shape(storage.save("dotted.path/.test", ContentFile(b"2"))) for _ in range(2)]
    return names, listing(storage, "")


def truncated_duplicate(storage: Storage) -> Any:
    """model_fields: test_file_truncation; get_available_name's max_length."""
    storage.save("long_file_name.txt", ContentFile(b"1"))
    second = storage.save("long_file_name.txt", ContentFile(b"2"), max_length=20)
    return len(second) <= 20, shape(second)[-4:], read(storage, second)


def extension_too_long(storage: Storage) -> Any:
    """test_file_name_truncation_extension_too_long (as a duplicate)."""
    storage.save("name.longextension", ContentFile(b"1"))
    return storage.save("name.longextension", ContentFile(b"2"), max_length=10)


def utf8_size(storage: Storage) -> Any:
    """inmemory: test_file_size (è is two bytes)."""
    name = storage.save("accent.txt", ContentFile("è"))
    return storage.size(name)


def large_file(storage: Storage) -> Any:
    """inmemory: test_large_file_saving (three chunks of File.DEFAULT_CHUNK_SIZE)."""
    data = bytes(range(256)) * (3 * File.DEFAULT_CHUNK_SIZE // 256)
    name = storage.save("large.bin", ContentFile(data))
    return storage.size(name) == len(data), read(storage, name) == data


def listdir_tree(storage: Storage) -> Any:
    """file_storage: test_listdir; inmemory: test_listdir, test_list_relative_path."""
    for name in ("storage_test_1", "storage_test_2", "storage_dir_1/file.txt", "a/b/c.txt"):
        storage.save(name, ContentFile(b"x"))
    return listing(storage, ""), listing(storage, pathlib.Path("")), listing(storage, "./a/./.")


def listdir_of_empty_root(storage: Storage) -> Any:
    """inmemory: test_listdir (an empty storage)."""
    return listing(storage, "")


def listdir_of_a_file(storage: Storage) -> Any:
    """Issue item 6: one behaviour on every backend (see DEVIATIONS for the references)."""
    storage.save("plain.txt", ContentFile(b"x"))
    return listing(storage, "plain.txt")


def listdir_of_missing_directory(storage: Storage) -> Any:
    return listing(storage, "nowhere")


def exists_of_a_directory(storage: Storage) -> Any:
    """inmemory: test_exists; file_storage: test_file_save_with_path's exists('path/to')."""
    storage.save("dir1/dir2/file.txt", ContentFile(b"x"))
    return storage.exists("dir1"), storage.exists("dir1/dir2"), storage.exists("dir1/nope")


def delete_missing(storage: Storage) -> Any:
    """inmemory: test_delete_missing_file; file_storage: test_remove_race_handling's tolerance."""
    return storage.delete("missing.txt"), storage.delete("missing_dir/missing.txt")


def delete_without_name(storage: Storage) -> Any:
    """file_storage: test_delete_no_name."""
    return storage.delete("")


def delete_a_file(storage: Storage) -> Any:
    """inmemory: test_delete (the file part)."""
    storage.save("dir/to_delete.txt", ContentFile(b"x"))
    storage.save("dir/kept.txt", ContentFile(b"x"))
    storage.delete("dir/to_delete.txt")
    return listing(storage, "dir")


def traversal(storage: Storage) -> Any:
    """file_storage: test_file_storage_prevents_directory_traversal."""
    return storage.exists("..")


def absolute_path(storage: Storage) -> Any:
    """file_storage: test_file_storage_prevents_directory_traversal ('/etc/passwd')."""
    return storage.exists("/etc/passwd")


def save_traversal(storage: Storage) -> Any:
    """test_base: test_validate_before_get_available_name (nothing is written)."""
    outcome = observe(lambda s: s.save("../evil.txt", ContentFile(b"x")), storage)
    return outcome, listing(storage, "")


def save_under_a_file(storage: Storage) -> Any:
    """inmemory: test_file_node_cannot_have_children."""
    storage.save("node.txt", ContentFile(b"x"))
    return storage.save("node.txt/child.txt", ContentFile(b"y"))


def open_a_directory(storage: Storage) -> Any:
    """inmemory: test_open_dir_as_file."""
    storage.save("folder/inside.txt", ContentFile(b"x"))
    return read(storage, "folder")


def chunks_error(storage: Storage) -> Any:
    """file_storage: test_file_chunks_error (and nothing is left behind)."""

    class Failing(ContentFile):
        def chunks(self, chunk_size: int | None = None) -> Any:
            raise OSError("chunks failed")

        def read(self, *args: Any) -> bytes:
            raise OSError("read failed")

    outcome = observe(lambda s: s.save("failing.txt", Failing(b"x", name="failing.txt")), storage)
    return outcome, storage.exists("failing.txt")


def save_does_not_close(storage: Storage) -> Any:
    """file_storage: test_save_doesnt_close."""
    upload = SimpleUploadedFile("upload.txt", b"uploaded")
    with TemporaryUploadedFile("temp.txt", "text/plain", 8, "utf-8") as temporary:
        temporary.write(b"temporar")
        temporary.seek(0)
        storage.save("temp.txt", temporary)
        temporary_open = not temporary.closed and not temporary.file.closed
    storage.save("upload.txt", upload)
    return temporary_open, not upload.closed, not upload.file.closed


def urlopen_content(storage: Storage, env: Env) -> Any:
    """FileLikeObjectTestCase: test_urllib_request_urlopen (no size, not seekable)."""
    with urllib.request.urlopen(f"{env.http_url}/docs/guide.txt") as response:
        name = storage.save("remote.txt", File(response))
    return name, read(storage, name)


def file_object_states(storage: Storage) -> Any:
    """files/tests: test_readable, test_writable, test_seekable, test_context_manager."""
    storage.save("states.txt", ContentFile(b"states"))
    handle = storage.open("states.txt", "rb")
    with handle as entered:
        opened = entered is handle, handle.readable(), handle.writable(), handle.seekable()
    return opened, handle.closed, handle.readable(), handle.seekable()


def open_rewinds(storage: Storage) -> Any:
    """files/tests: test_open_resets_opened_file_to_start_and_returns_context_manager."""
    storage.save("rewind.txt", ContentFile(b"0123456789"))
    handle = storage.open("rewind.txt", "rb")
    handle.read(4)
    again = handle.open()
    data = handle.read()
    handle.close()
    return again is handle, data


def reopen_after_close(storage: Storage) -> Any:
    """test_filefield_reopen; files: test_open_reopens_closed_file_and_returns_context_manager."""
    storage.save("reopen.txt", ContentFile(b"from the storage"))
    handle = storage.open("reopen.txt", "rb")
    with handle:
        first = handle.read()
    with handle.open("rb"):
        handle.seek(5)
        second = handle.read()
    return first, second, handle.closed


def partial_reads_and_chunks(storage: Storage) -> Any:
    """model_fields: test_filefield_read."""
    storage.save("chunks.txt", ContentFile(b"abcdefgh"))
    with storage.open("chunks.txt", "rb") as handle:
        start, rest = handle.read(3), handle.read()
        chunks = list(handle.chunks(chunk_size=3))
    return start, rest, chunks


def text_wrapper(storage: Storage) -> Any:
    """files/tests: test_io_wrapper (TextIOWrapper over an opened file)."""
    storage.save("wrapped.txt", ContentFile("lines ☃\nsecond\n".encode()))
    with storage.open("wrapped.txt", "rb") as handle:
        return io.TextIOWrapper(handle, encoding="utf-8").read()


def overwrite(storage: Storage) -> Any:
    """OverwritingStorageTests: test_save_overwrite_behavior (file_overwrite / allow_overwrite)."""
    first = storage.save("overwritten.txt", ContentFile(b"content one"))
    second = storage.save("overwritten.txt", ContentFile(b"content two"))
    return first, second, read(storage, second), listing(storage, "")


def overwrite_temporary_file(storage: Storage) -> Any:
    """OverwritingStorageTests: test_save_overwrite_behavior_temp_file."""
    names = []
    for content in (b"temporary one", b"temporary two, longer"):
        with TemporaryUploadedFile("temp.txt", "text/plain", len(content), "utf-8") as upload:
            upload.write(content)
            upload.seek(0)
            names.append(storage.save("temp.txt", upload))
    return names, read(storage, "temp.txt"), listing(storage, "")


def overwrite_truncates_the_name(storage: Storage) -> Any:
    """OverwritingStorageTests: test_file_name_truncation."""
    return storage.save("test_long_file_name.txt", ContentFile(b"x"), max_length=10)


def url_quoting(storage: Storage) -> Any:
    """file_storage: test_file_url, test_base_url; inmemory: test_url, test_url_with_none_filename.

    Run with ``base_url`` on both sides (``test_urls_same_as_reference``).
    """
    return [
        storage.url("test.file"),
        storage.url("~!*()'@#$%^&*abc`+ =.file"),
        storage.url("a/b\\c.file"),
        storage.url("répertoire/日本.txt"),
        storage.url(None),
        storage.url(""),
    ]


def field_file(storage: Storage, upload_to: Any = "uploads", name: str | None = None) -> FieldFile:
    """A FieldFile of an unsaved instance, as a model's FileField would make it."""
    field = models.FileField(storage=storage, upload_to=upload_to, max_length=100)
    field.set_attributes_from_name("doc")
    return FieldFile(types.SimpleNamespace(doc=name), field, name)


def fieldfile_lifecycle(storage: Storage) -> Any:
    """model_fields FileFieldStorageTests: test_files; test_delete_content_file."""
    empty = field_file(storage)
    before = bool(empty), observe(lambda s: empty.size, storage)
    first = field_file(storage)
    first.save("django_test.txt", ContentFile(b"content"), save=False)
    second = field_file(storage)
    second.save("django_test.txt", ContentFile(b"more content"), save=False)
    found = first.name, first.size, first.read(), shape(second.name), second.size
    first.close()
    name = first.name
    first.delete(save=False)
    return before, found, first.name, storage.exists(name), storage.exists(second.name)


def fieldfile_write(storage: Storage) -> Any:
    """model_fields FileFieldStorageTests: test_filefield_write; test_open_returns_self."""
    name = storage.save("written.txt", ContentFile(b"old"))
    file = field_file(storage, name=name)
    returned = file.open("wb")
    file.write(b"new content")
    file.close()
    return returned is file, read(storage, name)


def fieldfile_reopen(storage: Storage) -> Any:
    """model_fields FileFieldStorageTests: test_filefield_reopen."""
    name = storage.save("reopened.txt", ContentFile(b"reopened content"))
    file = field_file(storage, name=name)
    with file.open() as opened:
        first = opened.read()
    file.open()
    file.seek(9)
    second = file.read()
    file.close()
    return first, second


def fieldfile_upload_to(storage: Storage) -> Any:
    """test_empty_upload_to, test_pathlib_upload_to, test_random_upload_to."""
    calls: list[str] = []

    def callable_upload_to(instance: Any, filename: str) -> str:
        calls.append(filename)
        return f"callable/{len(calls)}/{filename}"

    names = []
    for upload_to in ("", pathlib.Path("pathlib"), callable_upload_to):
        file = field_file(storage, upload_to=upload_to)
        file.save("some file.txt", ContentFile(b"x"), save=False)
        names.append(file.name)
    return names, calls


def _names(call: Callable[[str], Any], candidates: list[str], storage: Storage) -> list[Any]:
    return [observe(lambda s, c=candidate: call(c), storage) for candidate in candidates]


def generate_filename_valid(storage: Storage) -> Any:
    """test_generate_filename: test_valid_names."""
    candidates = ["./test.txt", "dir/./sub/file.txt", "a\\b\\c.txt", "./dir\\.\\file.txt"]
    return _names(storage.generate_filename, candidates, storage)


def generate_filename_dangerous(storage: Storage) -> Any:
    """test_generate_filename: test_storage_dangerous_paths and ..._dir_name."""
    dangerous = ["", ".", "..", "/tmp/..", "/tmp/.", "tmp/.."]
    in_directory = ["../path", "tmp/../path", "/tmp/../path"]
    return (
        _names(storage.get_available_name, dangerous, storage),
        _names(storage.generate_filename, dangerous + in_directory, storage),
    )


def filefield_generate_filename(storage: Storage) -> Any:
    """test_generate_filename: test_filefield_* (dangerous names, dot segments, absolute
    paths, spaces, callable upload_to and what it returns)."""

    def upload_to(name: str) -> Callable[[Any, str], str]:
        return lambda instance, filename: name

    names = [
        "some file.txt",
        "..",
        ".",
        "",
        "???",
        "$.$.$",
        "../path",
        "/tmp/path",
        "dir/../x.txt",
    ]
    fields = {
        "plain": models.FileField(storage=storage, upload_to="some/folder/"),
        "callable": models.FileField(storage=storage, upload_to=lambda i, f: f"callable/{f}"),
        "fixed": models.FileField(storage=storage, upload_to=upload_to("some/folder/test.txt")),
        "absolute": models.FileField(storage=storage, upload_to=upload_to("/tmp/some/file")),
        "dots": models.FileField(storage=storage, upload_to=upload_to("/tmp/..")),
    }
    return {
        label: _names(lambda name, f=field: f.generate_filename(None, name), names, storage)
        for label, field in fields.items()
    }


FIELD_SCENARIOS = [
    fieldfile_lifecycle,
    fieldfile_write,
    fieldfile_reopen,
    fieldfile_upload_to,
    generate_filename_valid,
    generate_filename_dangerous,
    filefield_generate_filename,
]


def times_aware(storage: Storage) -> Any:
    """test_file_get_*_time_timezone with USE_TZ=True: aware, UTC, within seconds of now."""
    name = storage.save("timed.txt", ContentFile(b"t"))
    now = datetime.datetime.now(datetime.timezone.utc)
    found = {}
    for getter in ("get_created_time", "get_accessed_time", "get_modified_time"):
        value = observe(lambda s, g=getter: getattr(s, g)(name), storage)
        if isinstance(value, datetime.datetime):
            value = value.utcoffset() == datetime.timedelta(0) and abs(now - value).seconds < 5
        found[getter] = value
    return found


def times_naive(storage: Storage) -> Any:
    """test_file_get_*_time_timezone with USE_TZ=False: naive, in TIME_ZONE."""
    found = {}
    with override_settings(USE_TZ=False, TIME_ZONE="America/Chicago"):
        name = storage.save("timed.txt", ContentFile(b"t"))
        now = datetime.datetime.now()
        for getter in ("get_created_time", "get_accessed_time", "get_modified_time"):
            value = observe(lambda s, g=getter: getattr(s, g)(name), storage)
            if isinstance(value, datetime.datetime):
                value = value.tzinfo is None and abs(now - value) < datetime.timedelta(seconds=5)
            found[getter] = value
    return found


def modified_time_moves(storage: Storage) -> Any:
    """inmemory: test_file_modified_time; test_file_created_time (created stays)."""
    name = storage.save("moving.txt", ContentFile(b"1"))
    created, modified = storage.get_created_time(name), storage.get_modified_time(name)
    time.sleep(1.1)  # object stores keep whole seconds
    with storage.open(name, "wb") as handle:
        handle.write(b"2")
    return storage.get_modified_time(name) > modified, storage.get_created_time(name) == created


def accessed_time_moves(storage: Storage) -> Any:
    """inmemory: test_file_accessed_time."""
    name = storage.save("accessed.txt", ContentFile(b"1"))
    before = storage.get_accessed_time(name)
    time.sleep(0.05)
    read(storage, name)
    return storage.get_accessed_time(name) > before


SCENARIOS: list[Callable[..., Any]] = [
    save_bytes,
    save_str,
    save_stringio,
    save_text_mode_file,
    save_without_name,
    save_with_path,
    pathlib_names,
    open_write_read_delete,
    text_and_bytes_convert,
    open_missing,
    duplicate_names,
    duplicate_dotted_directory,
    truncated_duplicate,
    extension_too_long,
    utf8_size,
    large_file,
    listdir_tree,
    listdir_of_empty_root,
    listdir_of_a_file,
    listdir_of_missing_directory,
    exists_of_a_directory,
    delete_missing,
    delete_without_name,
    delete_a_file,
    traversal,
    absolute_path,
    save_traversal,
    save_under_a_file,
    open_a_directory,
    chunks_error,
    save_does_not_close,
    urlopen_content,
    file_object_states,
    open_rewinds,
    reopen_after_close,
    partial_reads_and_chunks,
    text_wrapper,
    times_aware,
    times_naive,
    modified_time_moves,
    accessed_time_moves,
    *FIELD_SCENARIOS,
]

# (scenario, reference family) -> (what the reference observes, what we observe, why).
# Every other pair must observe the same.
_STRICTER_NAMES = "every mount refuses names that leave it, as FileSystemStorage does"
_ONE_ERROR = "one error on every backend: FileSystemStorage's NotADirectoryError (os.scandir's)"
_NO_PREFIX_STATE = "an object store cannot tell a missing directory from an empty one"
_CLOSES = "a file closes as FileSystemStorage's does; InMemoryStorage's node never closes"
_NO_NAME = "FileSystemStorage's ValueError: deleting '' is a caller's mistake"
NOT_FOUND = Raised(FileNotFoundError)
NOT_A_DIRECTORY = Raised(NotADirectoryError)
_MORE_TIMES = "GCS and Azure record a creation time; S3 (and so S3Storage) does not"
DEVIATIONS: dict[tuple[str, str], tuple[Any, Any, str]] = {
    ("listdir_of_a_file", "inmemory"): (Raised(FileExistsError), NOT_A_DIRECTORY, _ONE_ERROR),
    ("listdir_of_a_file", "s3storage"): (([], []), NOT_A_DIRECTORY, _ONE_ERROR),
    ("listdir_of_missing_directory", "filesystem"): (NOT_FOUND, ([], []), _NO_PREFIX_STATE),
    ("listdir_of_missing_directory", "inmemory"): (NOT_FOUND, ([], []), _NO_PREFIX_STATE),
    ("exists_of_a_directory", "s3storage"): (
        (False, False, False),
        (True, True, False),
        "a key prefix is a directory, as on local and memory mounts (S3Storage asks for one key)",
    ),
    ("delete_without_name", "inmemory"): (
        None,
        Raised(ValueError),
        "FileSystemStorage's ValueError",
    ),
    ("delete_without_name", "s3storage"): (
        None,
        Raised(ValueError),
        "FileSystemStorage's ValueError",
    ),
    ("open_a_directory", "s3storage"): (
        NOT_FOUND,
        Raised(IsADirectoryError),
        "as FileSystemStorage and InMemoryStorage (S3Storage: no such key)",
    ),
    ("chunks_error", "filesystem"): (
        (Raised(OSError), True),
        (Raised(OSError), False),
        "a failed save leaves no file behind (FileSystemStorage keeps what it had written)",
    ),
    ("chunks_error", "inmemory"): (
        (Raised(OSError), True),
        (Raised(OSError), False),
        "a failed save leaves no file behind (InMemoryStorage keeps an empty file)",
    ),
    ("file_object_states", "inmemory"): (
        ((True, True, True, True), False, True, True),
        ((True, True, False, True), True, False, False),
        _CLOSES,
    ),
    ("file_object_states", "s3storage"): (
        ((True, True, True, True), True, False, False),
        ((True, True, False, True), True, False, False),
        "a file opened for reading is not writable, as FileSystemStorage's (S3File says it is)",
    ),
    ("reopen_after_close", "inmemory"): (
        (b"from the storage", b"the storage", False),
        (b"from the storage", b"the storage", True),
        _CLOSES,
    ),
    ("open_rewinds", "inmemory"): (
        Raised(TypeError),
        (True, b"0123456789"),
        "File.open() without a mode rewinds, as FileSystemStorage's (InMemoryStorage needs a mode)",
    ),
    ("save_str", "s3storage"): (
        Raised(FlexibleChecksumError),
        ("text.txt", "héllo ☃".encode(), "héllo ☃", 10),
        "django-storages uploads len(str) bytes of the UTF-8 text: non-ASCII text is cut "
        "short; ours stores every byte, as InMemoryStorage does",
    ),
    ("utf8_size", "s3storage"): (1, 2, "as save_str: S3Storage keeps one byte of 'è'"),
}
_NOT_IMPLEMENTED = Raised(NotImplementedError)
for _kind in ("gcs", "azure"):
    _times = {"get_created_time": True, "get_accessed_time": _NOT_IMPLEMENTED}
    _theirs = {**_times, "get_created_time": _NOT_IMPLEMENTED, "get_modified_time": True}
    for _scenario in ("times_aware", "times_naive"):
        DEVIATIONS[_scenario, _kind] = (_theirs, {**_times, "get_modified_time": True}, _MORE_TIMES)
# A rewrite makes a new GCS object, with a new creation time; Azure keeps the blob's.
DEVIATIONS["modified_time_moves", "gcs"] = (_NOT_IMPLEMENTED, (True, False), _MORE_TIMES)
DEVIATIONS["modified_time_moves", "azure"] = (_NOT_IMPLEMENTED, (True, True), _MORE_TIMES)


def deviation(scenario: str, kind: str) -> tuple[Any, Any, str] | None:
    return DEVIATIONS.get((scenario, kind)) or DEVIATIONS.get((scenario, family(kind)))


def _run(scenario: Callable[..., Any], storage: Storage, env: Env) -> Any:
    if len(inspect.signature(scenario).parameters) == 2:
        return observe(lambda s: scenario(s, env), storage)
    return observe(scenario, storage)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_same_as_reference(scenario, kind, storage, reference, tmp_path, request):
    ours = _run(scenario, storage, Env(tmp_path / "ours", request))
    theirs = _run(scenario, reference, Env(tmp_path / "theirs", request))
    expected = deviation(scenario.__name__, kind)
    if expected is None:
        assert ours == theirs
    else:
        expected_theirs, expected_ours, _why = expected
        assert (theirs, ours) == (expected_theirs, expected_ours)


@pytest.fixture
def reference_with_base_url(kind: str, tmp_path: pathlib.Path) -> Any:
    # base_url is Django's own notion: FileSystemStorage's and InMemoryStorage's.
    def build(base_url: str) -> Storage:
        if kind == "local":
            return FileSystemStorage(location=tmp_path / "reference", base_url=base_url)
        return InMemoryStorage(base_url=base_url)

    return build


@pytest.mark.parametrize(
    "base_url", ["/test_media_url/", "/no_ending_slash", "https://cdn.test/m/"]
)
def test_urls_same_as_reference(kind, make_storage, reference_with_base_url, base_url):
    ours = observe(url_quoting, make_storage(base_url=base_url))
    assert ours == observe(url_quoting, reference_with_base_url(base_url))


OVERWRITE_SCENARIOS = [overwrite, overwrite_temporary_file, overwrite_truncates_the_name]


@pytest.fixture
def overwriting_reference(kind: str, reference: Storage, tmp_path: pathlib.Path) -> Storage:
    # InMemoryStorage cannot overwrite: FileSystemStorage(allow_overwrite=True) is
    # Django's overwriting storage.
    if kind in REFERENCES:
        (tmp_path / "overwriting").mkdir()
        return FileSystemStorage(location=tmp_path / "overwriting", allow_overwrite=True)
    reference.file_overwrite = True
    return reference


@pytest.mark.parametrize("scenario", OVERWRITE_SCENARIOS, ids=lambda s: s.__name__)
def test_overwriting_same_as_reference(scenario, make_storage, overwriting_reference):
    ours = observe(scenario, make_storage(file_overwrite=True))
    assert ours == observe(scenario, overwriting_reference)
