"""``manage.py storage_cleanup MOUNT``: remove what interrupted writes left behind."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from genro_storage_django.backends.base import Leftover
from genro_storage_django.checks import TAG
from genro_storage_django.cleanup import DEFAULT_AGE, cleanup
from genro_storage_django.i18n import lazy_message
from genro_storage_django.management import cli
from genro_storage_django.tenants import tenant


class Command(cli.TranslatedCommand):
    help = lazy_message(
        gettext_noop(
            "Remove what interrupted writes left on MOUNT and no listing shows: temporary files "
            "of local mounts, staging files on sftp and ftp servers, multipart uploads never "
            "completed on S3, staged blocks never committed on Azure. Only leftovers older than "
            "--older-than are touched, so writes going on meanwhile are safe. Exits 1 if one "
            "could not be removed."
        )
    )
    requires_system_checks = [TAG]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("mount", help=_("The mount to clean."))
        parser.add_argument(
            "--older-than",
            type=cli.duration_argument,
            default=DEFAULT_AGE,
            metavar="DURATION",
            help=_("Only leftovers started longer ago than this (90s, 30m, 24h, 7d; default 1h)."),
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=_("List the leftovers; remove nothing.")
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
            failed = len(result.failed)
            message = ngettext(
                "%(count)s leftover could not be removed.",
                "%(count)s leftovers could not be removed.",
                failed,
            )
            raise CommandError(message % {"count": failed}, returncode=1)
        if options["verbosity"] >= 1:
            self.stdout.write(summary(len(result.found), options["dry_run"]))


def summary(count: int, dry_run: bool) -> str:
    """Return the last line of a cleanup that found ``count`` leftovers."""
    if dry_run:
        line = ngettext(
            "%(count)s leftover would be removed (dry run).",
            "%(count)s leftovers would be removed (dry run).",
            count,
        )
    else:
        line = ngettext("%(count)s leftover removed.", "%(count)s leftovers removed.", count)
    return line % {"count": count}
