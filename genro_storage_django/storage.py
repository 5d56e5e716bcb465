"""``MountStorage``: a Django ``Storage`` over the fsspec filesystem of one mount."""

from __future__ import annotations

import datetime
import threading
from functools import cached_property
from typing import IO, Any, ClassVar
from urllib.parse import urljoin

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.files.storage import Storage
from django.core.signals import setting_changed
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import filepath_to_uri

from genro_storage_django import download
from genro_storage_django.async_storage import AsyncStorageMixin, byte_chunks
from genro_storage_django.backends import backend_class
from genro_storage_django.backends.base import Backend, Entry
from genro_storage_django.conf import get_config, get_mount
from genro_storage_django.exceptions import MountPermissionError
from genro_storage_django.names import clean_name
from genro_storage_django.schema import MOUNT_NAME_RE, Mount

_WRITE_FLAGS = frozenset("wax+")


class MountFile(File):
    """A file opened from a mount; ``open()`` after ``close()`` reopens it from the mount.

    Django's ``File.open()`` would reopen ``name`` from the local disk, relative
    to the working directory: never the right file for a mount.
    """

    def __init__(self, file: IO[Any], name: str, storage: MountStorage, mode: str) -> None:
        super().__init__(file, name)
        self.mode = mode
        self._storage = storage

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> MountFile:
        if not self.closed:
            self.seek(0)
            return self
        self.mode = mode or self.mode
        self.file = self._storage._open_file(str(self.name), self.mode)
        # The file may have changed since it was last opened.
        self.__dict__.pop("size", None)
        return self


