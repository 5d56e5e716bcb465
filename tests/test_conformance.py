"""The Storage contract, written once and run on every writable mount kind."""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import threading

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from genro_storage_django.exceptions import MountPermissionError


class ChunkOnlySource(io.RawIOBase):
    """A readable stream of ``size`` bytes that refuses to be read whole."""

    def __init__(self, size: int, max_read: int) -> None:
        self.remaining = size
        self.max_read = max_read
        self.largest_read = 0
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > self.max_read:
            raise AssertionError(f"read({n}) asks for more than one chunk")
        self.largest_read = max(self.largest_read, n)
        data = os.urandom(min(n, self.remaining))
        self.remaining -= len(data)
        self.digest.update(data)
        return data


def read_back(storage, name: str) -> bytes:
    with storage.open(name, "rb") as handle:
        return handle.read()


def test_save_and_open_binary(storage):
    name = storage.save("hello.bin", ContentFile(b"\x00\x01binary\xff"))
    assert name == "hello.bin"
    assert read_back(storage, name) == b"\x00\x01binary\xff"


def test_open_text_modes(storage):
    with storage.open("notes/text.txt", "w") as handle:
        handle.write("première ligne\nseconde\n")
    with storage.open("notes/text.txt", "r") as handle:
        assert handle.read() == "première ligne\nseconde\n"


def test_open_missing_file_raises_file_not_found(storage):
    with pytest.raises(FileNotFoundError):
        storage.open("missing.txt").read()


def test_nested_directories_and_listdir(storage):
    storage.save("a/b/c/deep.txt", ContentFile(b"deep"))
    storage.save("a/top.txt", ContentFile(b"top"))
    storage.save("root.txt", ContentFile(b"root"))
    assert storage.listdir("") == (["a"], ["root.txt"])
    directories, files = storage.listdir("a")
    assert (directories, files) == (["b"], ["top.txt"])
    assert storage.listdir("a/b/c") == ([], ["deep.txt"])
    assert read_back(storage, "a/b/c/deep.txt") == b"deep"


def test_listdir_of_missing_directory_is_empty(storage):
    assert storage.listdir("nowhere") == ([], [])


def test_scandir_gives_size_and_time_without_more_calls(storage):
    storage.save("dir/file.txt", ContentFile(b"12345"))
    entries = {entry.name: entry for entry in storage.scandir("dir")}
    assert entries["file.txt"].size == 5
    assert not entries["file.txt"].is_dir
    assert entries["file.txt"].modified is not None


def test_unicode_names(storage):
    name = storage.save("répertoire/日本語 ☃.txt", ContentFile("snow ☃".encode()))
    assert name == "répertoire/日本語 ☃.txt"
    assert read_back(storage, name) == "snow ☃".encode()
    assert storage.listdir("répertoire") == ([], ["日本語 ☃.txt"])


def test_empty_file(storage):
    name = storage.save("empty.txt", ContentFile(b""))
    assert storage.exists(name)
    assert storage.size(name) == 0
    assert read_back(storage, name) == b""


def test_large_file_is_streamed_in_chunks(storage):
    size = 6 * 1024 * 1024 + 123
    source = ChunkOnlySource(size, max_read=storage.chunk_size)
    name = storage.save("big/blob.bin", File(source, name="blob.bin"))
    assert 0 < source.largest_read <= storage.chunk_size
    assert storage.size(name) == size
    digest = hashlib.sha256()
    with storage.open(name, "rb") as handle:
        for chunk in handle.chunks():
            digest.update(chunk)
    assert digest.hexdigest() == source.digest.hexdigest()


def test_uploaded_file_is_saved(storage):
    upload = SimpleUploadedFile("photo.jpg", b"jpeg-bytes", content_type="image/jpeg")
    name = storage.save("uploads/photo.jpg", upload)
    assert read_back(storage, name) == b"jpeg-bytes"


def test_no_overwrite_gives_an_alternative_name(storage):
    first = storage.save("same.txt", ContentFile(b"first"))
    second = storage.save("same.txt", ContentFile(b"second"))
    assert first == "same.txt"
    assert second != first
    assert second.startswith("same_") and second.endswith(".txt")
    assert read_back(storage, first) == b"first"
    assert read_back(storage, second) == b"second"


def test_file_overwrite_replaces_content(make_storage):
    storage = make_storage(file_overwrite=True)
    assert storage.save("same.txt", ContentFile(b"first")) == "same.txt"
    assert storage.save("same.txt", ContentFile(b"second")) == "same.txt"
    assert read_back(storage, "same.txt") == b"second"
    assert storage.listdir("") == ([], ["same.txt"])


def test_get_available_name_honours_max_length(storage):
    storage.save("abcdefghij.txt", ContentFile(b"x"))
    name = storage.get_available_name("abcdefghij.txt", max_length=20)
    assert len(name) <= 20
    assert name != "abcdefghij.txt"
    with pytest.raises(SuspiciousFileOperation):
        storage.get_available_name("abcdefghij.txt", max_length=9)


def test_generate_filename_strips_unsafe_characters(storage):
    assert storage.generate_filename("dir/my file?.txt") == "dir/my_file.txt"


def test_delete(storage):
    name = storage.save("gone.txt", ContentFile(b"bye"))
    storage.delete(name)
    assert not storage.exists(name)
    storage.delete(name)  # a missing file is not an error
    with pytest.raises(ValueError):
        storage.delete("")


def test_exists_for_files_and_directories(storage):
    storage.save("d/inner.txt", ContentFile(b"x"))
    assert storage.exists("d/inner.txt")
    assert storage.exists("d")
    assert storage.isdir("d")
    assert not storage.isdir("d/inner.txt")
    assert not storage.exists("d/other.txt")


