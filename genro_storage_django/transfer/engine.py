"""The transfer engine: check, plan from two listings, copy in a thread pool."""

from __future__ import annotations

import asyncio
import contextvars
import datetime
import hashlib
import threading
import time
from collections.abc import Awaitable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cached_property
from typing import IO, Any, TypeVar

from genro_storage_django.backends.base import Backend
from genro_storage_django.exceptions import MountPermissionError
from genro_storage_django.names import clean_name
from genro_storage_django.storage import get_storage
from genro_storage_django.transfer.result import FileOutcome, TransferListener, TransferResult

T = TypeVar("T")

SKIP_RULES = ("never", "exists", "size", "hash")
# A rerun must be cheap (decided from the listings, no reads) and safe (an
# edited source is copied again): see docs/storage_copy.rst.
DEFAULT_SKIP = "size"
DEFAULT_WORKERS = 4
CHUNK_SIZE = 1024 * 1024
# Some filesystems and servers keep modification times to 1 or 2 seconds.
MTIME_TOLERANCE = datetime.timedelta(seconds=2)


@dataclass(frozen=True)
class Location:
    """A ``MOUNT:PATH`` argument: a mount name and a clean path inside it."""

    mount: str
    path: str
    # "MOUNT:dir/" names a directory even before it exists.
    directory: bool = False

    @classmethod
    def parse(cls, text: str) -> Location:
        """Return the location written ``MOUNT:PATH``; ``ValueError`` if it is not one."""
        mount, colon, path = text.partition(":")
        if not colon or not mount:
            raise ValueError(f"{text!r} is not MOUNT:PATH (for example media:photos/2024).")
        return cls(mount, clean_name(path), path.endswith("/") or not clean_name(path))

    def __str__(self) -> str:
        return f"{self.mount}:{self.path}"

    def join(self, name: str) -> str:
        return clean_name(f"{self.path}/{name}" if self.path else name)


@dataclass(frozen=True)
class FileStat:
    """What a listing says about one file."""

    size: int
    modified: datetime.datetime | None = None
    checksums: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_info(cls, backend: Backend, info: dict[str, Any]) -> FileStat:
        return cls(
            int(info.get("size") or 0), backend.modified_from_info(info), backend.checksums(info)
        )


class _Cancelled(Exception):
    pass


@dataclass(frozen=True)
class _Item:
    name: str  # relative to the source location: what users see
    source: str  # fsspec paths
    target: str
    stat: FileStat
    target_stat: FileStat | None


