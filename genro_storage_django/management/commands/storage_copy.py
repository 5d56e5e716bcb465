"""``manage.py storage_copy SRC DST``: a thin command-line layer over ``transfer``."""

from __future__ import annotations

import json
import sys
import threading
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.core.management.base import BaseCommand, CommandError, CommandParser

from genro_storage_django import transfer
from genro_storage_django.checks import TAG
from genro_storage_django.tenants import tenant
from genro_storage_django.transfer import FileOutcome, TransferListener, TransferResult

if TYPE_CHECKING:
    from tqdm import tqdm

LABELS = {"copy": "copied", "skip": "skipped", "delete": "deleted", "fail": "FAILED"}
DRY_LABELS = {**LABELS, "copy": "would copy", "delete": "would delete"}


def human_size(size: float) -> str:
    """Return ``size`` bytes as a short binary-prefixed string (``1.5 MiB``)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


class Reporter(TransferListener):
    """Show a transfer: tqdm bars of bytes and files, a line per file from verbosity 2."""

    def __init__(self, command: BaseCommand, verbosity: int, progress: bool, dry_run: bool):
        self.command = command
        self.verbosity = verbosity
        self.progress = progress
        self.labels = DRY_LABELS if dry_run else LABELS
        self.bars: list[tqdm] = []
        self._lock = threading.Lock()

    def planned(self, files: int, size: int) -> None:
        if self.verbosity >= 3:
            self.write(f"To process: {files} files, {human_size(size)}.")
        if self.progress:
            from tqdm import tqdm  # only on a terminal: not worth importing otherwise

            options: dict[str, Any] = {"file": sys.stderr, "dynamic_ncols": True, "leave": False}
            self.bars = [
                tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024, **options),
                tqdm(total=files, unit="file", position=1, **options),
            ]

    def transferred(self, size: int) -> None:
        if self.bars:
            with self._lock:
                self.bars[0].update(size)

    def done(self, outcome: FileOutcome) -> None:
        if self.bars and outcome.action != "skip":
            with self._lock:
                self.bars[1].update(1)
        wanted = 3 if outcome.action == "skip" else 2
        if self.verbosity >= wanted or (outcome.action == "fail" and self.verbosity >= 1):
            reason = f" ({outcome.reason})" if outcome.reason else ""
            self.write(f"{self.labels[outcome.action]} {outcome.name}{reason}")

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
    verbs = ("Would copy", "skip", "delete") if result.dry_run else ("Copied", "skipped", "deleted")
    line = (
        f"{verbs[0]} {counts['copied']} files ({human_size(counts['bytes'])}), "
        f"{verbs[1]} {counts['skipped']}, {verbs[2]} {counts['deleted']}, "
        f"failed {counts['failed']} in {result.elapsed:.1f} s"
    )
    if not result.dry_run:
        line += f" ({human_size(result.throughput)}/s)"
    return line + (", interrupted." if result.interrupted else ".")


class Command(BaseCommand):
    help = (
        "Copy SRC to DST, both MOUNT:PATH (a file, or a directory copied recursively). "
        "Rerunning the same command copies only what is missing or different."
    )
    # Only the mounts matter to a copy (as collectstatic checks only static
    # files): the other checks would import every URLconf and admin first.
    requires_system_checks = [TAG]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", metavar="SRC", help="MOUNT:PATH to copy from.")
        parser.add_argument("destination", metavar="DST", help="MOUNT:PATH to copy to.")
        parser.add_argument(
            "--skip",
            choices=transfer.SKIP_RULES,
            default=transfer.DEFAULT_SKIP,
            help="What makes a file already done at DST: never; exists; size (default: same "
            "size and DST not older than SRC); hash (same checksum).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would happen; change nothing."
        )
        parser.add_argument(
            "--delete", action="store_true", help="Delete files under DST that SRC lacks."
        )
        for flag, verb in (("--include", "Copy only"), ("--exclude", "Leave out")):
            parser.add_argument(
                flag,
                action="append",
                default=[],
                metavar="PATTERN",
                help=f"{verb} paths (relative to SRC) matching this glob; repeatable.",
            )
        parser.add_argument(
            "--workers",
            type=int,
            default=transfer.DEFAULT_WORKERS,
            help=f"Files copied in parallel (default: {transfer.DEFAULT_WORKERS}).",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar, even on a terminal."
        )
        parser.add_argument(
            "--json", action="store_true", help="Print a machine-readable summary on stdout."
        )
        parser.add_argument(
            "--tenant",
            metavar="NAME",
            help="The current tenant, for mounts that keep each tenant's files apart.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = 0 if options["json"] else options["verbosity"]
        progress = not options["no_progress"] and verbosity > 0 and sys.stderr.isatty()
        reporter = Reporter(self, verbosity, progress, options["dry_run"])
        try:
            with tenant(options["tenant"]):
                result = self.copy(options, reporter)
        except (ImproperlyConfigured, SuspiciousOperation, OSError, ValueError) as error:
            raise CommandError(str(error)) from error
        finally:
            reporter.close()
        if options["json"]:
            self.stdout.write(json.dumps(result.summary(), indent=2))
        elif verbosity >= 1:
            self.stdout.write(summary_line(result))
        self.fail_if_incomplete(result)

    def copy(self, options: dict[str, Any], reporter: Reporter) -> TransferResult:
        return transfer.copy(
            options["source"],
            options["destination"],
            skip=options["skip"],
            dry_run=options["dry_run"],
            delete=options["delete"],
            include=options["include"],
            exclude=options["exclude"],
            workers=options["workers"],
            listener=reporter,
        )

    def fail_if_incomplete(self, result: TransferResult) -> None:
        if result.failed:
            lines = "\n".join(f"  {outcome.name}: {outcome.reason}" for outcome in result.failed)
            raise CommandError(f"{len(result.failed)} files failed:\n{lines}")
        if result.interrupted:
            raise CommandError("Interrupted. Run the same command again to resume.")
