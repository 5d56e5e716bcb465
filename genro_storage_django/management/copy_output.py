"""What ``storage_copy`` shows: progress bars, a line per file, the summary line."""

from __future__ import annotations

import json
import sys
import threading
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from genro_storage_django.management.cli import human_size
from genro_storage_django.transfer import FileOutcome, TransferListener, TransferResult

if TYPE_CHECKING:
    from tqdm import tqdm

# Per-file lines stay English, as --json does: scripts read them.
LABELS = {
    "copy": "copied",
    "skip": "skipped",
    "delete": "deleted",
    "fail": "FAILED",
    "defer": "deferred",
}
DRY_LABELS = {**LABELS, "copy": "would copy", "delete": "would delete"}


class Reporter(TransferListener):
    """Show a transfer: tqdm bars of bytes and files, a line per file from verbosity 2.

    With ``json``, one JSON object per file instead (NDJSON), whatever the verbosity.
    """

    def __init__(
        self,
        command: BaseCommand,
        verbosity: int,
        progress: bool,
        dry_run: bool,
        json: bool = False,
    ):
        self.command = command
        self.verbosity = verbosity
        self.progress = progress
        self.json = json
        self.labels = DRY_LABELS if dry_run else LABELS
        self.bars: list[tqdm] = []
        self.totals = [0, 0]  # the bars' bytes and files
        self._lock = threading.Lock()

    def start(self) -> None:
        """Show the progress bars (with ``progress``): their totals grow as files are found."""
        if self.progress:
            from tqdm import tqdm  # only on a terminal: not worth importing otherwise

            options: dict[str, Any] = {"file": sys.stderr, "dynamic_ncols": True, "leave": False}
            self.bars = [
                tqdm(total=0, unit="B", unit_scale=True, unit_divisor=1024, **options),
                tqdm(total=0, unit="file", position=1, **options),
            ]

    def found(self, name: str, size: int) -> None:
        if self.bars:
            with self._lock:
                self._grow(size, 1)

    def planned(self, files: int, size: int) -> None:
        if self.verbosity >= 3:
            line = ngettext(
                "To process: %(count)s file, %(size)s.",
                "To process: %(count)s files, %(size)s.",
                files,
            )
            self.write(line % {"count": files, "size": human_size(size)})
        if self.bars:
            with self._lock:  # the deletions, counted last
                self._grow(size - self.totals[0], files - self.totals[1])

    def _grow(self, size: int, files: int) -> None:
        self.totals = [self.totals[0] + size, self.totals[1] + files]
        # Shown at the bar's next update: a refresh per file found would cost a write each.
        for bar, total in zip(self.bars, self.totals, strict=True):
            bar.total = total

    def transferred(self, size: int) -> None:
        if self.bars:
            with self._lock:
                self.bars[0].update(size)

    def done(self, outcome: FileOutcome) -> None:
        if self.bars and outcome.action != "skip":
            with self._lock:
                self.bars[1].update(1)
        if self.json:
            self.write(json.dumps(outcome.event(), ensure_ascii=False))
            return
        wanted = 3 if outcome.action == "skip" else 2
        if self.verbosity >= wanted or (outcome.action == "fail" and self.verbosity >= 1):
            reason = f" ({outcome.reason})" if outcome.reason else ""
            backup = f", kept as {outcome.backup}" if outcome.backup else ""
            self.write(f"{self.labels[outcome.action]} {outcome.name}{reason}{backup}")

    def write(self, line: str) -> None:
        if self.bars:
            self.bars[0].write(line, file=sys.stdout)
        else:
            self.command.stdout.write(line)

    def close(self) -> None:
        for bar in self.bars:
            bar.close()
        self.bars = []


def summary_line(result: TransferResult) -> str:
    """Return the one-line human summary of ``result``."""
    counts = result.summary()
    params = {
        **counts,
        "size": human_size(counts["bytes"]),
        "elapsed": f"{result.elapsed:.1f}",
        "speed": human_size(result.throughput),
    }
    if result.dry_run:
        line = ngettext(
            "Would copy %(copied)s file (%(size)s), skip %(skipped)s, delete %(deleted)s, "
            "failed %(failed)s in %(elapsed)s s",
            "Would copy %(copied)s files (%(size)s), skip %(skipped)s, delete %(deleted)s, "
            "failed %(failed)s in %(elapsed)s s",
            counts["copied"],
        )
    else:
        line = ngettext(
            "Copied %(copied)s file (%(size)s), skipped %(skipped)s, deleted %(deleted)s, "
            "failed %(failed)s in %(elapsed)s s (%(speed)s/s)",
            "Copied %(copied)s files (%(size)s), skipped %(skipped)s, deleted %(deleted)s, "
            "failed %(failed)s in %(elapsed)s s (%(speed)s/s)",
            counts["copied"],
        )
    line %= params
    if counts["deferred"]:
        deferred = ngettext(
            ", %(deferred)s deferred by --max-transfer",
            ", %(deferred)s deferred by --max-transfer",
            counts["deferred"],
        )
        line += deferred % params
    return line + (_(", interrupted.") if result.interrupted else ".")