class Transfer:
    """One copy from ``source`` to ``destination``; see ``copy()`` for the parameters."""

    def __init__(
        self,
        source: Location,
        destination: Location,
        *,
        skip: str = DEFAULT_SKIP,
        dry_run: bool = False,
        delete: bool = False,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        workers: int = DEFAULT_WORKERS,
        server_side: bool = True,
        listener: TransferListener | None = None,
    ) -> None:
        if skip not in SKIP_RULES:
            raise ValueError(f"skip must be one of {', '.join(SKIP_RULES)}, not {skip!r}.")
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}.")
        self.source, self.destination = source, destination
        self.skip, self.dry_run, self.delete = skip, dry_run, delete
        self.include, self.exclude = tuple(include), tuple(exclude)
        self.workers, self.server_side = workers, server_side
        self.listener = listener or TransferListener()
        self._stop = threading.Event()
        source_storage, target_storage = get_storage(source.mount), get_storage(destination.mount)
        self.source_mount, self.target_mount = source_storage.mount, target_storage.mount
        self.source_backend, self.target_backend = source_storage.backend, target_storage.backend

    # Refusals, before anything moves

    def check(self) -> None:
        """Raise if the transfer must not start: permissions, overlap, missing source."""
        target = self.target_mount
        path = self.destination.path
        if not target.can_write:
            raise MountPermissionError(target.name, "write", path, target.permissions)
        if self.delete and not target.can_delete:
            raise MountPermissionError(target.name, "delete", path, target.permissions)
        if self._overlap():
            raise ValueError(f"{self.source} and {self.destination} overlap: one is in the other.")
        if not self._source_is_dir and not self.source_backend.exists(self._source_path()):
            raise FileNotFoundError(f"{self.source} does not exist.")
        if self.delete and not self._source_is_dir:
            raise ValueError(f"--delete needs a directory source; {self.source} is a file.")

    def _overlap(self) -> bool:
        if not self.source_backend.same_filesystem(self.target_backend):
            return False
        source = self._source_path().replace("\\", "/").rstrip("/") + "/"
        target = self.target_backend.full_path(self.destination.path)
        target = target.replace("\\", "/").rstrip("/") + "/"
        return target.startswith(source) or source.startswith(target)

    def _source_path(self) -> str:
        return self.source_backend.full_path(self.source.path)

    @cached_property
    def _source_is_dir(self) -> bool:
        # One request on an object store: ask once.
        return self.source_backend.isdir(self._source_path())

    # Planning, from one listing of each side

    def _selected(self, name: str) -> bool:
        if self.include and not any(fnmatchcase(name, pattern) for pattern in self.include):
            return False
        return not any(fnmatchcase(name, pattern) for pattern in self.exclude)

    def _listing(self, backend: Backend, location: Location) -> dict[str, FileStat]:
        found = {}
        for name, info in backend.find(backend.full_path(location.path)):
            if info.get("size") is None:
                # Some listings (HTTP index pages) give names only: ask for the size.
                info = backend.info(backend.full_path(location.join(name)))
            found[name] = FileStat.from_info(backend, info)
        return found

    def plan(self) -> tuple[list[_Item], list[str]]:
        """Return the files to consider and the destination names to delete."""
        if not self._source_is_dir:
            return self._plan_file(), []
        sources = self._listing(self.source_backend, self.source)
        targets = self._listing(self.target_backend, self.destination)
        items = [
            _Item(
                name,
                self.source_backend.full_path(self.source.join(name)),
                self.target_backend.full_path(self.destination.join(name)),
                stat,
                targets.get(name),
            )
            for name, stat in sorted(sources.items())
            if self._selected(name)
        ]
        extra = [name for name in sorted(targets) if name not in sources and self._selected(name)]
        return items, (extra if self.delete else [])

    def _plan_file(self) -> list[_Item]:
        name = self.source.path.rsplit("/", 1)[-1]
        if not self._selected(name):
            return []
        destination = self.destination
        into = destination.directory or self.target_backend.isdir(
            self.target_backend.full_path(destination.path)
        )
        target = self.target_backend.full_path(destination.join(name) if into else destination.path)
        source = self._source_path()
        target_stat = None
        if self.target_backend.exists(target):
            target_stat = FileStat.from_info(self.target_backend, self.target_backend.info(target))
        return [_Item(name, source, target, self._stat(source), target_stat)]

    def _stat(self, path: str) -> FileStat:
        return FileStat.from_info(self.source_backend, self.source_backend.info(path))

    def verdict(self, item: _Item) -> tuple[str, str]:
        """Return ``(action, reason)`` from the listings: copy, skip, or hash to decide later."""
        target = item.target_stat
        if self.skip == "never":
            return "copy", "always copy"
        if target is None:
            return "copy", "new"
        if self.skip == "exists":
            return "skip", "exists"
        if target.size != item.stat.size:
            return "copy", "size differs"
        if self.skip == "hash":
            return "hash", ""  # decided by a worker: reading may be needed
        modified = item.stat.modified
        if modified and target.modified and target.modified < modified - MTIME_TOLERANCE:
            return "copy", "source is newer"
        return "skip", "same size"

    # Running

    def run(self) -> TransferResult:
        """Check, plan, copy, then delete; Ctrl-C stops cleanly with the result so far."""
        result = TransferResult(str(self.source), str(self.destination), self.dry_run)
        started = time.monotonic()
        try:
            self.check()
            items, extra = self.plan()
            verdicts = [(item, *self.verdict(item)) for item in items]
            work = [(item, reason) for item, action, reason in verdicts if action != "skip"]
            self.listener.planned(len(work) + len(extra), sum(i.stat.size for i, _ in work))
            for item, action, reason in verdicts:
                if action == "skip":
                    self._record(result, FileOutcome(item.name, "skip", item.stat.size, reason))
            self._copy_all(work, result)
            if not result.interrupted:
                self._delete_all(extra, result)
        except KeyboardInterrupt:
            result.interrupted = True
        result.elapsed = time.monotonic() - started
        return result

    def _record(self, result: TransferResult, outcome: FileOutcome | None) -> None:
        if outcome is not None:
            result.outcomes.append(outcome)
            self.listener.done(outcome)

    def _copy_all(self, work: list[tuple[_Item, str]], result: TransferResult) -> None:
        loop = self._event_loop()
        if loop is not None:
            small = [(item, reason) for item, reason in work if _is_small(item, reason)]
            work = [(item, reason) for item, reason in work if not _is_small(item, reason)]
            self._copy_small(loop, small, result)
            if result.interrupted:
                return
        with ThreadPoolExecutor(self.workers, thread_name_prefix="storage-copy") as pool:
            # Each worker runs in a copy of the caller's context (the current tenant).
            futures = {
                pool.submit(contextvars.copy_context().run, self._process, item, reason): item
                for item, reason in work
            }
            pending = set(futures)
            try:
                for future in as_completed(futures):
                    pending.discard(future)
                    self._record(result, _outcome(future, futures[future]))
            except KeyboardInterrupt:
                # Running copies stop at their next chunk; queued ones never start.
                self._stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                result.interrupted = True
                for future in pending:
                    if not future.cancelled():
                        self._record(result, _outcome(future, futures[future]))

    # Many small files, on an async filesystem: coroutines on its event loop
    # rather than threads (each file would otherwise cross from a worker thread
    # to the loop and back: a fifth of the CPU of an S3 → local copy).

    def _event_loop(self) -> asyncio.AbstractEventLoop | None:
        """Return the loop both backends can work on, or None to use threads only."""
        if self.dry_run:
            return None
        backends = (self.source_backend, self.target_backend)
        loops = {backend.event_loop() for backend in backends} - {None}
        if len(loops) != 1 or not all(b.event_loop() or b.inline_io for b in backends):
            return None
        return loops.pop()

    def _copy_small(
        self, loop: asyncio.AbstractEventLoop, work: list[tuple[_Item, str]], result: TransferResult
    ) -> None:
        coroutine = _in_context(contextvars.copy_context(), self._copy_small_files(work, result))
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        try:
            future.result()
        except KeyboardInterrupt:
            # Running copies finish; queued ones never start.
            self._stop.set()
            result.interrupted = True
            future.result()

    async def _copy_small_files(
        self, work: list[tuple[_Item, str]], result: TransferResult
    ) -> None:
        queue = iter(work)  # shared by the workers: they all run in this one thread

        async def worker() -> None:
            for item, reason in queue:
                if self._stop.is_set():
                    return
                try:
                    try:
                        outcome = await self._copy_small_file(item, reason)
                    except Exception as error:
                        outcome = FileOutcome(item.name, "fail", item.stat.size, _reason(error))
                    self._record(result, outcome)
                except KeyboardInterrupt:
                    # Raised by a listener: out on the event loop it would stop
                    # the loop itself, which every later fsspec call needs.
                    self._stop.set()
                    result.interrupted = True
                    return
                except BaseException:
                    self._stop.set()  # the other workers stop at their next file
                    raise

        # Wait for every worker before raising: nothing runs on once copy() returns.
        ended = await asyncio.gather(
            *(worker() for _ in range(self.workers)), return_exceptions=True
        )
        for error in ended:
            if isinstance(error, BaseException):
                raise error

    async def _copy_small_file(self, item: _Item, reason: str) -> FileOutcome:
        source, target = self.source_backend, self.target_backend
        if not (
            self.server_side and await source.copy_within_async(target, item.source, item.target)
        ):
            await target.write_async(item.target, await source.read_async(item.source))
        self.listener.transferred(item.stat.size)
        if item.stat.modified is not None:
            target.set_modified(item.target, item.stat.modified)
        return FileOutcome(item.name, "copy", item.stat.size, reason)

    def _process(self, item: _Item, reason: str) -> FileOutcome:
        if self._stop.is_set():
            raise _Cancelled
        if not reason:
            if self._same_content(item):
                self.listener.transferred(item.stat.size)
                return FileOutcome(item.name, "skip", item.stat.size, "same checksum")
            reason = "checksum differs"
        if not self.dry_run:
            self._copy(item)
        return FileOutcome(item.name, "copy", item.stat.size, reason)

    def _copy(self, item: _Item) -> None:
        source, target = self.source_backend, self.target_backend
        if self.server_side and source.copy_within(target, item.source, item.target):
            self.listener.transferred(item.stat.size)
        elif item.stat.size <= CHUNK_SIZE:
            # Small files in one read: opening one would first ask for its size
            # (a HEAD request on object stores), which the listing already gave.
            data = source.read(item.source)
            target.write(item.target, [data], overwrite=True)
            self.listener.transferred(len(data))
        else:
            with source.open(item.source, "rb") as file:
                target.write(item.target, self._chunks(file), overwrite=True)
        if item.stat.modified is not None:
            target.set_modified(item.target, item.stat.modified)

    def _chunks(self, file: IO[bytes]) -> Iterator[bytes]:
        while chunk := file.read(CHUNK_SIZE):
            if self._stop.is_set():
                # Raised into the backend's write, which then drops the partial file.
                raise _Cancelled
            yield chunk
            self.listener.transferred(len(chunk))

    def _same_content(self, item: _Item) -> bool:
        assert item.target_stat is not None
        known, other = item.stat.checksums, item.target_stat.checksums
        common = sorted(set(known) & set(other))
        if common:
            return known[common[0]] == other[common[0]]
        # Hash both sides with an algorithm one side already knows, to read only the other.
        usable = [name for name in (*known, *other) if name in hashlib.algorithms_available]
        algorithm = usable[0] if usable else "sha256"
        return _digest(self.source_backend, item.source, known, algorithm) == _digest(
            self.target_backend, item.target, other, algorithm
        )

    def _delete_all(self, names: list[str], result: TransferResult) -> None:
        for name in names:
            if self._stop.is_set():
                return
            path = self.target_backend.full_path(self.destination.join(name))
            try:
                if not self.dry_run:
                    self.target_backend.delete(path)
            except Exception as error:
                self._record(result, FileOutcome(name, "fail", 0, _reason(error)))
            else:
                self._record(result, FileOutcome(name, "delete", 0, "not in source"))


