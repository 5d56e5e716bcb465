"""``collectstatic``, fast when ``STORAGES["staticfiles"]`` is a mount (docs/collectstatic.rst).

Django's command with every option and message kept; only ``collect()``
changes, for a mount: ``genro_storage_django.collect`` does the work. Any
other static storage gets Django's command unchanged. ``genro_storage_django``
must come before ``django.contrib.staticfiles`` in ``INSTALLED_APPS`` for
this command to replace Django's.
"""

from __future__ import annotations

import os
from typing import Any

from django.contrib.staticfiles.finders import get_finders
from django.contrib.staticfiles.management.commands import collectstatic
from django.core.management.base import CommandError, CommandParser
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from genro_storage_django.collect import CollectListener, PostProcessError, Source, collect
from genro_storage_django.exceptions import MountPermissionError
from genro_storage_django.i18n import lazy_message
from genro_storage_django.management import cli
from genro_storage_django.storage import MountStorage
from genro_storage_django.transfer import DEFAULT_WORKERS
from genro_storage_django.transfer.units import check_positive


class Command(cli.TranslatedCommand, collectstatic.Command):
    help = lazy_message(
        gettext_noop(
            "Collect static files in a single location; onto a mount, from one listing, "
            "uploading only changed files, in parallel."
        )
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--workers",
            type=int,
            default=DEFAULT_WORKERS,
            help=_("Files uploaded in parallel onto a mount (default: %(workers)s).")
            % {"workers": DEFAULT_WORKERS},
        )

    def set_options(self, **options: Any) -> None:
        super().set_options(**options)
        self.workers = options.get("workers", DEFAULT_WORKERS)
        try:
            check_positive("--workers", self.workers)
        except ValueError as error:
            raise CommandError(str(error)) from None

    def collect(self) -> dict[str, list[str]]:
        storage = mount_storage(self.storage)
        if storage is None:
            return super().collect()
        if self.symlink:
            if not self.local:
                message = _(
                    "--link makes symbolic links on a local disk; mount %(mount)s is of type "
                    "%(type)s. Run collectstatic without --link."
                )
                mount = storage.mount
                raise CommandError(message % {"mount": repr(mount.name), "type": repr(mount.type)})
            return super().collect()  # Django's links, on a local mount
        try:
            result = collect(
                storage,
                self.find_sources(),
                dry_run=self.dry_run,
                clear=self.clear,
                post_process=self.post_process,
                workers=self.workers,
                listener=_Log(self),
            )
        except PostProcessError as error:
            self.stderr.write(f"Post-processing '{error.name}' failed!")
            # A blank line before the traceback, as Django's command writes.
            self.stderr.write()
            raise error.error from None
        except MountPermissionError as error:
            raise CommandError(str(error)) from error
        if result.failed:
            count = len(result.failed)
            message = ngettext(
                "%(count)s static file could not be written or deleted (listed above); the "
                "manifest was not replaced. Run collectstatic again.",
                "%(count)s static files could not be written or deleted (listed above); the "
                "manifest was not replaced. Run collectstatic again.",
                count,
            )
            raise CommandError(message % {"count": count})
        self.copied_files = result.copied
        self.unmodified_files = result.unmodified
        self.post_processed_files = result.post_processed
        # Django 6 also reads "skipped" and "deleted" for its summary line.
        return {
            "modified": self.copied_files,
            "unmodified": self.unmodified_files,
            "post_processed": self.post_processed_files,
            "skipped": getattr(self, "skipped_files", []),
            "deleted": result.deleted,
        }

    def find_sources(self) -> dict[str, Source]:
        """Return the files of every finder by destination name, as Django's ``collect()``."""
        found: dict[str, Source] = {}
        for finder in get_finders():
            for path, storage in finder.list(self.ignore_patterns):
                prefix = getattr(storage, "prefix", None)
                prefixed_path = os.path.join(prefix, path) if prefix else path
                if prefixed_path not in found:
                    found[prefixed_path] = Source(prefixed_path, storage, path)
                else:
                    # Django 6 counts these in its summary line; 5.2 has no list.
                    getattr(self, "skipped_files", []).append(prefixed_path)
                    self.log(
                        f"Found another file with the destination path '{prefixed_path}'. It "
                        "will be ignored since only the first encountered file "
                        "is collected. If this is not what you want, make sure "
                        "every static file has a unique path.",
                        level=1,
                    )
        return found


class _Log(CollectListener):
    """Django's messages, at Django's verbosity levels."""

    def __init__(self, command: Command) -> None:
        self.command = command

    def copied(self, source: Source, dry_run: bool) -> None:
        if dry_run:
            self.command.log(f"Pretending to copy '{source.display()}'", level=1)
        else:
            self.command.log(f"Copying '{source.display()}'", level=2)

    def unmodified(self, source: Source) -> None:
        self.command.log(f"Skipping '{source.path}' (not modified)")

    def post_processed(self, name: str, processed_name: str, processed: bool) -> None:
        if processed:
            self.command.log(f"Post-processed '{name}' as '{processed_name}'", level=2)
        else:
            self.command.log(f"Skipped post-processing '{name}'")

    def deleted(self, name: str, dry_run: bool) -> None:
        verb = "Pretending to delete" if dry_run else "Deleting"
        self.command.log(f"{verb} '{name}'", level=1)

    def failed(self, name: str, reason: str) -> None:
        message = _("Failed: '%(name)s' (%(reason)s)")
        self.command.stderr.write(message % {"name": name, "reason": reason})


def mount_storage(storage: Any) -> MountStorage | None:
    """Return the ``MountStorage`` behind ``storage`` (a lazy ``staticfiles_storage``), or None."""
    if isinstance(storage, LazyObject):
        if storage._wrapped is empty:
            storage._setup()
        storage = storage._wrapped
    return storage if isinstance(storage, MountStorage) else None
