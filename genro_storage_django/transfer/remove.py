"""Delete a file or a folder of a mount (``storage_rm``): refuse first, then delete."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from genro_storage_django.exceptions import MountPermissionError
from genro_storage_django.transfer.inspect import require_exists
from genro_storage_django.transfer.listing import FileStat, Location, list_files, stat_file


@dataclass(frozen=True)
class Removal:
    """What deleting ``location`` would delete: its files by relative name."""

    location: Location
    is_dir: bool
    files: dict[str, FileStat]

    @property
    def size(self) -> int:
        return sum(stat.size for stat in self.files.values())


def plan_removal(location: Location, recursive: bool = False) -> Removal:
    """Return what deleting ``location`` would delete, having changed nothing.

    Raise ``ValueError`` for the root of a mount, ``MountPermissionError`` if
    the mount does not allow deletion, ``FileNotFoundError`` if nothing is
    there, and ``IsADirectoryError`` for a folder unless ``recursive``.
    """
    if not location.path:
        message = _(
            "%(location)s is the root of mount %(mount)s: "
            "a whole mount is never deleted; name a file or a folder in it."
        )
        raise ValueError(message % {"location": location, "mount": repr(location.mount)})
    mount = location.storage.mount
    if not mount.can_delete:
        raise MountPermissionError(mount.name, "delete", location.path, mount.permissions)
    if not require_exists(location):
        return Removal(location, False, {location.path.rsplit("/", 1)[-1]: stat_file(location)})
    if not recursive:
        message = _("%(location)s is a folder: pass -r to delete everything below it.")
        raise IsADirectoryError(message % {"location": location})
    return Removal(location, True, list_files(location))


def remove(removal: Removal) -> None:
    """Delete what ``removal`` names, through the storage (which checks permissions again)."""
    storage = removal.location.storage
    if removal.is_dir:
        storage.delete_tree(removal.location.path)
    else:
        storage.delete(removal.location.path)
