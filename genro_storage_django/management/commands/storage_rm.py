"""``manage.py storage_rm MOUNT:PATH``: delete a file, or a folder with ``-r``, after asking."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from genro_storage_django.checks import TAG
from genro_storage_django.i18n import lazy_message
from genro_storage_django.management import cli
from genro_storage_django.tenants import tenant
from genro_storage_django.transfer.remove import Removal, plan_removal, remove


class Command(cli.TranslatedCommand):
    help = lazy_message(
        gettext_noop(
            "Delete the file MOUNT:PATH, or the folder MOUNT:PATH and everything below it with "
            "-r. Asks first on a terminal; elsewhere refuses unless --yes is given. Never "
            "deletes the root of a mount, nor on a mount whose permissions do not allow delete."
        )
    )
    requires_system_checks = [TAG]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("location", metavar="MOUNT:PATH", help=_("What to delete."))
        parser.add_argument(
            "-r",
            "--recursive",
            action="store_true",
            help=_("Delete a folder with everything in it."),
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=_("Show what would be deleted; delete nothing.")
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help=_("Do not ask for confirmation (needed off a terminal)."),
        )
        cli.add_tenant_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        location = cli.location(options["location"])
        with tenant(options["tenant"]):
            with cli.refusing():
                removal = plan_removal(location, recursive=options["recursive"])
            count = len(removal.files)
            if options["dry_run"]:
                self.list_files(removal, options["verbosity"])
                would = ngettext(
                    "Would delete %(count)s file (%(size)s) from %(location)s.",
                    "Would delete %(count)s files (%(size)s) from %(location)s.",
                    count,
                )
                self.stdout.write(describe(would, removal))
                return
            if not options["yes"]:
                question = ngettext(
                    "Delete %(count)s file (%(size)s) from %(location)s? [y/N] ",
                    "Delete %(count)s files (%(size)s) from %(location)s? [y/N] ",
                    count,
                )
                self.confirm(describe(question, removal))
            with cli.refusing(returncode=1):
                remove(removal)
        if options["verbosity"] >= 1:
            done = ngettext(
                "Deleted %(count)s file (%(size)s) from %(location)s.",
                "Deleted %(count)s files (%(size)s) from %(location)s.",
                count,
            )
            self.stdout.write(describe(done, removal))

    def list_files(self, removal: Removal, verbosity: int) -> None:
        if verbosity >= 2 or not removal.is_dir:
            for name in sorted(removal.files):
                self.stdout.write(
                    f"would delete {removal.location.mount}:{self.path(removal, name)}"
                )

    @staticmethod
    def path(removal: Removal, name: str) -> str:
        return removal.location.join(name) if removal.is_dir else removal.location.path

    def confirm(self, question: str) -> None:
        """Ask ``question`` on the terminal; refuse (nothing deleted) unless the answer is yes."""
        if not sys.stdin.isatty():
            # A script or a cron job cannot answer: deleting unasked would be a guess.
            raise CommandError(
                _(
                    "Standard input is not a terminal, so storage_rm cannot ask for "
                    "confirmation: pass --yes to delete. Nothing was deleted."
                ),
                returncode=cli.REFUSED,
            )
        self.stdout.write(question, ending="")
        self.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            raise CommandError(_("Not confirmed: nothing was deleted."), returncode=cli.REFUSED)


def describe(message: str, removal: Removal) -> str:
    """Return ``message`` filled with how many files ``removal`` deletes, their size, where."""
    size = cli.human_size(removal.size)
    return message % {"count": len(removal.files), "size": size, "location": removal.location}
