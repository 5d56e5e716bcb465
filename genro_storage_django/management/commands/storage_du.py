"""``manage.py storage_du MOUNT:PATH``: bytes and files per folder, from one recursive listing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from genro_storage_django.checks import TAG
from genro_storage_django.i18n import lazy_message
from genro_storage_django.management import cli
from genro_storage_django.tenants import tenant
from genro_storage_django.transfer.inspect import disk_usage
from genro_storage_django.transfer.units import check_not_negative


class Command(cli.TranslatedCommand):
    help = lazy_message(
        gettext_noop(
            "Show the bytes and the number of files below each folder of MOUNT:PATH, at any "
            "depth, then the total: one line each, SIZE FILES MOUNT:PATH, from one listing."
        )
    )
    requires_system_checks = [TAG]

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # -h means human-readable sizes, as in du; --help still shows the help.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("location", metavar="MOUNT:PATH", help=_("What to measure."))
        parser.add_argument(
            "-d",
            "--max-depth",
            type=int,
            metavar="DEPTH",
            help=_(
                "Show folders down to DEPTH levels below MOUNT:PATH (0: the total only); "
                "deeper ones still count in their parents."
            ),
        )
        parser.add_argument(
            "-h",
            "--human-readable",
            action="store_true",
            help=_("Sizes as 1.5 MiB rather than bytes."),
        )
        cli.add_tenant_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        location = cli.location(options["location"])
        depth = options["max_depth"]
        with cli.refusing():
            if depth is not None:
                check_not_negative("--max-depth", depth)
            with tenant(options["tenant"]):
                usage = disk_usage(location, depth)
        for folder in usage:
            size = cli.human_size(folder.size) if options["human_readable"] else str(folder.size)
            self.stdout.write(
                f"{size}\t{folder.files}\t{location.mount}:{location.join(folder.folder)}"
            )
