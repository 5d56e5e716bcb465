"""The adapter contract between a mount's settings and an fsspec filesystem."""

from __future__ import annotations

import contextlib
import datetime
import functools
import importlib.util
import inspect
from collections.abc import Awaitable, Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeVar

from django.utils.translation import gettext_noop

from genro_storage_django import tenants
from genro_storage_django.exceptions import MissingExtra
from genro_storage_django.i18n import lazy_message
from genro_storage_django.object_parameters import HEADER_PARAMETERS, Rules
from genro_storage_django.schema import Mount, Option, Problem

if TYPE_CHECKING:
    import asyncio

    from fsspec import AbstractFileSystem


T = TypeVar("T")


class Digest(NamedTuple):
    """A digest of a file's bytes: ``algorithm`` is "md5", "crc32c" or "crc32"."""

    algorithm: str
    value: bytes


@dataclass(frozen=True)
class Entry:
    """One item of a directory listing, relative to the listed directory."""

    name: str
    is_dir: bool
    size: int | None = None
    modified: datetime.datetime | None = None


#: What every network backend accepts, each adapter mapping them to its SDK:
#: a dead or silent server fails a call within about
#: (connect_timeout + read_timeout) x (retries + 1) seconds, 30 by default.
NETWORK_OPTIONS: dict[str, Option] = {
    "connect_timeout": Option((int, float), default=5),
    "read_timeout": Option((int, float), default=10),
    "retries": Option((int,), default=1),
}


#: The reason of the ``TimeoutError`` a silent server gives.
TIMED_OUT = "no answer within the mount's connect_timeout and read_timeout."
#: The reason of the ``OSError`` a download whose digest is not the server's gives.
CORRUPTED = "the downloaded bytes do not match the checksum the server gave."
#: The chunks ``read_chunks()`` reads from a file object (object stores yield
#: their blocks instead); the size under which a copy reads a file in one request
#: (``transfer.listing.CHUNK_SIZE``).
READ_CHUNK = 2**20
#: For clients that do not retry (fsspec's HTTP, sftp, ftp, webdav): no ``retries``.
TIMEOUT_OPTIONS = {key: NETWORK_OPTIONS[key] for key in ("connect_timeout", "read_timeout")}


def client_timeout(options: Mapping[str, Any]) -> Any:
    """Return the ``aiohttp.ClientTimeout`` of the mount ``options``: per attempt, no total.

    A total would cut long transfers short; these bound each silence.
    """
    from aiohttp import ClientTimeout

    return ClientTimeout(
        total=None, sock_connect=options["connect_timeout"], sock_read=options["read_timeout"]
    )


def network_problems(mount_name: str, options: Mapping[str, Any]) -> list[Problem]:
    """Return the problems of the ``NETWORK_OPTIONS`` values of ``options``."""
    timeouts_ok = all(options.get(key, 1) > 0 for key in ("connect_timeout", "read_timeout"))
    if timeouts_ok and options.get("retries", 0) >= 0:
        return []
    return [
        Problem(
            "E030",
            lazy_message(
                gettext_noop(
                    "Mount %(mount)s: 'connect_timeout' and 'read_timeout' must be positive "
                    "numbers of seconds and 'retries' zero or more."
                ),
                mount=repr(mount_name),
            ),
            hint=lazy_message(
                gettext_noop("The defaults are connect_timeout=5, read_timeout=10, retries=1.")
            ),
            mount=mount_name,
        )
    ]


@dataclass(frozen=True)
class Leftover:
    """What an interrupted write left behind: invisible, but stored (and maybe paid for)."""

    #: "temporary file", "multipart upload", "uncommitted blocks"…
    kind: str
    #: The mount-relative name it was meant for, or its own name.
    name: str
    started: datetime.datetime | None
    size: int | None
    #: What ``remove_leftover()`` needs: a path, an upload id…
    handle: Any


