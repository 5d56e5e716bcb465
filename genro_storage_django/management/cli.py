"""What the ``storage_*`` commands share: arguments, refusals as exit status 2, sizes."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from genro_storage_django.transfer.listing import Location
from genro_storage_django.transfer.units import parse_duration, parse_size

T = TypeVar("T")

#: Exit status of a command that refused to start: it changed nothing.
REFUSED = 2
#: What a refusal raises: an unknown mount or bad settings, a traversal, a
#: missing file or a permission, a bad value.
REFUSALS = (ImproperlyConfigured, SuspiciousOperation, OSError, ValueError)


class TranslatedCommand(BaseCommand):
    """A command whose ``help`` is a lazy string, translated when the help is shown."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # argparse wraps the description with re.sub(), which takes only a str.
        parser.description = str(self.help)
        return parser


@contextlib.contextmanager
def refusing(returncode: int = REFUSED) -> Iterator[None]:
    """Turn the refusals raised inside the block into a ``CommandError`` with ``returncode``."""
    try:
        yield
    except REFUSALS as error:
        raise CommandError(str(error), returncode=returncode) from error


def location(text: str) -> Location:
    """Parse a ``MOUNT:PATH`` argument; a bad one is a ``CommandError`` with exit status 2."""
    with refusing():
        return Location.parse(text)


def argument_type(parse: Callable[[str], T]) -> Callable[[str], T]:
    """Return an argparse ``type`` from a parser that raises ``ValueError`` saying why."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as error:
            # argparse shows an ArgumentTypeError's message; a ValueError's it replaces.
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = parse.__name__
    return convert


size_argument = argument_type(parse_size)
duration_argument = argument_type(parse_duration)


def add_tenant_argument(parser: CommandParser) -> None:
    parser.add_argument(
        "--tenant",
        metavar="NAME",
        help=_("The current tenant, for mounts that keep each tenant's files apart."),
    )


def human_size(size: float) -> str:
    """Return ``size`` bytes as a short binary-prefixed string (``1.5 MiB``)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
