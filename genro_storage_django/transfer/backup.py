"""``--backup-dir``: keep what a copy would destroy (an overwritten or deleted file)."""

from __future__ import annotations

from genro_storage_django.backends.base import Backend
from genro_storage_django.exceptions import MountPermissionError
from genro_storage_django.transfer.listing import CHUNK_SIZE, Location, nested, overlap


class Backup:
    """Move destination files to ``location`` before they are replaced or deleted.

    A file keeps its path relative to the destination; an older backup of the
    same name is replaced (run with a dated folder to keep every version).
    """

    def __init__(self, location: Location) -> None:
        self.location = location

    def check(self, destination: Location) -> None:
        """Raise if the backups cannot be written, or would land inside ``destination``."""
        mount = self.location.storage.mount
        if not mount.can_write:
            raise MountPermissionError(mount.name, "write", self.location.path, mount.permissions)
        if nested(self.location, destination):
            raise overlap(f"--backup-dir {self.location}", destination)

    def where(self, name: str) -> str:
        """Return the ``MOUNT:PATH`` the destination file ``name`` is kept at."""
        return f"{self.location.mount}:{self.location.join(name)}"

    def keep(self, backend: Backend, path: str, name: str) -> str:
        """Move the destination file at ``path`` (``backend``'s) to the backups; return where."""
        target = self.location.backend
        backup = self.location.full_path(name)
        if backend.same_filesystem(target):
            # A rename on a disk, a server-side copy on an object store.
            target.delete(backup)
            backend.move(path, backup)
        else:
            with backend.open(path, "rb") as file:
                target.write(backup, iter(lambda: file.read(CHUNK_SIZE), b""), overwrite=True)
        return self.where(name)
