"""``engine="celery"``: the plan cut into shards, each a task of the project's Celery app.

The app is ``celery.current_app``, the one Celery's Django integration makes
current: the project's ``proj/celery.py`` defines it and ``proj/__init__.py``
imports it, so that it is loaded with Django. At most two shards per slot of
the workers' pools are out at a time, so that memory stays bounded and fast
workers take more; their outcomes and progress come back through the result backend and
reach the listener from this thread.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from genro_storage_django.backends import backend_class
from genro_storage_django.transfer.plan import Decision
from genro_storage_django.transfer.result import FileOutcome, TransferResult
from genro_storage_django.transfer.shards import (
    SHARD_BYTES,
    SHARD_FILES,
    check_limits,
    cut,
    make_shard,
    outcomes_of,
)

INSTALL = "pip install genro-storage-django[celery]"
TASK_NAME = "genro_storage_django.copy_shard"  # tasks.TASK_NAME, without importing Celery
#: Shards queued or running per process (or thread) of the workers' pools:
#: one running, one waiting, so that none waits for the next message.
SHARDS_PER_SLOT = 2
#: Slots of a worker whose pool does not say.
DEFAULT_SLOTS = 2
#: The shortest wait between two looks at the shards out (the longest: ``poll``).
MIN_POLL = 0.01


class CeleryUnavailable(ImproperlyConfigured):
    """Celery is missing, has no app or result backend, or no worker answers."""


def celery_app() -> Any:
    """Return the project's Celery app; ``CeleryUnavailable`` if there is none."""
    try:
        import celery  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError as error:
        message = _("--celery needs Celery: %(command)s")
        raise CeleryUnavailable(message % {"command": INSTALL}) from error
    app = celery.current_app._get_current_object()
    if app.main == "default" and not app.conf.broker_url:
        raise CeleryUnavailable(
            _(
                "--celery found no Celery app: define one in your project (proj/celery.py) "
                "and import it from proj/__init__.py, as Celery's Django guide shows."
            )
        )
    return app


@dataclass
class _Running:
    decisions: list[Decision]
    handle: Any  # celery.result.AsyncResult
    seen: int = 0  # bytes already passed to the listener


class Fanout:
    """Send the work of ``transfer`` to Celery workers as shards; collect their outcomes."""

    def __init__(
        self,
        transfer: Any,  # the engine's Transfer, which imports this module
        shard_files: int = SHARD_FILES,
        shard_size: int = SHARD_BYTES,
        celery_timeout: float = 5.0,
        poll: float = 0.2,
    ) -> None:
        self.transfer = transfer
        self.shard_files, self.shard_size = shard_files, shard_size
        self.timeout, self.poll = celery_timeout, poll
        self.window = SHARDS_PER_SLOT * DEFAULT_SLOTS

    def check(self) -> None:
        """Raise unless Celery can take the copy: shareable mounts, a result backend, workers."""
        transfer = self.transfer
        for mount in (transfer.source_mount, transfer.target_mount):
            if backend_class(mount.type).process_local:
                message = _(
                    "--celery cannot copy mount %(mount)s: a %(type)s mount lives in "
                    "one process, and Celery workers are other processes."
                )
                raise ValueError(message % {"mount": repr(mount.name), "type": mount.type})
        for option in ("max_transfer", "bwlimit"):
            if transfer.options[option] is not None:
                message = _("%(option)s is per process: not with --celery.")
                raise ValueError(message % {"option": "--" + option.replace("_", "-")})
        check_limits(self.shard_files, self.shard_size)
        self.app = celery_app()
        if type(self.app.backend).__name__ == "DisabledBackend":
            raise CeleryUnavailable(_("--celery needs a result backend (CELERY_RESULT_BACKEND)."))
        self.window = SHARDS_PER_SLOT * self._slots(self._workers())

    def _workers(self) -> list[Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            answers = self.app.control.ping(timeout=min(0.5, self.timeout))
            if answers:
                return list(answers)
            if time.monotonic() >= deadline:
                message = _(
                    "No Celery worker answered within %(seconds)s s: start one "
                    "(celery -A proj worker) on the project's broker."
                )
                raise CeleryUnavailable(message % {"seconds": f"{self.timeout:g}"})

    def _slots(self, workers: list[Any]) -> int:
        """Return how many shards the ``workers`` run at once, from their pools' stats."""
        stats = self.app.control.inspect(timeout=min(0.5, self.timeout)).stats() or {}
        slots = 0
        for answer in workers:
            for name in answer:
                pool = (stats.get(name) or {}).get("pool") or {}
                slots += int(pool.get("max-concurrency") or DEFAULT_SLOTS)
        return max(slots, 1)

    def execute(self, decisions: Iterable[Decision], result: TransferResult) -> None:
        """Run ``decisions`` as shards; Ctrl-C revokes the shards not done yet."""
        shards = cut(iter(decisions), self.shard_files, self.shard_size)
        running: list[_Running] = []
        pause = MIN_POLL
        try:
            while True:
                while len(running) < self.window and (shard := next(shards, None)):
                    running.append(self._send(shard))
                if not running:
                    return
                time.sleep(pause)
                left = [shard for shard in running if not self._collect(shard, result)]
                # Poll often while shards end (short shards would wait for the poll),
                # less and less while none does.
                pause = MIN_POLL if len(left) < len(running) else min(pause * 2, self.poll)
                running = left
        except BaseException:
            # Ctrl-C (or a broker gone): the shards out are revoked, no more are sent.
            # Queued ones are dropped; running ones end their shard, file by file.
            with contextlib.suppress(Exception):
                self.app.control.revoke([shard.handle.id for shard in running])
            raise

    def _send(self, decisions: list[Decision]) -> _Running:
        message = make_shard(self.transfer, decisions)
        return _Running(decisions, self.app.send_task(TASK_NAME, args=[message]))

    def _collect(self, shard: _Running, result: TransferResult) -> bool:
        """Pass on the progress of ``shard``; record its outcomes and return True once done."""
        handle = shard.handle
        state = handle.state
        if state not in ("SUCCESS", "FAILURE", "REVOKED"):
            info = handle.info if state == "PROGRESS" else None
            if isinstance(info, dict):
                self._progress(shard, int(info.get("bytes", 0)))
            return False
        if state == "SUCCESS":
            answer = handle.result
            outcomes = outcomes_of(answer)
            result.interrupted |= bool(answer.get("interrupted"))
        else:
            reason = f"shard task {state.lower()}: {handle.result!r}"
            outcomes = [
                FileOutcome(d.item.name, "fail", d.item.stat.size, reason) for d in shard.decisions
            ]
        self._progress(shard, sum(o.size for o in outcomes if o.action == "copy"))
        handle.forget()
        for outcome in outcomes:
            self.transfer.record(result, outcome)
        return True

    def _progress(self, shard: _Running, done: int) -> None:
        if done > shard.seen:
            self.transfer.listener.transferred(done - shard.seen)
            shard.seen = done


def _failed(decision: Decision, reason: str) -> FileOutcome:
    return FileOutcome(decision.item.name, "fail", decision.item.stat.size, reason)
