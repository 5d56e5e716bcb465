"""``manage.py storage_check SRC DST``: what differs between two folders, as ``rclone check``."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from genro_storage_django.checks import TAG
from genro_storage_django.management import cli
from genro_storage_django.tenants import tenant
from genro_storage_django.transfer.check import DEFAULT_CHECKERS, Comparison, compare


def summary_line(result: Comparison) -> str:
    """Return the one-line human summary of ``result``."""
    line = (
        f"{result.matching} matching files, {len(result.only_in_source)} only in SRC, "
        f"{len(result.only_in_destination)} only in DST, {len(result.differing)} differing"
    )
    if result.unverified:
        line += f" ({result.unverified} compared by size only: no common checksum)"
    return line + "."


class Command(BaseCommand):
    help = (
        "Compare the files below SRC and DST (both MOUNT:PATH folders): list those only in "
        "SRC, only in DST, and those that differ. Sizes are compared, and contents where both "
        "listings carry the same kind of checksum; --checksum reads and hashes the others. "
        "Exit status 1 if anything differs."
    )
    requires_system_checks = [TAG]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", metavar="SRC", help="MOUNT:PATH of the reference folder.")
        parser.add_argument("destination", metavar="DST", help="MOUNT:PATH to compare with it.")
        parser.add_argument(
            "--checksum",
            action="store_true",
            help="Compare the contents of every file of the same size, reading those without "
            "a common checksum in the listings.",
        )
        parser.add_argument(
            "--checkers",
            type=int,
            default=DEFAULT_CHECKERS,
            help=f"Files hashed in parallel (default: {DEFAULT_CHECKERS}).",
        )
        parser.add_argument(
            "--json", action="store_true", help="Print the result as one JSON object."
        )
        cli.add_tenant_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        source = cli.location(options["source"])
        destination = cli.location(options["destination"])
        with cli.refusing():
            if options["checkers"] < 1:
                raise ValueError(f"checkers must be at least 1, not {options['checkers']}.")
            with tenant(options["tenant"]):
                result = compare(source, destination, options["checksum"], options["checkers"])
        if options["json"]:
            self.stdout.write(json.dumps({**asdict(result), "ok": result.ok}, ensure_ascii=False))
        else:
            self.report(result, options["verbosity"])
        if not result.ok:
            raise CommandError(f"{source} and {destination} differ.", returncode=1)

    def report(self, result: Comparison, verbosity: int) -> None:
        if verbosity >= 1:
            for name in result.only_in_source:
                self.stdout.write(f"only in SRC: {name}")
            for name in result.only_in_destination:
                self.stdout.write(f"only in DST: {name}")
            for name, what in result.differing:
                self.stdout.write(f"differs ({what}): {name}")
            self.stdout.write(summary_line(result))