class MountStorage(AsyncStorageMixin, Storage):
    """A storage for the mount named ``mount`` in ``settings.STORAGE_MOUNTS``.

    Works on any fsspec filesystem: everything specific to a mount type lives
    in its backend adapter (``genro_storage_django.backends``).

    ``MountStorage(mount="media")`` is an instance of the mount's own class,
    ``genro_storage_django.storage.MediaMountStorage``: that class can be
    imported by its dotted path and built without arguments (as pickle and
    sorl-thumbnail do), and gives a storage of the same mount.
    """

    #: Set on the per-mount subclasses made by ``storage_class()``.
    mount_name: ClassVar[str | None] = None
    #: Bytes read from the source at a time by ``save()``.
    chunk_size: ClassVar[int] = 1024 * 1024
    #: False gives unsigned URLs even on a mount that signs them.
    signed_urls: ClassVar[bool] = True

    def __new__(cls, mount: str | None = None, *args: Any, **kwargs: Any) -> MountStorage:
        if cls is MountStorage and mount and MOUNT_NAME_RE.match(mount):
            cls = storage_class(mount)
        return super().__new__(cls)

    def __init__(self, mount: str | None = None) -> None:
        bound = type(self).mount_name
        if mount and bound and mount != bound:
            raise ImproperlyConfigured(
                f"{type(self).__name__} is the storage of the {bound!r} mount, not of {mount!r}."
            )
        name = mount or bound
        if not name:
            raise ImproperlyConfigured(
                "MountStorage needs a mount name: MountStorage(mount='media'), or "
                "OPTIONS={'mount': 'media'} in the STORAGES setting."
            )
        self._mount_name = name
        setting_changed.connect(self._clear_cached_properties)

    def __getstate__(self) -> dict[str, Any]:
        # The mount and its backend (clients, locks, event loops) are looked up
        # again after unpickling: only the name travels.
        state = self.__dict__.copy()
        for key in ("mount", "backend"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        setting_changed.connect(self._clear_cached_properties)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} mount={self._mount_name!r}>"

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        # Only the mount name: migrations hold no settings and no secret.
        return ("genro_storage_django.storage.MountStorage", (), {"mount": self._mount_name})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MountStorage):
            return NotImplemented
        return self._mount_name == other._mount_name

    def __hash__(self) -> int:
        return hash((MountStorage, self._mount_name))

    def _clear_cached_properties(self, setting: str, **kwargs: Any) -> None:
        if setting == "STORAGE_MOUNTS":
            self.__dict__.pop("mount", None)
            self.__dict__.pop("backend", None)

    @cached_property
    def mount(self) -> Mount:
        """The validated settings of this storage's mount."""
        return get_mount(self._mount_name)

    @cached_property
    def backend(self) -> Backend:
        """The adapter driving the mount's fsspec filesystem (created lazily).

        Raise ``MissingExtra``, naming the pip command, if the mount type needs
        an optional dependency that is not installed.
        """
        return backend_for(self.mount)

    @property
    def file_overwrite(self) -> bool:
        return self.mount.file_overwrite

    # Helpers

    def _path(self, name: str) -> str:
        return self.backend.full_path(clean_name(name))

    def _require(self, operation: str, name: str) -> None:
        allowed = self.mount.can_delete if operation == "delete" else self.mount.can_write
        if not allowed:
            raise MountPermissionError(self.mount.name, operation, name, self.mount.permissions)

    def _datetime(self, value: datetime.datetime) -> datetime.datetime:
        if settings.USE_TZ:
            return value
        return timezone.make_naive(value, timezone.get_default_timezone())

    # The Storage contract

    def _open(self, name: str, mode: str = "rb") -> File:
        return MountFile(self._open_file(name, mode), clean_name(name), self, mode)

    def _open_file(self, name: str, mode: str) -> IO[Any]:
        if _WRITE_FLAGS.intersection(mode):
            self._require("write", name)
        path = self._path(name)
        parameters = self.get_object_parameters(name) if _WRITE_FLAGS.intersection(mode) else None
        try:
            return self.backend.open(path, mode, parameters)
        except FileNotFoundError:
            # One error for a directory on every backend, as open() gives.
            if path != self.backend.mount_root and self.backend.isdir(path):
                raise IsADirectoryError(clean_name(name)) from None
            raise

    def _save(self, name: str, content: File) -> str:
        self._require("write", name)
        while True:
            try:
                chunks = byte_chunks(content, self.chunk_size)
                parameters = self.get_object_parameters(name)
                self.backend.write(self._path(name), chunks, self.file_overwrite, parameters)
            except FileExistsError:
                if not self.exists(name):
                    raise  # a parent of the name is a file: no other name helps
                # Another writer took the name since get_available_name().
                name = self.get_available_name(name)
            else:
                return clean_name(name)

    def get_alternative_name(self, file_root: str, file_ext: str) -> str:
        if self.file_overwrite:
            # As FileSystemStorage(allow_overwrite=True): no suffix, so a name
            # longer than max_length is cut to fit instead.
            return f"{file_root}{file_ext}"
        return super().get_alternative_name(file_root, file_ext)

    def is_name_available(self, name: str, max_length: int | None = None) -> bool:
        if self.file_overwrite:
            return not (max_length and len(name) > max_length)
        return super().is_name_available(name, max_length=max_length)

    def delete(self, name: str) -> None:
        if not name:
            raise ValueError("The name must be given to delete().")
        self._require("delete", name)
        self.backend.delete(self._path(name))

    def exists(self, name: str) -> bool:
        return self.backend.exists(self._path(name))

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return self.backend.listdir(self._path(path))

    def size(self, name: str) -> int:
        return self.backend.size(self._path(name))

    def url(self, name: str | None) -> str:
        name = clean_name(name or "")
        base_url = self.mount.base_url
        if base_url:
            base_url = base_url if base_url.endswith("/") else f"{base_url}/"
            return urljoin(base_url, filepath_to_uri(name))
        direct = self.backend.url(self.backend.full_path(name), name, signed=self.signed_urls)
        if direct:
            return direct
        if self.mount.serve:
            return reverse(
                "genro_storage_django:serve", kwargs={"mount": self.mount.name, "path": name}
            )
        raise ValueError("This file is not accessible via a URL.")

    def url_for(
        self,
        name: str,
        *,
        expires_in: int | None = None,
        download_name: str | None = None,
        inline: bool | None = None,
    ) -> str:
        """Return a signed URL of ``name``, valid ``expires_in`` seconds (the mount's
        ``url_expiry`` by default).

        ``download_name`` names the file the browser saves (``Content-Disposition:
        attachment; filename=...``), ``inline=True`` asks it to show the file
        instead. The object store signs the URL where it can; otherwise, on a
        mount with ``serve``, the serve view does, with ``django.core.signing``.
        Raise ``ValueError`` if neither can.
        """
        return download.url_for(self.backend, name, expires_in, download_name, inline)

    def upload_target(
        self,
        name: str,
        *,
        max_size: int,
        content_type: str | None = None,
        expires_in: int | None = None,
    ) -> dict[str, Any]:
        """Return what a browser needs to store a file under ``name`` itself.

        Parameters
        ----------
        name : the wished name; ``get_available_name()`` applies unless the
            mount overwrites. On an overwriting ``readwrite`` mount an existing
            name is refused (``UploadRefused``, code "exists"): it may not be
            replaced.
        max_size : the largest body, in bytes, the target accepts.
        content_type : the only Content-Type accepted; by default the mount's
            object parameters' or the one the name suggests.
        expires_in : seconds the target is valid (the mount's ``url_expiry``).

        The answer (genro_storage_django.direct_uploads) is ``{"method",
        "url", "fields"}`` (a multipart POST, ``file`` last) or ``{"method",
        "url", "headers"}`` (a PUT of the raw body), with the final ``name``
        and the ``ticket`` that ``direct_uploads.verify()`` checks. A PUT
        target may also carry ``blocks`` (azure): a file larger than
        ``blocks["size"]`` is sent in blocks instead (see
        ``backends.azure.blocks``; ``direct_upload.js`` does). Raise
        ``MountPermissionError`` on a read-only mount.
        """
        from genro_storage_django import direct_uploads

        return direct_uploads.target(self, name, max_size, content_type, expires_in)

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        """Return the object parameters of the file ``name`` when it is written.

        The mount's ``object_parameters`` rules give them
        (genro_storage_django.object_parameters); override this method to
        compute them otherwise. The serve view sends the same headers.
        """
        return self.backend.rules.for_name(clean_name(name))

    def signs_urls(self) -> bool:
        """Return True if ``url()`` gives signed URLs (they change with every call)."""
        return self.signed_urls and not self.mount.base_url and self.backend.signs_urls()

    def path(self, name: str) -> str:
        return self.backend.local_path(self._path(name))

    def get_accessed_time(self, name: str) -> datetime.datetime:
        return self._datetime(self.backend.accessed_time(self._path(name)))

    def get_created_time(self, name: str) -> datetime.datetime:
        return self._datetime(self.backend.created_time(self._path(name)))

    def get_modified_time(self, name: str) -> datetime.datetime:
        return self._datetime(self.backend.modified_time(self._path(name)))

    # Beyond Django's contract: what the admin browser and transfers need.

    def scandir(self, path: str = "") -> list[Entry]:
        """Return the immediate children of directory ``path`` from one listing.

        A missing directory lists as empty, as a key prefix with no keys does.
        """
        return [self._local_entry(entry) for entry in self.backend.scandir(self._path(path))]

    def _local_entry(self, entry: Entry) -> Entry:
        if entry.modified is None:
            return entry
        return Entry(entry.name, entry.is_dir, entry.size, self._datetime(entry.modified))

    def isdir(self, name: str) -> bool:
        """Return True if ``name`` is a directory (or a key prefix) of the mount."""
        return self.backend.isdir(self._path(name))

    def makedirs(self, name: str) -> None:
        """Create directory ``name`` and its parents; an existing directory is fine."""
        self._require("write", name)
        self.backend.makedirs(self._path(name))

    def move(self, old_name: str, new_name: str) -> str:
        """Rename ``old_name`` (a file or a directory) to ``new_name`` within the mount.

        Raise ``FileExistsError`` if ``new_name`` exists: a move never replaces data.
        """
        self._require("write", new_name)
        source, destination = self._path(old_name), self._path(new_name)
        if not self.backend.exists(source):
            raise FileNotFoundError(clean_name(old_name))
        if self.backend.exists(destination):
            raise FileExistsError(clean_name(new_name))
        self.backend.move(source, destination)
        return clean_name(new_name)

    def delete_tree(self, name: str) -> None:
        """Delete directory ``name`` with everything below it."""
        if not clean_name(name):
            raise ValueError("delete_tree() refuses to delete the root of a mount.")
        self._require("delete", name)
        self.backend.delete_tree(self._path(name))


