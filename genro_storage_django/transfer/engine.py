"""The transfer engine: check, then compare and copy as two merged listings decide."""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property, partial
from typing import Any

from django.utils.translation import gettext as _

from genro_storage_django.exceptions import MountPermissionError
from genro_storage_django.storage import get_storage
from genro_storage_django.transfer.backup import Backup
from genro_storage_django.transfer.control import BandwidthLimit, Budget, Retry
from genro_storage_django.transfer.coroutines import reason_of
from genro_storage_django.transfer.execution import Execution
from genro_storage_django.transfer.files import FileCopier
from genro_storage_django.transfer.listing import (
    FileStat,
    Item,
    Location,
    missing,
    nested,
    overlap,
)
from genro_storage_django.transfer.ordered import ordered_files
from genro_storage_django.transfer.plan import Decision, Plan, merge
from genro_storage_django.transfer.result import FileOutcome, TransferListener, TransferResult
from genro_storage_django.transfer.rules import DEFAULT_SKIP, SKIP_RULES, Selection, verdict
from genro_storage_django.transfer.units import check_choice, check_positive

DEFAULT_WORKERS = 4
DEFAULT_CHECKERS = 8
#: Small files copied at once as coroutines (one request each): enough to hide
#: 20-50 ms round trips, whatever the threads; at most 1 MiB each in memory.
DEFAULT_IN_FLIGHT = 32
ENGINES = ("threads", "celery")
#: The options of ``engine="celery"`` (``fanout.Fanout``'s).
CELERY_OPTIONS = ("shard_files", "shard_size", "celery_timeout", "poll")

Merged = tuple[str, FileStat | None, FileStat | None]


