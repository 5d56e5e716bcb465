"""``manage.py storage_check SRC DST``: what differs between two folders, as ``rclone check``."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from genro_storage_django.checks import TAG
from genro_storage_django.i18n import lazy_message
from genro_storage_django.management import cli
from genro_storage_django.tenants import tenant
from genro_storage_django.transfer.check import DEFAULT_CHECKERS, Comparison, compare
from genro_storage_django.transfer.units import check_positive


def summary_line(result: Comparison) -> str:
    """Return the one-line human summary of ``result``."""
    line = ngettext(
        "%(matching)s matching file, %(source)s only in SRC, %(destination)s only in DST, "
        "%(differing)s differing",
        "%(matching)s matching files, %(source)s only in SRC, %(destination)s only in DST, "
        "%(differing)s differing",
        result.matching,
    ) % {
        "matching": result.matching,
        "source": len(result.only_in_source),
        "destination": len(result.only_in_destination),
        "differing": len(result.differing),
    }
    if result.unverified:
        unverified = ngettext(
            " (%(count)s compared by size only: no common checksum)",
            " (%(count)s compared by size only: no common checksum)",
            result.unverified,
        )
        line += unverified % {"count": result.unverified}
    return line + "."


class Command(cli.TranslatedCommand):
    help = lazy_message(
        gettext_noop(
            "Compare the files below SRC and DST (both MOUNT:PATH folders): list those only in "
            "SRC, only in DST, and those that differ. Sizes are compared, and contents where "
            "both listings carry the same kind of checksum; --checksum reads and hashes the "
            "others. Exit status 1 if anything differs."
        )
    )
    requires_system_checks = [TAG]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", metavar="SRC", help=_("MOUNT:PATH of the reference folder."))
        parser.add_argument("destination", metavar="DST", help=_("MOUNT:PATH to compare with it."))
        parser.add_argument(
            "--checksum",
            action="store_true",
            help=_(
                "Compare the contents of every file of the same size, reading those without "
                "a common checksum in the listings."
            ),
        )
        parser.add_argument(
            "--checkers",
            type=int,
            default=DEFAULT_CHECKERS,
            help=_("Files hashed in parallel (default: %(checkers)s).")
            % {"checkers": DEFAULT_CHECKERS},
        )
        parser.add_argument(
            "--json", action="store_true", help=_("Print the result as one JSON object.")
        )
        cli.add_tenant_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        source = cli.location(options["source"])
        destination = cli.location(options["destination"])
        with cli.refusing():
            check_positive("checkers", options["checkers"])
            with tenant(options["tenant"]):
                result = compare(source, destination, options["checksum"], options["checkers"])
        if options["json"]:
            self.stdout.write(json.dumps({**asdict(result), "ok": result.ok}, ensure_ascii=False))
        else:
            self.report(result, options["verbosity"])
        if not result.ok:
            message = _("%(source)s and %(destination)s differ.")
            raise CommandError(
                message % {"source": source, "destination": destination}, returncode=1
            )

    def report(self, result: Comparison, verbosity: int) -> None:
        if verbosity >= 1:
            for name in result.only_in_source:
                self.stdout.write(f"only in SRC: {name}")
            for name in result.only_in_destination:
                self.stdout.write(f"only in DST: {name}")
            for name, what in result.differing:
                self.stdout.write(f"differs ({what}): {name}")
            self.stdout.write(summary_line(result))