_classes: dict[str, type[MountStorage]] = {}
_instances: dict[str, MountStorage] = {}
_lock = threading.Lock()


_backends: dict[str, Backend] = {}


def backend_for(mount: Mount) -> Backend:
    """Return the one adapter (and so one filesystem) of ``mount`` in this process.

    Every ``MountStorage`` of a mount shares it: a memory mount stays one
    namespace however many storages point at it, and cloud clients are reused.
    """
    # A child mount shares its parent's filesystem: one client, one pool.
    parent = backend_for(get_mount(mount.parent)) if mount.parent else None
    with _lock:
        backend = _backends.get(mount.name)
        if backend is None or backend.mount is not mount:
            adapter = backend_class(mount.type)
            adapter.require_extra()
            backend = _backends[mount.name] = adapter(mount)
            if parent is not None:
                backend.share_filesystem(parent)
        return backend


def class_name(mount: str) -> str:
    """Return the name of the storage class of ``mount`` (``MediaMountStorage`` for "media")."""
    words = mount.replace("-", "_").replace(".", "_").split("_")
    return "".join(word[:1].upper() + word[1:] for word in words) + "MountStorage"


def storage_class(mount: str) -> type[MountStorage]:
    """Return the ``MountStorage`` subclass bound to ``mount`` (one class per mount).

    It is importable as ``genro_storage_django.storage.<class_name(mount)>``.
    """
    with _lock:
        if mount not in _classes:
            _classes[mount] = type(
                class_name(mount),
                (MountStorage,),
                {
                    "mount_name": mount,
                    "__module__": __name__,
                    "__doc__": f"Storage of the {mount!r} mount.",
                },
            )
        return _classes[mount]


