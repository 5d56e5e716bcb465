"""``manage.py storage_copy SRC DST``: a thin command-line layer over ``transfer``."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from genro_storage_django import transfer
from genro_storage_django.checks import TAG
from genro_storage_django.i18n import lazy_message
from genro_storage_django.management import cli
from genro_storage_django.management.cli import human_size
from genro_storage_django.management.copy_output import Reporter, summary_line
from genro_storage_django.tenants import tenant
from genro_storage_django.transfer import TransferResult

__all__ = ["Command", "Reporter", "human_size", "summary_line"]

#: Exit status when --max-transfer left files for a next run (as rclone's 8, but ours).
DEFERRED = 3
SKIP_HELP = gettext_noop(
    "What makes a file already done at DST: never (copy everything); exists (any file "
    "there); size (the same size); size-time (the default: the same size, and DST not "
    "older than SRC, 2 s of tolerance); hash (the same checksum)."
)


def read_names(path: str) -> list[str]:
    """Return the lines of ``path`` (``-``: standard input), for ``--files-from``."""
    if path == "-":
        return sys.stdin.read().splitlines()
    with open(path, encoding="utf-8") as file:
        return file.read().splitlines()


class Command(cli.TranslatedCommand):
    help = lazy_message(
        gettext_noop(
            "Copy SRC to DST, both MOUNT:PATH (a file, or a directory copied recursively). "
            "Rerunning the same command copies only what is missing or different. Exit status: "
            "0 done; 1 some files failed or interrupted; 2 refused, nothing changed; "
            "%(deferred)s files left for a next run by --max-transfer."
        ),
        deferred=DEFERRED,
    )
    # Only the mounts matter to a copy (as collectstatic checks only static
    # files): the other checks would import every URLconf and admin first.
    requires_system_checks = [TAG]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", metavar="SRC", help=_("MOUNT:PATH to copy from."))
        parser.add_argument("destination", metavar="DST", help=_("MOUNT:PATH to copy to."))
        parser.add_argument(
            "--skip", choices=transfer.SKIP_RULES, default=transfer.DEFAULT_SKIP, help=_(SKIP_HELP)
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=_("Show what would happen; change nothing.")
        )
        parser.add_argument(
            "--delete", action="store_true", help=_("Delete files under DST that SRC lacks.")
        )
        self.add_filters(parser)
        self.add_controls(parser)
        self.add_celery(parser)
        parser.add_argument(
            "--no-progress", action="store_true", help=_("No progress bar, even on a terminal.")
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help=_("NDJSON on stdout: one object per file, then a summary object."),
        )
        cli.add_tenant_argument(parser)

    def add_filters(self, parser: CommandParser) -> None:
        for flag, text in (
            ("--include", _("Copy only paths (relative to SRC) matching this glob; repeatable.")),
            ("--exclude", _("Leave out paths (relative to SRC) matching this glob; repeatable.")),
        ):
            parser.add_argument(flag, action="append", default=[], metavar="PATTERN", help=text)
        parser.add_argument(
            "--files-from",
            metavar="FILE",
            help=_(
                "Copy only the paths (relative to SRC) listed in FILE, one a line; - for stdin."
            ),
        )
        for flag, text in (
            (
                "--min-size",
                _("Leave out files smaller than SIZE (bytes, or 10K, 10M, 1G: powers of 1024)."),
            ),
            (
                "--max-size",
                _("Leave out files larger than SIZE (bytes, or 10K, 10M, 1G: powers of 1024)."),
            ),
        ):
            parser.add_argument(flag, type=cli.size_argument, metavar="SIZE", help=text)
        for flag, text in (
            (
                "--min-age",
                _("Leave out files modified newer than AGE ago (90s, 30m, 24h, 7d, 1d12h)."),
            ),
            (
                "--max-age",
                _("Leave out files modified older than AGE ago (90s, 30m, 24h, 7d, 1d12h)."),
            ),
        ):
            parser.add_argument(flag, type=cli.duration_argument, metavar="AGE", help=text)

    def add_controls(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--workers",
            type=int,
            default=transfer.DEFAULT_WORKERS,
            help=_(
                "Threads copying files: large ones, and all files between mounts "
                "without an event loop in common (default: %(workers)s)."
            )
            % {"workers": transfer.DEFAULT_WORKERS},
        )
        parser.add_argument(
            "--in-flight",
            type=int,
            default=transfer.DEFAULT_IN_FLIGHT,
            help=_(
                "Small files copied at once on an event loop, one request each, "
                "to hide round trips to object stores (default: %(in_flight)s)."
            )
            % {"in_flight": transfer.DEFAULT_IN_FLIGHT},
        )
        parser.add_argument(
            "--checkers",
            type=int,
            default=transfer.DEFAULT_CHECKERS,
            help=_("Files compared in parallel by --skip hash (default: %(checkers)s).")
            % {"checkers": transfer.DEFAULT_CHECKERS},
        )
        parser.add_argument(
            "--checksum-verify",
            action="store_true",
            help=_("After each copy, compare DST's checksum with SRC's; a mismatch is a failure."),
        )
        parser.add_argument(
            "--no-parameters",
            action="store_false",
            dest="parameters",
            help=_(
                "Keep each source file's object parameters (headers, metadata) instead of "
                "applying DST's object_parameters rules."
            ),
        )
        parser.add_argument(
            "--max-transfer",
            type=cli.size_argument,
            metavar="SIZE",
            help=_("Copy at most SIZE bytes: files that would pass it are left for a next run."),
        )
        parser.add_argument(
            "--backup-dir",
            metavar="MOUNT:PATH",
            help=_("Move each DST file that a copy would replace or --delete would delete there."),
        )
        parser.add_argument(
            "--retries",
            type=int,
            default=0,
            help=_(
                "Attempts after the first on a transient error (throttling, 5xx, reset), "
                "waiting 0.5 s, 1 s, 2 s… (default: 0)."
            ),
        )
        parser.add_argument(
            "--bwlimit",
            type=cli.size_argument,
            metavar="SIZE",
            help=_("Move at most SIZE bytes per second, all workers together (10M: 10 MiB/s)."),
        )

    def add_celery(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--celery",
            action="store_true",
            help=_(
                "Copy on the project's Celery workers, in shards (needs the celery extra, "
                "a result backend and running workers; not for memory mounts)."
            ),
        )
        parser.add_argument(
            "--shard-files",
            type=int,
            default=transfer.SHARD_FILES,
            metavar="N",
            help=_("With --celery: files per shard at most (default: %(files)s).")
            % {"files": transfer.SHARD_FILES},
        )
        parser.add_argument(
            "--shard-size",
            type=cli.size_argument,
            default=transfer.SHARD_BYTES,
            metavar="SIZE",
            help=_("With --celery: bytes per shard at most (default: 256M)."),
        )
        parser.add_argument(
            "--celery-timeout",
            type=float,
            default=5.0,
            metavar="SECONDS",
            help=_("With --celery: how long to wait for a worker to answer (default: 5)."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = 0 if options["json"] else options["verbosity"]
        progress = not options["no_progress"] and verbosity > 0 and sys.stderr.isatty()
        reporter = Reporter(self, verbosity, progress, options["dry_run"], options["json"])
        reporter.start()
        try:
            with cli.refusing(), tenant(options["tenant"]):
                result = self.copy(options, reporter)
        finally:
            reporter.close()
        if options["json"]:
            self.stdout.write(json.dumps(result.summary(), ensure_ascii=False))
        elif verbosity >= 1:
            self.stdout.write(summary_line(result))
        self.fail_if_incomplete(result)

    def copy(self, options: dict[str, Any], reporter: Reporter) -> TransferResult:
        files_from = options["files_from"]
        celery = {}
        if options["celery"]:
            celery = {key: options[key] for key in CELERY_OPTIONS}
        return transfer.copy(
            options["source"],
            options["destination"],
            listener=reporter,
            files_from=None if files_from is None else read_names(files_from),
            engine="celery" if options["celery"] else "threads",
            keep_parameters=not options["parameters"],
            **{key: options[key] for key in COPY_OPTIONS},
            **celery,
        )

    def fail_if_incomplete(self, result: TransferResult) -> None:
        if result.failed:
            lines = "\n".join(f"  {outcome.name}: {outcome.reason}" for outcome in result.failed)
            count = len(result.failed)
            failed = ngettext("%(count)s file failed:", "%(count)s files failed:", count)
            raise CommandError(failed % {"count": count} + "\n" + lines)
        if result.interrupted:
            raise CommandError(_("Interrupted. Run the same command again to resume."))
        if result.deferred:
            count = len(result.deferred)
            deferred = ngettext(
                "%(count)s file was left for a next run by --max-transfer.",
                "%(count)s files were left for a next run by --max-transfer.",
                count,
            )
            raise CommandError(deferred % {"count": count}, returncode=DEFERRED)


#: The options passed to ``transfer.copy()`` as they are.
COPY_OPTIONS = (
    "skip",
    "dry_run",
    "delete",
    "include",
    "exclude",
    "min_size",
    "max_size",
    "min_age",
    "max_age",
    "workers",
    "checkers",
    "in_flight",
    "checksum_verify",
    "max_transfer",
    "backup_dir",
    "retries",
    "bwlimit",
)
#: The options of ``--celery`` copies.
CELERY_OPTIONS = ("shard_files", "shard_size", "celery_timeout")
