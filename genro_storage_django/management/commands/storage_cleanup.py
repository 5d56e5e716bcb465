"""``manage.py storage_cleanup MOUNT``: remove what interrupted writes left behind."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from genro_storage_django.backends.base import Leftover
from genro_storage_django.checks import TAG
from genro_storage_django.cleanup import DEFAULT_AGE, cleanup
from genro_storage_django.management import cli
from genro_storage_django.tenants import tenant


class Command(BaseCommand):
    help = (
        "Remove what interrupted writes left on MOUNT and no listing shows: temporary files of "
        "local mounts, staging files on sftp and ftp servers, multipart uploads never completed "
        "on S3, staged blocks never committed on Azure. Only leftovers older than --older-than "
        "are touched, so writes going on meanwhile are safe. Exits 1 if one could not be removed."
    )
    requires_system_checks = [TAG]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("mount", help="The mount to clean.")
        parser.add_argument(
            "--older-than",
            type=cli.duration_argument,
            default=DEFAULT_AGE,
            metavar="DURATION",
            help="Only leftovers started longer ago than this (90s, 30m, 24h, 7d; default 1h).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List the leftovers; remove nothing."
        )
        cli.add_tenant_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        verb = "would remove" if options["dry_run"] else "removed"

        def report(leftover: Leftover, outcome: str) -> None:
            done = verb if outcome in ("found", "removed") else f"could not remove ({outcome})"
            started = (
                f", started {leftover.started:%Y-%m-%d %H:%M:%S} UTC" if leftover.started else ""
            )
            if options["verbosity"] >= 1:
                self.stdout.write(f"{done} {leftover.kind} {leftover.name!r}{started}")

        with tenant(options["tenant"]), cli.refusing():
            result = cleanup(
                options["mount"],
                options["older_than"],
                dry_run=options["dry_run"],
                on_leftover=report,
            )
        if result.failed:
            raise CommandError(
                f"{len(result.failed)} leftovers could not be removed.", returncode=1
            )
        if options["verbosity"] >= 1:
            count = len(result.found)
            leftovers = f"{count} leftover{'s' if count != 1 else ''}"
            if options["dry_run"]:
                self.stdout.write(f"{leftovers} would be removed (dry run).")
            else:
                self.stdout.write(f"{leftovers} removed.")