def _check_options(
    skip: str, engine: str, counts: tuple[int, int, int], celery: dict[str, Any]
) -> None:
    check_choice("skip", skip, SKIP_RULES)
    check_choice("engine", engine, ENGINES)
    for option, value in zip(("workers", "checkers", "in_flight"), counts, strict=True):
        check_positive(option, value)
    unknown = set(celery) - set(CELERY_OPTIONS)
    if unknown:
        # What Python says of a call with a wrong keyword: a bug of the caller, in English.
        raise TypeError(f"Unexpected options: {', '.join(sorted(unknown))}.")
    if celery and engine != "celery":
        message = _("%(options)s: only with engine='celery'.")
        raise ValueError(message % {"options": ", ".join(sorted(celery))})


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
        files_from: Iterable[str] | None = None,
        min_size: int | None = None,
        max_size: int | None = None,
        min_age: datetime.timedelta | None = None,
        max_age: datetime.timedelta | None = None,
        workers: int = DEFAULT_WORKERS,
        checkers: int = DEFAULT_CHECKERS,
        in_flight: int = DEFAULT_IN_FLIGHT,
        server_side: bool = True,
        checksum_verify: bool = False,
        keep_parameters: bool = False,
        max_transfer: int | None = None,
        backup_dir: str | None = None,
        retries: int = 0,
        retry_delay: float = 0.5,
        bwlimit: int | None = None,
        listener: TransferListener | None = None,
        engine: str = "threads",
        **celery: Any,
    ) -> None:
        _check_options(skip, engine, (workers, checkers, in_flight), celery)
        self.source, self.destination = source, destination
        self.skip, self.dry_run, self.delete = skip, dry_run, delete
        self.selection = Selection.build(
            include, exclude, files_from, min_size, max_size, min_age, max_age
        )
        self.workers, self.checkers, self.in_flight = workers, checkers, in_flight
        self.listener = listener or TransferListener()
        self.engine, self.celery = engine, celery
        # What a Celery task needs to run the same engine on its shard.
        self.options = {
            "skip": skip,
            "dry_run": dry_run,
            "workers": workers,
            "checkers": checkers,
            "in_flight": in_flight,
            "server_side": server_side,
            "checksum_verify": checksum_verify,
            "keep_parameters": keep_parameters,
            "backup_dir": backup_dir,
            "retries": retries,
            "retry_delay": retry_delay,
            "bwlimit": bwlimit,
            "max_transfer": max_transfer,
        }
        self._stop = threading.Event()
        self.retry = Retry(retries, retry_delay, self._stop)
        self.backup = Backup(Location.parse(backup_dir)) if backup_dir else None
        source_storage, target_storage = get_storage(source.mount), get_storage(destination.mount)
        self.source_mount, self.target_mount = source_storage.mount, target_storage.mount
        self.source_backend, self.target_backend = source_storage.backend, target_storage.backend
        self.files = FileCopier(
            self.source_backend,
            self.target_backend,
            self.listener,
            self._stop,
            self.retry,
            Budget(max_transfer),
            server_side,
            dry_run,
            checksum_verify,
            self.backup,
            BandwidthLimit(bwlimit, self._stop) if bwlimit is not None else None,
            keep_parameters,
        )

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
            raise overlap(self.source, self.destination)
        if self.backup is not None:
            self.backup.check(self.destination)
        if not self._source_is_dir and not self.source_backend.exists(self._source_path()):
            raise missing(self.source)
        if self.delete and not self._source_is_dir:
            message = _("--delete needs a directory source; %(source)s is a file.")
            raise ValueError(message % {"source": self.source})

    def _source_path(self) -> str:
        return self.source_backend.full_path(self.source.path)

    @cached_property
    def _source_is_dir(self) -> bool:
        # One request on an object store: ask once.
        return self.source_backend.isdir(self._source_path())

    # Planning: one merge of the two listings, decided as it comes

    def decisions(self, plan: Plan, entries: Iterable[Merged] | None = None) -> Iterator[Decision]:
        """Yield the files to copy or compare as the listings are merged; count them, and
        hand the skips and deletions to ``plan``.

        ``entries``, the merged listings, default to those of the two locations.
        """
        if not self._source_is_dir:
            decision = self.retry.call(self._decide_file)
            if decision is not None and plan.take(decision):
                yield decision
            return
        for name, stat, target_stat in self._merged() if entries is None else entries:
            decision = self._decide(plan, name, stat, target_stat)
            if decision is not None and plan.take(decision):
                yield decision

    def _decide(
        self, plan: Plan, name: str, stat: FileStat | None, target_stat: FileStat | None
    ) -> Decision | None:
        if stat is None:
            assert target_stat is not None
            if self.delete and self.selection.selects(name, target_stat):
                plan.extra.add(name)
        elif self.selection.selects(name, stat):
            decided = verdict(self.skip, stat, target_stat)
            if decided.action == "skip":
                plan.skip(name, stat.size, decided.reason)  # no paths: most files of a rerun
                return None
            item = Item(name, self._path(name), self._target(name), stat, target_stat)
            return Decision(item, decided)
        return None

    def _merged(self) -> Iterator[Merged]:
        # A service failing mid-listing is asked again from the start; what was
        # decided (and maybe copied already) is not decided twice.
        def listing() -> Iterator[Merged]:
            return merge(ordered_files(self.source), ordered_files(self.destination))

        return self.retry.resumed(listing, key=lambda entry: entry[0])

    def _path(self, name: str) -> str:
        return self.source_backend.full_path(self.source.join(name))

    def _target(self, name: str) -> str:
        return self.target_backend.full_path(self.destination.join(name))

    def _decide_file(self) -> Decision | None:
        name = self.source.path.rsplit("/", 1)[-1]
        source = self._source_path()
        stat = FileStat.from_info(self.source_backend, self.source_backend.info(source))
        if not self.selection.selects(name, stat):
            return None
        destination, target_backend = self.destination, self.target_backend
        into = destination.directory or target_backend.isdir(
            target_backend.full_path(destination.path)
        )
        target = target_backend.full_path(destination.join(name) if into else destination.path)
        # One info() rather than exists() then info(): a rerun asks the store once.
        try:
            target_stat = FileStat.from_info(target_backend, target_backend.info(target))
        except FileNotFoundError:
            target_stat = None
        item = Item(name, source, target, stat, target_stat)
        return Decision(item, verdict(self.skip, stat, target_stat))

    # Running

    def run(self) -> TransferResult:
        """Check; compare and copy as the listings are merged; delete. Ctrl-C stops cleanly."""
        result = TransferResult(str(self.source), str(self.destination), self.dry_run)
        started = time.monotonic()
        try:
            # Refusals are permanent errors: only a failing service is asked again.
            self.retry.call(self.check)
            fanout = self._fanout()
            with Plan(skipped=partial(self.record, result)) as plan:
                (fanout or self).execute(self._heard(plan), result)
                if not result.interrupted:
                    self._delete_all(plan.extra, result)
            if self.files.bandwidth is not None:
                self.files.bandwidth.drain()
        except KeyboardInterrupt:
            result.interrupted = True
        result.elapsed = time.monotonic() - started
        return result

    def _heard(self, plan: Plan) -> Iterator[Decision]:
        """Yield the decisions; the listener hears each file found, then the totals."""
        for decision in self.decisions(plan):
            self.listener.found(decision.item.name, decision.item.stat.size)
            yield decision
        self.listener.planned(plan.files, plan.size)

    def _fanout(self) -> Any:
        if self.engine != "celery":
            return None
        from genro_storage_django.transfer.fanout import Fanout

        fanout = Fanout(self, **self.celery)
        fanout.check()
        return fanout

    def record(self, result: TransferResult, outcome: FileOutcome | None) -> None:
        if outcome is not None:
            result.outcomes.append(outcome)
            self.listener.done(outcome)

    def execute(self, decisions: Iterable[Decision], result: TransferResult) -> None:
        """Compare and copy the files of ``decisions`` (``run()`` has planned them)."""
        Execution(self, result).run(decisions)

    # Deleting (--delete), after the copies

    def _delete_all(self, names: Iterable[str], result: TransferResult) -> None:
        for name in names:
            if self._stop.is_set():
                return
            path = self._target(name)
            backup = self.backup.where(name) if self.backup is not None else ""
            try:
                if not self.dry_run:
                    if self.backup is not None:
                        self.retry.call(self.backup.keep, self.target_backend, path, name)
                    self.retry.call(self.target_backend.delete, path)
            except Exception as error:
                self.record(result, FileOutcome(name, "fail", 0, reason_of(error)))
            else:
                self.record(result, FileOutcome(name, "delete", 0, "not in source", backup))
