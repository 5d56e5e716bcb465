"""The transfer engine: check, plan from two listings, compare, copy in a thread pool."""

from __future__ import annotations

import asyncio
import contextvars
import datetime
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from functools import cached_property
from typing import IO, Any, TypeVar

from genro_storage_django.exceptions import MountPermissionError
from genro_storage_django.storage import get_storage
from genro_storage_django.transfer.backup import Backup
from genro_storage_django.transfer.control import BandwidthLimit, Budget, Retry
from genro_storage_django.transfer.coroutines import SmallFiles, reason_of
from genro_storage_django.transfer.listing import (
    CHUNK_SIZE,
    FileStat,
    Item,
    Location,
    list_files,
    nested,
    same_content,
)
from genro_storage_django.transfer.result import FileOutcome, TransferListener, TransferResult
from genro_storage_django.transfer.rules import DEFAULT_SKIP, Selection, check_skip, verdict

T = TypeVar("T")

DEFAULT_WORKERS = 4
DEFAULT_CHECKERS = 8


class _Cancelled(Exception):
    pass


class VerifyError(OSError):
    """The destination's checksum differs from the source's after a copy."""


class Transfer(SmallFiles):
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
        files_from: Iterable[str] | None = None,
        min_size: int | None = None,
        max_size: int | None = None,
        min_age: datetime.timedelta | None = None,
        max_age: datetime.timedelta | None = None,
        workers: int = DEFAULT_WORKERS,
        checkers: int = DEFAULT_CHECKERS,
        server_side: bool = True,
        checksum_verify: bool = False,
        max_transfer: int | None = None,
        backup_dir: str | None = None,
        retries: int = 0,
        retry_delay: float = 0.5,
        bwlimit: int | None = None,
        listener: TransferListener | None = None,
    ) -> None:
        check_skip(skip)
        for option, value in (("workers", workers), ("checkers", checkers)):
            if value < 1:
                raise ValueError(f"{option} must be at least 1, not {value}.")
        self.source, self.destination = source, destination
        self.skip, self.dry_run, self.delete = skip, dry_run, delete
        self.selection = Selection.build(
            include, exclude, files_from, min_size, max_size, min_age, max_age
        )
        self.workers, self.checkers, self.server_side = workers, checkers, server_side
        self.verify = checksum_verify
        self.listener = listener or TransferListener()
        self._stop = threading.Event()
        self.retry = Retry(retries, retry_delay, self._stop)
        self.budget = Budget(max_transfer)
        self.bandwidth = BandwidthLimit(bwlimit, self._stop) if bwlimit is not None else None
        self.backup = Backup(Location.parse(backup_dir)) if backup_dir else None
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
        if nested(self.source, self.destination):
            raise ValueError(f"{self.source} and {self.destination} overlap: one is in the other.")
        if self.backup is not None:
            self.backup.check(self.destination)
        if not self._source_is_dir and not self.source_backend.exists(self._source_path()):
            raise FileNotFoundError(f"{self.source} does not exist.")
        if self.delete and not self._source_is_dir:
            raise ValueError(f"--delete needs a directory source; {self.source} is a file.")

    def _source_path(self) -> str:
        return self.source_backend.full_path(self.source.path)

    @cached_property
    def _source_is_dir(self) -> bool:
        # One request on an object store: ask once.
        return self.source_backend.isdir(self._source_path())

    # Planning, from one listing of each side

    def plan(self) -> tuple[list[Item], list[str]]:
        """Return the files to consider and the destination names to delete."""
        if not self._source_is_dir:
            return self._plan_file(), []
        sources, targets = list_files(self.source), list_files(self.destination)
        items = [
            Item(
                name,
                self.source_backend.full_path(self.source.join(name)),
                self.target_backend.full_path(self.destination.join(name)),
                stat,
                targets.get(name),
            )
            for name, stat in sorted(sources.items())
            if self.selection.selects(name, stat)
        ]
        extra = [
            name
            for name, stat in sorted(targets.items())
            if name not in sources and self.selection.selects(name, stat)
        ]
        return items, (extra if self.delete else [])

    def _plan_file(self) -> list[Item]:
        name = self.source.path.rsplit("/", 1)[-1]
        source = self._source_path()
        stat = FileStat.from_info(self.source_backend, self.source_backend.info(source))
        if not self.selection.selects(name, stat):
            return []
        destination = self.destination
        into = destination.directory or self.target_backend.isdir(
            self.target_backend.full_path(destination.path)
        )
        target = self.target_backend.full_path(destination.join(name) if into else destination.path)
        target_stat = None
        if self.target_backend.exists(target):
            target_stat = FileStat.from_info(self.target_backend, self.target_backend.info(target))
        return [Item(name, source, target, stat, target_stat)]

    # Running

    def run(self) -> TransferResult:
        """Check, plan, compare, copy, then delete; Ctrl-C stops cleanly with the result so far."""
        result = TransferResult(str(self.source), str(self.destination), self.dry_run)
        started = time.monotonic()
        try:
            # Refusals are permanent errors: only a failing service is asked again.
            self.retry.call(self.check)
            items, extra = self.retry.call(self.plan)
            verdicts = [(item, *verdict(self.skip, item.stat, item.target_stat)) for item in items]
            work = [(item, reason) for item, action, reason in verdicts if action != "skip"]
            self.listener.planned(len(work) + len(extra), sum(i.stat.size for i, _ in work))
            for item, action, reason in verdicts:
                if action == "skip":
                    self._record(result, FileOutcome(item.name, "skip", item.stat.size, reason))
            work = self._compare_all(work, result)
            if not result.interrupted:
                self._copy_all(work, result)
            if not result.interrupted:
                self._delete_all(extra, result)
            if self.bandwidth is not None:
                self.bandwidth.drain()
        except KeyboardInterrupt:
            result.interrupted = True
        result.elapsed = time.monotonic() - started
        return result

    def _record(self, result: TransferResult, outcome: FileOutcome | None) -> None:
        if outcome is not None:
            result.outcomes.append(outcome)
            self.listener.done(outcome)

    def _pool(
        self,
        size: int,
        function: Callable[[Item, str], T],
        work: Sequence[tuple[Item, str]],
        result: TransferResult,
        done: Callable[[Future[T], Item], None],
    ) -> None:
        """Run ``function`` on each of ``work`` in ``size`` threads, ``done`` on each result."""
        with ThreadPoolExecutor(size, thread_name_prefix="storage-copy") as pool:
            # Each thread runs in a copy of the caller's context (the current tenant).
            futures = {
                pool.submit(contextvars.copy_context().run, function, item, reason): item
                for item, reason in work
            }
            pending = set(futures)
            try:
                for future in as_completed(futures):
                    pending.discard(future)
                    done(future, futures[future])
            except KeyboardInterrupt:
                # Running tasks stop at their next chunk; queued ones never start.
                self._stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                result.interrupted = True
                for future in pending:
                    if not future.cancelled():
                        done(future, futures[future])

    # Comparing contents (--skip hash), ``checkers`` files at a time

    def _compare_all(
        self, work: list[tuple[Item, str]], result: TransferResult
    ) -> list[tuple[Item, str]]:
        """Return ``work`` without the files found equal, which are recorded as skipped."""
        decided = [(item, reason) for item, reason in work if reason]
        undecided = [(item, reason) for item, reason in work if not reason]

        def done(future: Future[bool], item: Item) -> None:
            try:
                same = future.result()
            except _Cancelled:
                return
            except Exception as error:
                self._record(
                    result, FileOutcome(item.name, "fail", item.stat.size, reason_of(error))
                )
                return
            if same:
                self.listener.transferred(item.stat.size)
                self._record(
                    result, FileOutcome(item.name, "skip", item.stat.size, "same checksum")
                )
            else:
                decided.append((item, "checksum differs"))

        self._pool(self.checkers, self._same_content, undecided, result, done)
        return sorted(decided, key=lambda entry: entry[0].name)

    def _same_content(self, item: Item, reason: str = "") -> bool:
        if self._stop.is_set():
            raise _Cancelled
        assert item.target_stat is not None
        return self.retry.call(
            same_content,
            (self.source_backend, item.source, item.stat),
            (self.target_backend, item.target, item.target_stat),
        )

    # Copying, ``workers`` files at a time

    def _copy_all(self, work: list[tuple[Item, str]], result: TransferResult) -> None:
        loop = self._event_loop()
        if loop is not None:
            small = [(item, reason) for item, reason in work if self._is_small(item)]
            work = [(item, reason) for item, reason in work if not self._is_small(item)]
            self._copy_small(loop, small, result)
            if result.interrupted:
                return

        def done(future: Future[FileOutcome], item: Item) -> None:
            self._record(result, _outcome(future, item))

        self._pool(self.workers, self._process, work, result, done)

    def _event_loop(self) -> asyncio.AbstractEventLoop | None:
        """Return the loop both backends can work on, or None to use threads only."""
        if self.dry_run or self.verify or self.bandwidth is not None:
            return None  # the threads do what the coroutines do not
        backends = (self.source_backend, self.target_backend)
        loops = {backend.event_loop() for backend in backends} - {None}
        if len(loops) != 1 or not all(b.event_loop() or b.inline_io for b in backends):
            return None
        return loops.pop()

    def _is_small(self, item: Item) -> bool:
        # A file to back up first goes to the threads, which do that.
        backup = self.backup is not None and item.target_stat is not None
        return item.stat.size <= CHUNK_SIZE and not backup

    def _process(self, item: Item, reason: str) -> FileOutcome:
        if self._stop.is_set():
            raise _Cancelled
        if not self.budget.take(item.stat.size):
            return FileOutcome(item.name, "defer", item.stat.size, "over max-transfer")
        backup = ""
        if self.backup is not None and item.target_stat is not None:
            backup = self.backup.where(item.name)
            if not self.dry_run:
                self.retry.call(self.backup.keep, self.target_backend, item.target, item.name)
        if not self.dry_run:
            self.retry.call(self._copy, item)
        return FileOutcome(item.name, "copy", item.stat.size, reason, backup)

    def _copy(self, item: Item) -> None:
        source, target = self.source_backend, self.target_backend
        if self.server_side and source.copy_within(target, item.source, item.target):
            self.listener.transferred(item.stat.size)
        elif item.stat.size <= CHUNK_SIZE:
            # Small files in one read: opening one would first ask for its size
            # (a HEAD request on object stores), which the listing already gave.
            data = source.read(item.source)
            self._pace(len(data))
            target.write(item.target, [data], overwrite=True)
            self.listener.transferred(len(data))
        else:
            with source.open(item.source, "rb") as file:
                target.write(item.target, self._chunks(file), overwrite=True)
        if item.stat.modified is not None:
            target.set_modified(item.target, item.stat.modified)
        if self.verify:
            self._verify(item)

    def _chunks(self, file: IO[bytes]) -> Iterator[bytes]:
        while chunk := file.read(CHUNK_SIZE):
            if self._stop.is_set():
                # Raised into the backend's write, which then drops the partial file.
                raise _Cancelled
            self._pace(len(chunk))
            yield chunk
            self.listener.transferred(len(chunk))

    def _pace(self, size: int) -> None:
        if self.bandwidth is not None:
            self.bandwidth.take(size)

    def _verify(self, item: Item) -> None:
        """Raise ``VerifyError`` (retried as a transient error) if the copy differs."""
        info = self.target_backend.info(item.target)
        copied = FileStat.from_info(self.target_backend, info)
        if copied.size != item.stat.size or not same_content(
            (self.source_backend, item.source, item.stat),
            (self.target_backend, item.target, copied),
        ):
            raise VerifyError(f"{item.name}: the copy's checksum differs from the source's.")

    # Deleting (--delete), after the copies

    def _delete_all(self, names: list[str], result: TransferResult) -> None:
        for name in names:
            if self._stop.is_set():
                return
            path = self.target_backend.full_path(self.destination.join(name))
            backup = self.backup.where(name) if self.backup is not None else ""
            try:
                if not self.dry_run:
                    if self.backup is not None:
                        self.retry.call(self.backup.keep, self.target_backend, path, name)
                    self.retry.call(self.target_backend.delete, path)
            except Exception as error:
                self._record(result, FileOutcome(name, "fail", 0, reason_of(error)))
            else:
                self._record(result, FileOutcome(name, "delete", 0, "not in source", backup))


