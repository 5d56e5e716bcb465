"""Compare two folders (``storage_check``), as ``rclone check``: from two listings."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from genro_storage_django.transfer.inspect import require_exists
from genro_storage_django.transfer.listing import FileStat, Location, list_files, same_content

DEFAULT_CHECKERS = 8


@dataclass
class Comparison:
    """What differs between ``source`` and ``destination``, by path relative to each."""

    source: str
    destination: str
    only_in_source: list[str] = field(default_factory=list)
    only_in_destination: list[str] = field(default_factory=list)
    # (name, what differs: "size" or "checksum")
    differing: list[tuple[str, str]] = field(default_factory=list)
    matching: int = 0
    # Files of the same size whose contents were not compared (no common checksum).
    unverified: int = 0

    @property
    def ok(self) -> bool:
        return not (self.only_in_source or self.only_in_destination or self.differing)


def compare(
    source: Location,
    destination: Location,
    checksum: bool = False,
    checkers: int = DEFAULT_CHECKERS,
) -> Comparison:
    """Return how the files below ``destination`` differ from those below ``source``.

    Sizes are always compared, and contents wherever both listings carry a
    checksum of the same kind. With ``checksum``, files without one are read
    and hashed, ``checkers`` at a time. A missing ``destination`` counts as
    empty (an object store cannot tell it from an empty folder); a missing
    ``source`` is a ``FileNotFoundError``, a file a ``NotADirectoryError``.
    """
    if not require_exists(source):
        raise _not_a_folder(source)
    sources, targets = list_files(source), _optional_listing(destination)
    result = Comparison(str(source), str(destination))
    result.only_in_source = sorted(set(sources) - set(targets))
    result.only_in_destination = sorted(set(targets) - set(sources))
    to_hash = []
    for name in sorted(set(sources) & set(targets)):
        first, second = sources[name], targets[name]
        if first.size != second.size:
            result.differing.append((name, "size"))
        elif set(first.checksums) & set(second.checksums) or checksum:
            to_hash.append(name)
        else:
            result.unverified += 1
    with ThreadPoolExecutor(checkers, thread_name_prefix="storage-check") as pool:
        # Each check runs in a copy of the caller's context (the current tenant).
        futures = [
            pool.submit(
                contextvars.copy_context().run,
                same_content,
                (source.backend, source.full_path(name), sources[name]),
                (destination.backend, destination.full_path(name), targets[name]),
            )
            for name in to_hash
        ]
        for name, future in zip(to_hash, futures, strict=True):
            if not future.result():
                result.differing.append((name, "checksum"))
    result.differing.sort()
    result.matching = len(set(sources) & set(targets)) - len(result.differing)
    return result


def _optional_listing(location: Location) -> dict[str, FileStat]:
    backend = location.backend
    if not backend.isdir(location.full_path()):
        if backend.exists(location.full_path()):
            raise _not_a_folder(location)
        return {}
    return list_files(location)


def _not_a_folder(location: Location) -> NotADirectoryError:
    message = _("%(location)s is a file: storage_check compares folders.")
    return NotADirectoryError(message % {"location": location})
