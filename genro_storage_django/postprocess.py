"""Run a static storage's own ``post_process()`` against a listing, writing nothing to the mount.

Django's ``HashedFilesMixin`` asks the destination whether each hashed name
exists, deletes and saves it again, and ``ManifestFilesMixin`` then replaces
the manifest: on an object store, requests per file, and a window where the
live manifest names a file just deleted. Here ``post_process()`` runs on a
copy of the storage whose ``exists()``, ``open()``, ``_save()`` and ``delete()``
answer from the listing, the sources and what it saved: the caller
(``genro_storage_django.collect``) uploads the files it made and writes the
manifest last. Any storage class works, with its own patterns and hashing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile, File

from genro_storage_django.names import clean_name
from genro_storage_django.storage import MountStorage

if TYPE_CHECKING:
    from genro_storage_django.transfer import FileStat
    from genro_storage_django.uploads import Source

# The attribute that marks a file opened from a source: saved as it is, it is
# uploaded from the source again rather than kept in memory.
_SOURCE = "_genro_collect_source"


class _Tagging:
    """A finder's storage, as ``post_process()`` opens it: each file knows its ``Source``."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def open(self, path: str, mode: str = "rb") -> File:
        file = self.source.storage.open(path, mode)
        setattr(file, _SOURCE, self.source)
        return file


class StagedWrites:
    """The operations ``post_process()`` uses, on the listing and in memory (see the module)."""

    _listing: Mapping[str, FileStat]
    _sources: Mapping[str, Source]
    _clear: bool
    _upload: Callable[[str, Source], None]
    staged: dict[str, bytes | Source]
    removed: set[str]

    def exists(self, name: str) -> bool:
        name = clean_name(name)
        if name in self.staged:
            return True
        if name in self.removed:
            return False
        # With clear, Django's command empties the mount first: the listing does not count.
        return name in self._sources or (not self._clear and name in self._listing)

    def delete(self, name: str) -> None:
        name = clean_name(name)
        self.staged.pop(name, None)
        self.removed.add(name)

    def _save(self, name: str, content: File) -> str:
        name = clean_name(name)
        source = getattr(content, _SOURCE, None)
        self.removed.discard(name)
        if source is not None:
            # A source's copy under its hashed name: final at once, so its
            # upload starts while the other files are processed.
            self.staged[name] = source
            self._upload(name, source)
        else:
            self.staged[name] = b"".join(
                chunk.encode() if isinstance(chunk, str) else chunk for chunk in content.chunks()
            )
        return name

    def _open(self, name: str, mode: str = "rb") -> File:
        name = clean_name(name)
        staged = self.staged.get(name)
        if isinstance(staged, bytes):
            return ContentFile(staged, name=name)
        source = staged or (None if name in self.removed else self._sources.get(name))
        if source is not None:
            # What the mount will hold once the run is over.
            return source.storage.open(source.path, mode)
        return super()._open(name, mode)  # type: ignore[misc]


class PostProcessing:
    """One ``post_process()`` of ``storage`` over ``sources``, against ``listing`` of its mount.

    ``upload(name, source)`` is called for every copy of a source it makes
    (at once, from the caller's thread); after ``run()``, ``files`` holds what
    it made in memory (rewritten CSS), ``manifest`` the manifest's name and
    content, and the storage its new ``hashed_files``. With ``clear``, files
    of the mount count as absent, as after Django's ``--clear``.
    """

    def __init__(
        self,
        storage: MountStorage,
        sources: Mapping[str, Source],
        listing: Mapping[str, FileStat],
        upload: Callable[[str, Source], None],
        *,
        clear: bool = False,
    ) -> None:
        self.storage = storage
        self.sources = sources
        self.staged_storage = _staged_copy(storage, sources, listing, upload)
        self.staged_storage._clear = clear
        self.files: dict[str, bytes] = {}
        self.manifest: tuple[str, bytes] | None = None

    def run(self, dry_run: bool) -> Iterator[tuple[str, str, Any]]:
        """Yield ``(name, processed_name, processed)`` as ``post_process()`` does."""
        staged = self.staged_storage
        paths = {name: (_Tagging(source), source.path) for name, source in self.sources.items()}
        yield from staged.post_process(paths, dry_run=dry_run)
        manifest_name = clean_name(getattr(staged, "manifest_name", None) or "")
        manifest = staged.staged.pop(manifest_name, None) if manifest_name else None
        self.files = {name: data for name, data in staged.staged.items() if isinstance(data, bytes)}
        if isinstance(manifest, bytes):
            self.manifest = (manifest_name, manifest)
        if not dry_run:
            # As after Django's post_process(): url() gives the new hashed names.
            for attribute in ("hashed_files", "manifest_hash"):
                if hasattr(staged, attribute):
                    setattr(self.storage, attribute, getattr(staged, attribute))

    @property
    def names(self) -> set[str]:
        """Every name the run leaves on the mount (a hashed name it found there is one)."""
        staged = self.staged_storage
        hashed = getattr(staged, "hashed_files", None) or {}
        names = set(staged.staged) | {clean_name(name) for name in hashed.values()}
        return names | ({self.manifest[0]} if self.manifest else set())


def _staged_copy(
    storage: MountStorage,
    sources: Mapping[str, Source],
    listing: Mapping[str, FileStat],
    upload: Callable[[str, Source], None],
) -> Any:
    staged: Any = copy.copy(storage)
    # The storage's own class under StagedWrites: its post_process(), patterns
    # and hashing, with the writes caught.
    cls = type(storage)
    staged.__class__ = type(f"Staged{cls.__name__}", (StagedWrites, cls), {})
    staged._listing, staged._sources, staged._upload = listing, sources, upload
    staged.staged, staged.removed = {}, set()
    if hasattr(storage, "manifest_storage"):
        # Caught too: the caller writes the manifest, last.
        staged.manifest_storage = staged
    return staged