def _outcome(future: Future[FileOutcome], item: Item) -> FileOutcome | None:
    try:
        return future.result()
    except _Cancelled:
        return None
    except Exception as error:
        return FileOutcome(item.name, "fail", item.stat.size, reason_of(error))


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
    skip: "never", "exists", "size", "size-time" (default) or "hash"
        What makes a file already done at the destination: nothing; being
        there; the same size; the same size and a destination not older than
        the source; the same checksum (the backends' own when they agree,
        else streamed).
    dry_run: bool
        Decide and report, but change nothing.
    delete: bool
        Delete destination files that the source lacks (only under
        ``destination``; files the filters leave out are kept).
    include, exclude: sequences of glob patterns
        Matched against the path relative to ``source``; ``*`` crosses ``/``.
    files_from: iterable of paths relative to ``source``
        Only these (blank lines and lines starting with ``#`` are ignored).
    min_size, max_size: int
        Only files of at least, at most, this many bytes.
    min_age, max_age: datetime.timedelta
        Only files modified at least, at most, this long ago.
    workers: int
        Files copied in parallel.
    checkers: int
        Files compared in parallel (``skip="hash"``).
    server_side: bool
        Let the backends copy without the bytes passing through this process
        when both mounts reach the same filesystem.
    checksum_verify: bool
        After each copy, compare the destination's checksum with the source's
        (from the listings where both have one, else by reading); a mismatch
        is a failure of that file.
    max_transfer: int
        Bytes to copy at most: a file that would pass the limit is not started
        (outcome ``defer``); smaller ones after it still are.
    backup_dir: "MOUNT:PATH"
        Move each destination file that a copy would replace or ``delete``
        would delete there first, under the same relative path.
    retries, retry_delay: int, float
        Attempts after the first on a transient error (throttling, 5xx,
        resets), waiting ``retry_delay`` seconds, then twice as long…
    bwlimit: int
        Bytes per second that the copies read and write at most, together
        (server-side copies are not limited).
    listener: TransferListener
        Receives the progress.

    Raise ``MountNotFound``, ``MountPermissionError``, ``FileNotFoundError`` or
    ``ValueError`` before anything is copied if the transfer cannot start;
    failures of single files are in the result instead.
    """
    return Transfer(Location.parse(source), Location.parse(destination), **options).run()
