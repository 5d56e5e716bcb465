"""``manage.py storage_ls MOUNT:PATH``: list a folder of a mount, or describe one file."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from genro_storage_django.checks import TAG
from genro_storage_django.i18n import lazy_message
from genro_storage_django.management import cli
from genro_storage_django.tenants import tenant
from genro_storage_django.transfer.inspect import Listed, list_location


def as_json(entry: Listed) -> dict[str, Any]:
    """Return ``entry`` as the JSON object of ``--json`` (one per line)."""
    return {
        "name": entry.name,
        "type": "dir" if entry.is_dir else "file",
        "size": entry.size,
        "modified": entry.modified.isoformat() if entry.modified else None,
        "checksums": dict(entry.checksums),
    }


def long_line(entry: Listed) -> str:
    """Return the ``-l`` line of ``entry``: size, UTC time, name, checksums."""
    size = "-" if entry.size is None else str(entry.size)
    modified = entry.modified.strftime("%Y-%m-%d %H:%M:%S") if entry.modified else "-"
    sums = "".join(f"  {name}:{value}" for name, value in sorted(entry.checksums.items()))
    return f"{size:>12}  {modified:<19}  {short_line(entry)}{sums}"


def short_line(entry: Listed) -> str:
    return f"{entry.name}/" if entry.is_dir else entry.name


class Command(cli.TranslatedCommand):
    help = lazy_message(
        gettext_noop(
            "List MOUNT:PATH: the files and folders in it (folders end with /), or every file "
            "below it with -R. Times are UTC; checksums are those the backend lists (with -R)."
        )
    )
    requires_system_checks = [TAG]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("location", metavar="MOUNT:PATH", help=_("What to list."))
        parser.add_argument(
            "-l", "--long", action="store_true", help=_("Also show size, time and checksums.")
        )
        parser.add_argument(
            "-R", "--recursive", action="store_true", help=_("Every file below, with its path.")
        )
        parser.add_argument(
            "--json", action="store_true", help=_("One JSON object per entry and line (NDJSON).")
        )
        cli.add_tenant_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        location = cli.location(options["location"])
        with cli.refusing(), tenant(options["tenant"]):
            entries = list_location(location, recursive=options["recursive"])
        for entry in entries:
            if options["json"]:
                self.stdout.write(json.dumps(as_json(entry), ensure_ascii=False))
            else:
                self.stdout.write(long_line(entry) if options["long"] else short_line(entry))
