"""``manage.py storage_cors MOUNT --origin URL``: the bucket CORS rule of direct uploads."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from genro_storage_django.conf import mount_names
from genro_storage_django.i18n import lazy_message
from genro_storage_django.management import cli
from genro_storage_django.storage import get_storage


class Command(cli.TranslatedCommand):
    help = lazy_message(
        gettext_noop(
            "Print, as JSON, the CORS configuration that lets pages of each --origin upload "
            "straight to MOUNT's bucket (or Azure account); with --apply, set it, replacing "
            "the current one."
        )
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("mount", metavar="MOUNT", help=_("The mount that uploads go to."))
        parser.add_argument(
            "--origin",
            action="append",
            required=True,
            metavar="URL",
            help=_(
                "The scheme, host and port of the site's pages (https://example.com); "
                "repeat for several."
            ),
        )
        parser.add_argument(
            "--apply",
            action="store_true",
            help=_("Set the configuration on the bucket, replacing the current one."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name, origins = options["mount"], [origin.rstrip("/") for origin in options["origin"]]
        if name not in mount_names():
            known = ", ".join(sorted(mount_names())) or _("none")
            message = _("No mount %(mount)s (defined mounts: %(known)s).")
            raise CommandError(message % {"mount": repr(name), "known": known})
        backend = get_storage(name).backend
        rule = backend.cors_rule(origins)
        if rule is None:
            message = _(
                "Mount %(mount)s (%(type)s) needs no CORS rule: its uploads go to this site's "
                "own upload view."
            )
            raise CommandError(message % {"mount": repr(name), "type": backend.type_name})
        self.stdout.write(json.dumps(rule, indent=2))
        if options["apply"]:
            with cli.refusing():
                backend.apply_cors(origins)
            done = _("Set the CORS configuration of mount %(mount)s.")
            self.stderr.write(done % {"mount": repr(name)})