class Backend:
    """Build and drive the fsspec filesystem of one mount.

    Subclasses declare their settings in ``options`` and implement
    ``create_filesystem()`` and ``root``; everything else has a default that
    works on any fsspec filesystem.

    Paths are fsspec paths made by ``full_path()`` from names the storage has
    already cleaned: backends never see a name that leaves the mount, and
    permissions are the storage's business.

    Errors: every operation raises builtin exceptions only, ``OSError``
    subclasses for what went wrong with a file or the service
    (``FileNotFoundError``, ``FileExistsError``, ``NotADirectoryError``,
    ``IsADirectoryError``, ``PermissionError`` for refused credentials,
    ``OSError`` for the rest), and ``NotImplementedError`` for what the backend
    cannot do. A message names the mount and the file and holds no secret:
    no credential, no signed URL, no request header. Errors of the fsspec
    class or its SDK that are not ``OSError`` pass through ``describe_error()``,
    which a backend overrides to say what they mean; the base applies that to
    every public method of this class, in subclasses too.
    """

    type_name: ClassVar[str] = ""
    options: ClassVar[dict[str, Option]] = {}
    # The pip extra (if not named as the type) and the modules it provides,
    # for the missing-extra error.
    extra: ClassVar[str | None] = None
    requires: ClassVar[tuple[str, ...]] = ()
    read_only: ClassVar[bool] = False
    #: True if every operation is a quick local call that may run on an event
    #: loop as it is (a local disk, memory): see ``event_loop()``.
    inline_io: ClassVar[bool] = False
    #: True if no operation ever waits (memory): the async API runs them
    #: inline instead of in a thread (``genro_storage_django.backends.aio``).
    no_io: ClassVar[bool] = False
    #: Bytes fetched per ranged read by the async API's ``aopen()``.
    block_size: ClassVar[int] = 8 * 2**20
    #: The object parameters (genro_storage_django.object_parameters) the mount
    #: honours: those a file keeps, plus the headers the serve view sends.
    parameters: ClassVar[frozenset[str]] = HEADER_PARAMETERS
    #: True if the files exist in this process only (memory): another process,
    #: a Celery worker, sees none of them.
    process_local: ClassVar[bool] = False
    #: True if ``find()`` and ``scandir_page()`` list one page at a time, as
    #: the server keeps the keys: in memory, one page, whatever the number of files.
    lists_in_key_order: ClassVar[bool] = False
    #: The values a parameter may take on this backend, where it is a closed list.
    parameter_choices: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.describe_error is Backend.describe_error:
            return  # nothing to translate: every error is builtin already
        for name in CONTRACT:
            method = getattr(cls, name, None)
            if method is not None and not getattr(method, "translates_errors", False):
                setattr(cls, name, _translating(method))

    def __init__(self, mount: Mount) -> None:
        self.mount = mount

    def __repr__(self) -> str:
        return f"<{type(self).__name__} mount={self.mount.name!r}>"

    # Settings

    @classmethod
    def validate(cls, mount_name: str, options: dict[str, Any]) -> list[Problem]:
        """Return the problems of ``options`` beyond key names and value types."""
        return []

    @classmethod
    def keeps_local_files(cls) -> bool:
        """Return True if the mount's files are on this machine's disk (``local_path()``)."""
        # (Unwrapped: the error translation wraps every method of the contract.)
        own = getattr(cls.local_path, "__wrapped__", cls.local_path)
        return own is not Backend.local_path

    @classmethod
    def missing_module(cls) -> str | None:
        """Return the first module of the extra that cannot be imported, or None."""
        for module in cls.requires:
            if importlib.util.find_spec(module) is None:
                return module
        return None

    @classmethod
    def require_extra(cls) -> None:
        """Raise ``MissingExtra`` naming the pip command if the extra is not installed."""
        module = cls.missing_module()
        if module is not None:
            raise MissingExtra(cls.type_name, cls.extra or cls.type_name, module)

    @classmethod
    def check(cls, mount: Mount) -> list[Problem]:
        """Return what ``manage.py check`` reports about ``mount`` beyond its settings.

        The default reports a missing extra (E011). It must not connect to anything.
        """
        module = cls.missing_module()
        if module is None:
            return []
        message = lazy_message(
            gettext_noop(
                "Mount %(mount)s of type %(type)s needs the %(module)s package, "
                "which is not installed."
            ),
            mount=repr(mount.name),
            type=repr(mount.type),
            module=repr(module),
        )
        hint = lazy_message(
            gettext_noop("Install it with: %(command)s"),
            command=f'pip install "genro-storage-django[{cls.extra or cls.type_name}]"',
        )
        return [Problem("E011", message, hint=hint, mount=mount.name)]

    def describe_error(self, error: Exception) -> tuple[type[OSError], str] | None:
        """Return the builtin error class and a secret-free reason for a library's ``error``.

        Return None for errors the backend does not know: they propagate unchanged.
        """
        return None

    # Filesystem

    @cached_property
    def fs(self) -> AbstractFileSystem:
        """The filesystem, created on first use and reused."""
        self.require_extra()
        return self.create_filesystem()

    def share_filesystem(self, other: Backend) -> None:
        """Use the filesystem (client, connections, files) of ``other``, a parent mount's."""
        self.__dict__["fs"] = other.fs

    def run_on_loop(self, function: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run the coroutine function of an async fsspec filesystem on its event loop."""
        from fsspec.asyn import sync

        return sync(self.fs.loop, function, *args, **kwargs)

    def create_filesystem(self) -> AbstractFileSystem:
        """Return a new fsspec filesystem for this mount, outside fsspec's instance cache."""
        raise NotImplementedError("subclasses of Backend must provide a create_filesystem() method")

    @cached_property
    def root(self) -> str:
        """The fsspec path of the mount's root, without a trailing slash."""
        raise NotImplementedError("subclasses of Backend must provide a root property")

    def full_path(self, name: str) -> str:
        """Return the fsspec path of ``name``, a name already normalised by the storage.

        A child mount's names lie below its sub-path (``Mount.subpath``), a
        per-tenant mount's below the current tenant's folder (``NoTenant`` if
        none is set).
        """
        mount = self.mount
        if not mount.subpath and not mount.tenant:
            return self.location(name)  # most mounts: no join on every call
        parts = [mount.subpath, tenants.folder(mount) if mount.tenant else "", name]
        return self.location("/".join(part for part in parts if part))

    def location(self, name: str) -> str:
        """Return the fsspec path of ``name`` relative to ``root``; override, not ``full_path``."""
        return f"{self.root}/{name}" if name else self.root

    @property
    def mount_root(self) -> str:
        """The fsspec path of the mount's own root: ``root``, a child's folder, a tenant's."""
        return self.full_path("")

    def relative_name(self, path: str) -> str:
        """Return the mount-relative name of an fsspec ``path`` under the mount's root."""
        path = self.fs._strip_protocol(path).rstrip("/")
        root = self.fs._strip_protocol(self.mount_root).rstrip("/")
        return path[len(root) :].lstrip("/") if path.startswith(root) else path

    # Object parameters

    @cached_property
    def rules(self) -> Rules:
        """The mount's ``object_parameters`` setting, as rules by file name."""
        mount = self.mount
        return Rules(mount.name, mount.type, mount.object_parameters, self.parameters)

    def object_parameters(
        self, path: str, given: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Return the object parameters of a file written at ``path``.

        ``given`` are the storage's (``MountStorage.get_object_parameters()``);
        None means the mount's rules for the file's name.
        """
        if given is not None:
            return dict(given)
        return self.rules.for_name(self.relative_name(path))

    def stored_parameters(self, path: str) -> dict[str, Any]:
        """Return the object parameters the file at ``path`` was stored with.

        The names are those of ``object_parameters()``; a backend that keeps
        none with its files returns ``{}``. One request on an object store.
        """
        return {}

    # Operations

    def open(self, path: str, mode: str, parameters: Mapping[str, Any] | None = None) -> IO[Any]:
        """Return a file object for ``path`` opened in ``mode`` (``rb``, ``wb``, ``r``, ``w``…).

        Reading raises ``FileNotFoundError`` for a missing file and
        ``IsADirectoryError`` (or ``FileNotFoundError``, which the storage
        turns into it) for a directory. A file opened for writing appears only
        when it is closed, with its object ``parameters`` (see
        ``object_parameters()``) where the backend stores them.
        """
        return self.fs.open(path, mode)

    def read(self, path: str) -> bytes:
        """Return the content of the file at ``path``, in one request where that applies."""
        return bytes(self.fs.cat_file(path))

    def read_chunks(self, path: str) -> Generator[bytes, None, None]:
        """Yield the content of the file at ``path`` in order, in chunks of at most
        ``block_size`` bytes, checked as a file ``open()``-ed for reading is.

        A copy streams a large file this way: object stores fetch several
        ranges at once, which hides the round trip of each. Closing the
        iterator early abandons what is still being fetched.
        """
        with self.open(path, "rb") as file:
            while chunk := file.read(READ_CHUNK):
                yield chunk

    def read_range(self, path: str, start: int, end: int) -> bytes:
        """Return bytes ``start`` to ``end`` (excluded) of the file at ``path``, in one request."""
        return bytes(self.fs.cat_file(path, start=start, end=end))

    def write(
        self,
        path: str,
        chunks: Iterable[bytes],
        overwrite: bool,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        """Stream ``chunks`` to ``path``, with its object ``parameters`` as ``open()``.

        Raise ``FileExistsError`` if ``path`` exists and ``overwrite`` is false.
        """
        if not overwrite and self.fs.exists(path):
            raise FileExistsError(path)
        stream_into(self.fs.open(path, "wb"), chunks)

    def delete(self, path: str) -> None:
        """Delete the file at ``path``; a missing file is not an error."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(path)

    def exists(self, path: str) -> bool:
        """Return True if ``path`` is a file or a directory (a key prefix on object stores)."""
        return self.fs.exists(path)

    def isdir(self, path: str) -> bool:
        """Return True if ``path`` is a directory; the mount's root always is."""
        return path == self.mount_root or self.fs.isdir(path)

    def info(self, path: str) -> dict[str, Any]:
        """Return fsspec's details of ``path``; ``FileNotFoundError`` if it does not exist."""
        return self.fs.info(path)

    def size(self, path: str) -> int:
        """Return the size in bytes of the file at ``path``; ``FileNotFoundError`` if missing."""
        return int(self.info(path)["size"])

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        """Return the names of the directories and of the files in directory ``path``.

        A missing directory lists as empty; a file raises ``NotADirectoryError``.
        """
        directories: list[str] = []
        files: list[str] = []
        for entry in self.scandir(path):
            (directories if entry.is_dir else files).append(entry.name)
        return directories, files

    def scandir(self, path: str) -> Iterator[Entry]:
        """Yield the immediate children of the directory ``path`` from one listing.

        As ``listdir()``: nothing for a missing directory, ``NotADirectoryError``
        for a file. Files carry their size and modification time.
        """
        if not self.fs.isdir(path):
            # An empty root, or a missing directory: both list as nothing,
            # like a prefix with no keys in an object store.
            if self.fs.exists(path):
                raise NotADirectoryError(path)
            return
        base = self.fs._strip_protocol(path).rstrip("/")
        for info in self.fs.ls(path, detail=True):
            name = self.fs._strip_protocol(info["name"]).rstrip("/")
            name = name[len(base) :].lstrip("/") if name.startswith(base) else name
            if name and "/" not in name:
                yield self.entry(name, info)

    def scandir_page(
        self, path: str, limit: int, token: str | None
    ) -> tuple[list[Entry], str | None]:
        """Return up to about ``limit`` children of directory ``path`` in key order, and the
        token of the next page (None after the last); ``token`` None starts the listing.

        The default lists the whole directory as one page.
        """
        return sorted(self.scandir(path), key=_key_order), None

    def entry(self, name: str, info: dict[str, Any]) -> Entry:
        """Return the listing entry called ``name`` from fsspec's ``info`` about it."""
        is_dir = info.get("type") == "directory"
        return Entry(
            name=name,
            is_dir=is_dir,
            size=None if is_dir else info.get("size"),
            modified=None if is_dir else self.modified_from_info(info),
        )

    def modified_from_info(self, info: dict[str, Any]) -> datetime.datetime | None:
        """Return the modification time found in an fsspec ``info`` dict, aware in UTC."""
        return None

    def modified_time(self, path: str) -> datetime.datetime:
        """Return the aware (UTC) modification time of the file at ``path``.

        Raise ``FileNotFoundError`` if it is missing, ``IsADirectoryError`` for a
        directory that has no time of its own (a key prefix).
        """
        info = self.info(path)
        modified = self.modified_from_info(info)
        if modified is not None:
            return modified
        if info.get("type") == "directory":
            # A key prefix has no time of its own (adlfs would raise KeyError).
            raise IsADirectoryError(path)
        return as_utc(self.fs.modified(path))

    def created_time(self, path: str) -> datetime.datetime:
        """Return the aware (UTC) creation time of ``path``.

        Raise ``NotImplementedError`` where the backend does not record it.
        """
        return as_utc(self.fs.created(path))

    def accessed_time(self, path: str) -> datetime.datetime:
        """Return the aware (UTC) last access time of ``path``.

        Raise ``NotImplementedError`` where the backend does not record it.
        """
        raise NotImplementedError(f"{self.type_name} mounts do not record access times.")

    def makedirs(self, path: str) -> None:
        """Create the directory ``path`` and its parents; an existing one is fine.

        Where directories are only key prefixes there is nothing to create.
        """
        self.fs.makedirs(path, exist_ok=True)

    def move(self, source: str, destination: str) -> None:
        """Move the file or directory ``source`` to ``destination``, creating its parents.

        The caller has checked that ``source`` exists and ``destination`` does
        not: a move never replaces data.
        """
        self.fs.mv(source, destination, recursive=True)

    def delete_tree(self, path: str) -> None:
        """Delete the directory ``path`` and everything below it."""
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)

    def url(self, path: str, name: str, signed: bool = True) -> str | None:
        """Return a URL that serves ``name`` without going through Django, or None.

        ``signed=False`` asks for an unsigned URL even where the mount signs
        its URLs (static files: a signature changes every second).
        """
        return None

    def signs_urls(self) -> bool:
        """Return True if ``url()`` signs its URLs, judged from the settings: no client is made."""
        return False

    def download_url(self, path: str, expiry: int, disposition: str | None) -> str | None:
        """Return a URL of ``path`` signed for ``expiry`` seconds, or None if none can be made.

        The response to it carries ``disposition`` as its Content-Disposition
        (when not None). Made without a request, as ``url()``.
        """
        return None

    # Direct uploads (``genro_storage_django.direct_uploads``)

    def upload_target(
        self,
        path: str,
        *,
        expiry: int,
        max_size: int,
        content_type: str,
        parameters: Mapping[str, Any],
    ) -> dict[str, Any] | None:
        """Return what a browser needs to store a file at ``path`` itself, or None.

        The answer is ``{"method", "url", "fields"}`` for a multipart POST (the
        fields first, the file last as ``file``) or ``{"method", "url",
        "headers"}`` for a PUT of the raw body with exactly those headers (and
        optionally ``blocks``, how a larger file goes in several requests). It is
        signed, without a request, for ``expiry`` seconds, a body of at most
        ``max_size`` bytes of type ``content_type``, stored with the object
        ``parameters`` where the request can carry them. None means the mount
        cannot sign one (no such API, or credentials that cannot sign): the
        app's own upload view receives the bytes instead.
        """
        return None

    def stored_type(self, info: dict[str, Any]) -> str | None:
        """Return the Content-Type stored with the file of fsspec's ``info``, or None."""
        return None

    def cors_rule(self, origins: list[str]) -> Any | None:
        """Return the bucket CORS configuration that lets pages of ``origins`` upload
        to ``upload_target()`` URLs, in the service's own terms, or None if the
        browser never leaves the site (no CORS needed).
        """
        return None

    def apply_cors(self, origins: list[str]) -> None:
        """Set ``cors_rule(origins)`` as the CORS configuration of the bucket or account.

        It replaces the existing configuration.
        """
        raise NotImplementedError(f"{self.type_name} mounts need no CORS rule.")

    def local_path(self, path: str) -> str:
        """Return the path of ``path`` on this machine's disk, for ``Storage.path()``.

        Raise ``NotImplementedError`` where files are not on the local disk.
        """
        raise NotImplementedError("This backend doesn't support absolute paths.")

    # Transfers (``genro_storage_django.transfer``)

    def find(self, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield ``(name, info)`` for every file below directory ``path``, in key order.

        ``name`` is relative to ``path``, with ``/`` separators; ``info`` is
        fsspec's. Key order compares names as Python strings, that is by code
        point, which is the order of their UTF-8 bytes: the order S3, GCS and
        Azure Blob list keys in, which lets two listings be merged as they come.
        Where ``lists_in_key_order`` is set, the listing is read one page at a
        time as it is yielded; the default collects fsspec's ``find()``, then sorts.
        """
        yield from sorted(self._found(path), key=lambda pair: pair[0])

    def _found(self, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        base = self.fs._strip_protocol(path).rstrip("/")
        start = len(self.relative_name(path))
        for found, info in self.fs.find(path, detail=True).items():
            if info.get("type", "file") != "file":
                continue
            if self.fs._strip_protocol(found).startswith(f"{base}/"):
                # relative_name() decodes what the adapter encodes (URL quoting).
                yield self.relative_name(found)[start:].lstrip("/"), info

    def checksums(self, info: dict[str, Any]) -> dict[str, str]:
        """Return the hex digests that ``info`` already holds, by ``hashlib`` algorithm name."""
        return {}

    def expected_digest(self, info: dict[str, Any]) -> Digest | None:
        """Return the digest the server computed of the whole file of fsspec's ``info``,
        which a download of it must match, or None if it gives none.

        Only a digest the server made from the bytes it stored counts: one a
        client put in the metadata may not be of these bytes.
        """
        return None

    def same_filesystem(self, other: Backend) -> bool:
        """Return True if ``other`` reaches the same files with the same credentials."""
        return other.mount == self.mount

    def copy_within(
        self,
        other: Backend,
        source: str,
        destination: str,
        parameters: Mapping[str, Any] | None = None,
    ) -> bool:
        """Copy ``source`` of this mount to ``destination`` of ``other`` without the bytes
        passing through this process; return False if the two cannot do that.

        The copy gets the object ``parameters`` (None: ``other``'s rules for
        the name, as ``object_parameters()`` says) where ``other`` stores them.
        """
        if not self.same_filesystem(other):
            return False
        self.fs.cp_file(source, destination)
        return True

    # Clean-up (``manage.py storage_cleanup``)

    def leftovers(self, older_than: datetime.timedelta) -> Iterator[Leftover]:
        """Yield what interrupted writes left under the mount's root, started before
        ``older_than`` ago: writes still going on are younger and left alone.

        The default yields nothing: the backend's writes leave nothing behind.
        """
        return iter(())

    def remove_leftover(self, leftover: Leftover) -> None:
        """Remove ``leftover``, one of ``leftovers()``; one already gone is not an error."""
        raise NotImplementedError(f"{self.type_name} mounts leave nothing to remove.")

    def set_modified(self, path: str, modified: datetime.datetime) -> bool:
        """Set the modification time of ``path``; return False if the backend cannot."""
        return False

    # Coroutines for transfers of many small files: on an async filesystem
    # they save each file the trip from a worker thread to fsspec's event loop.

    def event_loop(self) -> asyncio.AbstractEventLoop | None:
        """Return the event loop that runs this backend's ``*_async`` methods natively.

        A backend with a loop has a native ``<name>_async`` coroutine for
        every operation of the async API (``backends.aio.call()``), and
        ``put_async()`` and ``multipart_writer()`` for its writes. None means
        they are the blocking methods, which only an ``inline_io`` backend may
        have called on a loop.
        """
        return None

    async def read_async(self, path: str) -> bytes:
        """``read()`` as a coroutine."""
        return self.read(path)

    async def write_async(self, path: str, data: bytes) -> None:
        """Write ``data`` to ``path``, replacing any file there, as a coroutine."""
        self.write(path, [data], overwrite=True)

    async def copy_within_async(
        self,
        other: Backend,
        source: str,
        destination: str,
        parameters: Mapping[str, Any] | None = None,
    ) -> bool:
        """``copy_within()`` as a coroutine."""
        return self.copy_within(other, source, destination, parameters)


#: Public methods that only compute (paths, entries): no library error can come
#: out of them, and the path ones run on every operation.
_NO_IO = (
    "describe_error",
    "object_parameters",
    "relative_name",
    "full_path",
    "location",
    "entry",
    "share_filesystem",
    "stored_type",
    "cors_rule",
    "expected_digest",
)
#: Public methods whose callers translate: ``run_on_loop()`` runs the
#: coroutines of the contract's methods, which know the path to name.
_TRANSLATED_BY_CALLERS = ("run_on_loop",)
#: The operations whose errors ``describe_error()`` translates: every other
#: public method of the contract.
_SYNC_CONTRACT = frozenset(
    name
    for name, value in vars(Backend).items()
    if inspect.isfunction(value)
    and not name.startswith("_")
    and name not in _NO_IO + _TRANSLATED_BY_CALLERS
)
#: With the native coroutine twins (``<name>_async``) the async backends add,
#: ``put_async()``, the one-request write of ``backends.aio.PartWriter``, and
#: ``file_details_async()``, what ``backends.aio.open_reader()`` asks first.
CONTRACT = (
    _SYNC_CONTRACT
    | {f"{name}_async" for name in _SYNC_CONTRACT}
    | {"put_async", "file_details_async"}
)


class _Translated:
    """Turn a library's error inside the block into the builtin one ``describe_error()`` names."""

    def __init__(self, backend: Backend, args: tuple[Any, ...]) -> None:
        self.backend = backend
        self.args = args

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: Any
    ) -> None:
        if not isinstance(error, Exception):
            return  # nothing, or KeyboardInterrupt and the like
        if isinstance(error, OSError) and type(error).__module__ == "builtins":
            return  # a builtin error already (a library's OSError subclass is not)
        described = self.backend.describe_error(error)
        cause = error.__cause__
        while described is None and isinstance(cause, Exception):
            # fsspec classes wrap SDK errors: adlfs raises
            # RuntimeError("Failed to upload block: ...") from an AzureError.
            described = self.backend.describe_error(cause)
            cause = cause.__cause__
        if described is None and isinstance(error, TimeoutError):
            # fsspec's sync() turns a coroutine's timeout into FSTimeoutError(),
            # with no message: say what timed out.
            described = (TimeoutError, TIMED_OUT)
        if described is None:
            return
        error_class, reason = described
        path = self.args[0] if self.args and isinstance(self.args[0], str) else ""
        # "from None": the SDK's message may hold a signed URL or a header.
        raise error_class(message(self.backend, path, reason)) from None


def message(backend: Backend, path: str, reason: str) -> str:
    """Return the text of an error about ``path`` (or the mount, for ""): mount, name, reason."""
    name = backend.relative_name(path) if path else ""
    target = f" {name!r}" if name else ""
    return f"Mount {backend.mount.name!r}{target}: {reason}"


def translated(backend: Backend, path: str) -> contextlib.AbstractContextManager[None]:
    """Return a context in which a library's error about ``path`` becomes the builtin
    one ``backend.describe_error()`` names, as in the backend's own methods."""
    return _Translated(backend, (path,))


def _translating(method: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a backend ``method`` so that library errors come out as builtin OSErrors."""
    if inspect.iscoroutinefunction(method):

        async def coroutine(self: Backend, *args: Any, **kwargs: Any) -> Any:
            with _Translated(self, args):
                return await method(self, *args, **kwargs)

        wrapper: Callable[..., Any] = coroutine
    elif inspect.isgeneratorfunction(method):

        def generator(self: Backend, *args: Any, **kwargs: Any) -> Iterator[Any]:
            with _Translated(self, args):
                yield from method(self, *args, **kwargs)

        wrapper = generator
    else:

        def function(self: Backend, *args: Any, **kwargs: Any) -> Any:
            with _Translated(self, args):
                return method(self, *args, **kwargs)

        wrapper = function
    wrapper = functools.wraps(method)(wrapper)
    wrapper.translates_errors = True  # type: ignore[attr-defined]
    return wrapper


def _key_order(entry: Entry) -> str:
    # A folder's key is its name followed by "/".
    return f"{entry.name}/" if entry.is_dir else entry.name


def as_utc(value: datetime.datetime | float | str) -> datetime.datetime:
    """Return ``value`` (a datetime, a POSIX timestamp or an ISO 8601 string) aware in UTC."""
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc)


def stream_into(destination: IO[bytes], chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to the fsspec file ``destination`` and close (publish) it.

    On any error the file is discarded instead: closing would publish what was
    written so far (a multipart upload is aborted, the key left untouched).
    """
    try:
        for chunk in chunks:
            destination.write(chunk)
    except BaseException:
        _abandon(destination)
        raise
    destination.close()


def _abandon(file: Any) -> None:
    # Closing an fsspec file commits it: an object store would publish the
    # truncated data. Discard instead (aborts a multipart upload), then mark
    # it closed so that garbage collection does not commit it either.
    with contextlib.suppress(Exception):
        file.discard()
    with contextlib.suppress(Exception):
        file.closed = True