def get_storage(mount: str) -> MountStorage:
    """Return the storage of ``mount``: the same instance on every call in a process.

    Settings are read on first use, not here, so this is safe in ``models.py``:
    the first operation on an undefined mount raises ``MountNotFound`` (an
    ``ImproperlyConfigured``) listing the defined mounts.
    """
    with _lock:
        storage = _instances.get(mount)
    if storage is None:
        if mount not in get_config().mounts:
            # Not cached: unknown names must not pile up (it raises on first use).
            return MountStorage(mount=mount)
        storage = storage_class(mount)()
        with _lock:
            storage = _instances.setdefault(mount, storage)
    return storage


def __getattr__(name: str) -> type[MountStorage]:
    # The per-mount classes, by name, for pickle and for dotted paths.
    if name.endswith("MountStorage") and name != "MountStorage":
        with _lock:
            made = [made for made in _classes.values() if made.__name__ == name]
        if made:
            return made[0]
        for mount in get_config().mounts:
            if class_name(mount) == name:
                return storage_class(mount)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def reset_storages(*, setting: str, **kwargs: Any) -> None:
    """Forget the storages of ``get_storage()`` when ``STORAGE_MOUNTS`` changes."""
    if setting == "STORAGE_MOUNTS":
        with _lock:
            _instances.clear()
            _backends.clear()