def _is_small(item: _Item, reason: str) -> bool:
    # An empty reason asks for a checksum comparison first: the threads do that.
    return bool(reason) and item.stat.size <= CHUNK_SIZE


def _outcome(future: Future[FileOutcome], item: _Item) -> FileOutcome | None:
    try:
        return future.result()
    except _Cancelled:
        return None
    except Exception as error:
        return FileOutcome(item.name, "fail", item.stat.size, _reason(error))


def _reason(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _digest(backend: Backend, path: str, known: Mapping[str, str], algorithm: str) -> str:
    if algorithm in known:
        return known[algorithm]
    digest = hashlib.new(algorithm)
    with backend.open(path, "rb") as file:
        while chunk := file.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def copy(
    source: str,
    destination: str,
    **options: Any,
) -> TransferResult:
    """Copy ``source`` to ``destination``, both ``MOUNT:PATH``, and return the result.

    A directory is copied recursively; a file is copied to ``destination``, or
    into it when it is a directory (or ends with ``/``).

    Parameters
    ----------
    skip: "never", "exists", "size" (default) or "hash"
        What makes a file already done at the destination: nothing; being
        there; the same size and a destination not older than the source;
        the same checksum (the backends' own when they agree, else streamed).
    dry_run: bool
        Decide and report, but change nothing.
    delete: bool
        Delete destination files that the source lacks (only under
        ``destination``; files excluded by the filters are kept).
    include, exclude: sequences of glob patterns
        Matched against the path relative to ``source``; ``*`` crosses ``/``.
    workers: int
        Files copied in parallel.
    server_side: bool
        Let the backends copy without the bytes passing through this process
        when both mounts reach the same filesystem.
    listener: TransferListener
        Receives the progress.

    Raise ``MountNotFound``, ``MountPermissionError``, ``FileNotFoundError`` or
    ``ValueError`` before anything is copied if the transfer cannot start;
    failures of single files are in the result instead.
    """
    return Transfer(Location.parse(source), Location.parse(destination), **options).run()


async def _in_context(context: contextvars.Context, coroutine: Awaitable[T]) -> T:
    """Await ``coroutine`` with the variables of ``context`` (a task on another thread's loop)."""
    for variable, value in context.items():
        variable.set(value)
    return await coroutine