def test_size(storage):
    name = storage.save("sized.bin", ContentFile(b"x" * 1234))
    assert storage.size(name) == 1234


@override_settings(USE_TZ=True)
def test_modified_time_is_aware_with_use_tz(storage):
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    name = storage.save("timed.txt", ContentFile(b"t"))
    modified = storage.get_modified_time(name)
    assert modified.tzinfo is not None
    assert before <= modified <= before + datetime.timedelta(minutes=10)


@override_settings(USE_TZ=False)
def test_modified_time_is_naive_without_use_tz(storage):
    name = storage.save("timed.txt", ContentFile(b"t"))
    assert storage.get_modified_time(name).tzinfo is None


def test_modified_time_of_missing_file(storage):
    with pytest.raises(FileNotFoundError):
        storage.get_modified_time("missing.txt")


def test_url_with_base_url_quotes_the_name(make_storage):
    storage = make_storage(base_url="https://cdn.example.com/files")
    assert storage.url("dir/a b&c.txt") == "https://cdn.example.com/files/dir/a%20b%26c.txt"


TRAVERSALS = [
    "../outside.txt",
    "a/../../outside.txt",
    "/etc/passwd",
    "..\\outside.txt",
    "a\\..\\..\\outside.txt",
    "C:/windows/win.ini",
    "nul\x00byte.txt",
]


@pytest.mark.parametrize("name", TRAVERSALS)
def test_traversal_is_refused_everywhere(storage, name):
    for call in (
        lambda: storage.open(name),
        lambda: storage.save(name, ContentFile(b"x")),
        lambda: storage.exists(name),
        lambda: storage.delete(name),
        lambda: storage.size(name),
        lambda: storage.listdir(name),
        lambda: storage.url(name),
    ):
        with pytest.raises(SuspiciousFileOperation):
            call()
    assert storage.listdir("") == ([], [])


def test_readonly_mount_refuses_every_write(make_storage, storage):
    storage.save("kept.txt", ContentFile(b"kept"))
    readonly = make_storage(permissions="readonly")
    if readonly.mount.type == "memory":
        pytest.skip("a second memory mount is a separate namespace")
    assert read_back(readonly, "kept.txt") == b"kept"
    refused = [
        lambda: readonly.save("new.txt", ContentFile(b"x")),
        lambda: readonly.open("new.txt", "wb"),
        lambda: readonly.open("kept.txt", "ab"),
        lambda: readonly.delete("kept.txt"),
        lambda: readonly.makedirs("newdir"),
        lambda: readonly.move("kept.txt", "moved.txt"),
    ]
    for call in refused:
        with pytest.raises(MountPermissionError) as caught:
            call()
        assert isinstance(caught.value, PermissionError)
        assert "'variant'" in str(caught.value)
    assert storage.listdir("") == ([], ["kept.txt"])
    assert read_back(storage, "kept.txt") == b"kept"


def test_readwrite_mount_writes_but_never_deletes(make_storage):
    storage = make_storage(permissions="readwrite")
    name = storage.save("doc.txt", ContentFile(b"v1"))
    with pytest.raises(MountPermissionError, match="delete"):
        storage.delete(name)
    with pytest.raises(MountPermissionError):
        storage.delete_tree("somedir")
    assert storage.exists(name)


def test_readonly_memory_mount_refuses_writes(make_storage):
    readonly = make_storage(permissions="readonly")
    with pytest.raises(MountPermissionError):
        readonly.save("new.txt", ContentFile(b"x"))
    assert readonly.listdir("") == ([], [])


def test_concurrent_saves_of_one_name_keep_every_file(storage, kind):
    if kind == "gcs":
        pytest.skip("the GCS emulators ignore ifGenerationMatch=0 (no exclusive create)")
    writers = 16
    names: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def write(index: int) -> None:
        try:
            barrier.wait()
            names.append(storage.save("race.txt", ContentFile(f"writer {index}".encode())))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(names)) == writers
    contents = {read_back(storage, name) for name in names}
    assert contents == {f"writer {i}".encode() for i in range(writers)}


def test_makedirs_move_and_delete_tree(storage):
    storage.save("old/one.txt", ContentFile(b"1"))
    storage.save("old/sub/two.txt", ContentFile(b"2"))
    storage.makedirs("empty/dir")
    assert storage.move("old", "new") == "new"
    assert not storage.exists("old/one.txt")
    assert read_back(storage, "new/sub/two.txt") == b"2"
    storage.save("other.txt", ContentFile(b"o"))
    with pytest.raises(FileExistsError):
        storage.move("other.txt", "new/one.txt")
    with pytest.raises(FileNotFoundError):
        storage.move("missing.txt", "anything.txt")
    storage.delete_tree("new")
    assert not storage.exists("new/sub/two.txt")
    assert "new" not in storage.listdir("")[0]
    with pytest.raises(ValueError):
        storage.delete_tree("")


def test_path_only_on_local_mounts(storage, kind):
    if kind == "local":
        name = storage.save("p.txt", ContentFile(b"p"))
        path = storage.path(name)
        assert os.path.isabs(path)
        with open(path, "rb") as handle:
            assert handle.read() == b"p"
    else:
        with pytest.raises(NotImplementedError):
            storage.path("p.txt")


def test_deconstruct_holds_only_the_mount_name(storage):
    path, args, kwargs = storage.deconstruct()
    assert path == "genro_storage_django.storage.MountStorage"
    assert args == ()
    assert kwargs == {"mount": "under_test"}


def test_move_into_a_missing_directory(storage):
    storage.save("flat.txt", ContentFile(b"f"))
    assert storage.move("flat.txt", "new/parent/flat.txt") == "new/parent/flat.txt"
    assert read_back(storage, "new/parent/flat.txt") == b"f"
    assert not storage.exists("flat.txt")
