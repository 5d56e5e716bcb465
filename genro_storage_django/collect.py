"""Collect static files onto a mount: plan from one listing, compare by content, upload in parallel.

``collect(storage, sources)`` is what ``manage.py collectstatic`` runs when
``STORAGES["staticfiles"]`` is a mount (``genro_storage_django.staticfiles``).
Django's command asks the destination about every file (two HEAD requests
each on S3) and uploads one file at a time; here:

* the destination is listed once, and a file is uploaded only if the MD5 of
  its source differs from the destination's checksum in that listing (or,
  for an object whose ETag is no MD5, the one ``write_with_md5()`` stored in
  its metadata: one HEAD for that object only);
* uploads run ``workers`` at a time (``genro_storage_django.uploads``), each
  file published whole or not at all;
* a storage with ``post_process()`` (the manifest storage) post-processes once
  against the listing (``genro_storage_django.postprocess``); the hashed
  files it makes are uploaded like the others and the manifest last, once
  every file it names is in place. ``clear`` deletes what the run did not
  collect after that, so the site is never left without its files.

Nothing is printed: the command follows the run through a ``CollectListener``.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from genro_storage_django.exceptions import MountPermissionError
from genro_storage_django.names import clean_name
from genro_storage_django.postprocess import PostProcessing
from genro_storage_django.storage import MountStorage
from genro_storage_django.transfer import DEFAULT_WORKERS, FileStat
from genro_storage_django.uploads import Source, Upload, Uploader, reader


class PostProcessError(Exception):
    """``post_process()`` failed on ``name``: ``error`` is what it yielded."""

    def __init__(self, name: str, error: Exception) -> None:
        super().__init__(f"Post-processing {name!r} failed: {error}")
        self.name, self.error = name, error


class CollectListener:
    """Follow a run; every method is called from the caller's thread."""

    def copied(self, source: Source, dry_run: bool) -> None:
        """Receive a collected file that was uploaded (or would be, in a dry run)."""

    def unmodified(self, source: Source) -> None:
        """Receive a collected file whose content the mount already had."""

    def post_processed(self, name: str, processed_name: str, processed: bool) -> None:
        """Receive what ``post_process()`` yielded for ``name``."""

    def deleted(self, name: str, dry_run: bool) -> None:
        """Receive a file that ``clear`` deleted (or would delete)."""

    def failed(self, name: str, reason: str) -> None:
        """Receive a file that could not be written or deleted."""


@dataclass
class CollectResult:
    """What a run did: names on the mount, as Django's command counts them."""

    copied: list[str] = field(default_factory=list)
    unmodified: list[str] = field(default_factory=list)
    post_processed: list[str] = field(default_factory=list)
    #: Every file written: collected ones, hashed copies, the manifest.
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


class Collector:
    """One run of ``collect()``; see there for the parameters."""

    def __init__(
        self,
        storage: MountStorage,
        sources: Mapping[str, Source],
        *,
        dry_run: bool = False,
        clear: bool = False,
        post_process: bool = True,
        workers: int = DEFAULT_WORKERS,
        listener: CollectListener | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}.")
        self.storage, self.sources = storage, sources
        self.dry_run, self.clear, self.workers = dry_run, clear, workers
        self.post_process = post_process and hasattr(storage, "post_process")
        self.listener = listener or CollectListener()
        self.backend = storage.backend
        self.result = CollectResult()
        self.listing: dict[str, FileStat] = {}
        self._futures: dict[Future[bool], tuple[str, Source | None]] = {}
        self._staging: PostProcessing | None = None

    def run(self) -> CollectResult:
        self._check()
        root = self.backend.mount_root
        self.listing = {
            name: FileStat.from_info(self.backend, info) for name, info in self.backend.find(root)
        }
        with ThreadPoolExecutor(self.workers, thread_name_prefix="collectstatic") as pool:
            uploader = Uploader(
                self.backend, self.listing, pool, workers=self.workers, dry_run=self.dry_run
            )
            try:
                self._collect(uploader)
            except BaseException:
                # Queued uploads never start; running ones finish whole or not at all.
                for future in self._futures:
                    future.cancel()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        return self.result

    def _check(self) -> None:
        mount = self.storage.mount
        if not mount.can_write:
            raise MountPermissionError(mount.name, "write", "", mount.permissions)
        if self.clear and not mount.can_delete:
            raise MountPermissionError(mount.name, "delete", "", mount.permissions)

    def _collect(self, uploader: Uploader) -> None:
        for source in self.sources.values():
            self._submit(uploader, source.name, source, source)
        manifest = self._post_process(uploader) if self.post_process else None
        self._wait()
        if self.result.failed:
            return  # no manifest naming a missing file, nothing deleted
        if manifest is not None and not self.dry_run:
            self._write_manifest(uploader, *manifest)
        if self.clear and not self.result.failed:
            self._delete_stale(uploader.pool)

    def _post_process(self, uploader: Uploader) -> tuple[str, bytes] | None:
        def upload(name: str, source: Source) -> None:
            self._submit(uploader, name, source)

        staging = self._staging = PostProcessing(
            self.storage, self.sources, self.listing, upload, clear=self.clear
        )
        for name, processed_name, processed in staging.run(self.dry_run):
            if isinstance(processed, Exception):
                raise PostProcessError(name, processed)
            if processed:
                self.result.post_processed.append(name)
            self.listener.post_processed(name, processed_name, bool(processed))
        for name, data in staging.files.items():
            self._submit(uploader, name, data)
        return staging.manifest

    def _write_manifest(self, uploader: Uploader, name: str, data: bytes) -> None:
        manifest_storage = getattr(self.storage, "manifest_storage", self.storage)
        if manifest_storage is self.storage:
            self._submit(uploader, name, data)
            self._wait()
            return
        # Another storage keeps the manifest: written as Django does, last all the same.
        if manifest_storage.exists(name):
            manifest_storage.delete(name)
        manifest_storage._save(name, ContentFile(data))

    # Uploads

    def _submit(
        self,
        uploader: Uploader,
        name: str,
        content: Source | bytes,
        collected: Source | None = None,
    ) -> None:
        """Upload ``content`` (a source's file, or bytes) as ``name``; ``collected`` is counted."""
        if isinstance(content, bytes):
            upload = Upload(name, reader(content), inline=True)
        else:
            # Django's own disk storages read without waiting: fine on an event loop.
            upload = Upload(name, content.open, isinstance(content.storage, FileSystemStorage))
        self._futures[uploader.submit(upload)] = (name, collected)

    def _wait(self) -> None:
        futures, self._futures = self._futures, {}
        for future in as_completed(futures):
            self._record(*futures[future], future)

    def _record(self, name: str, source: Source | None, future: Future[bool]) -> None:
        try:
            written = future.result()
        except Exception as error:
            self._failed(name, error)
            return
        if written:
            self.result.uploaded.append(name)
        if source is None:
            return
        if written:
            self.result.copied.append(source.name)
            self.listener.copied(source, self.dry_run)
        else:
            self.result.unmodified.append(source.name)
            self.listener.unmodified(source)

    def _failed(self, name: str, error: Exception) -> None:
        reason = f"{type(error).__name__}: {error}"
        self.result.failed.append((name, reason))
        self.listener.failed(name, reason)

    # --clear

    def _delete_stale(self, pool: ThreadPoolExecutor) -> None:
        kept = {clean_name(name) for name in [*self.sources, *self.result.uploaded]}
        if self._staging is not None:
            kept |= self._staging.names
        stale = sorted(set(self.listing) - kept)
        futures = {pool.submit(self._delete, name): name for name in stale}
        for future in as_completed(futures):
            name = futures[future]
            try:
                future.result()
            except Exception as error:
                self._failed(name, error)
            else:
                self.result.deleted.append(name)
                self.listener.deleted(name, self.dry_run)

    def _delete(self, name: str) -> None:
        if not self.dry_run:
            self.backend.delete(self.backend.full_path(clean_name(name)))


def collect(storage: MountStorage, sources: Mapping[str, Source], **options: Any) -> CollectResult:
    """Collect ``sources`` (by name on the mount) onto the mount of ``storage``.

    Parameters
    ----------
    dry_run: bool
        Decide and report, but write and delete nothing.
    clear: bool
        Delete the files of the mount that this run did not collect, once
        everything else is done.
    post_process: bool
        Run the storage's ``post_process()`` (hashed names, the manifest) if it has one.
    workers: int
        Files uploaded in parallel.
    listener: CollectListener
        Receives the progress.

    Raise ``MountPermissionError`` before anything is written if the mount
    refuses writes (or deletes, with ``clear``), ``PostProcessError`` if
    ``post_process()`` fails; failed uploads are in the result instead, and
    then neither the manifest nor any deletion is made.
    """
    return Collector(storage, sources, **options).run()
