"""``copy()``: the transfer engine's entry point."""

from __future__ import annotations

from typing import Any

from genro_storage_django.transfer.engine import Transfer
from genro_storage_django.transfer.listing import Location
from genro_storage_django.transfer.result import TransferResult


def copy(
    source: str,
    destination: str,
    **options: Any,
) -> TransferResult:
    """Copy ``source`` to ``destination``, both ``MOUNT:PATH``, and return the result.

    A directory is copied recursively; a file is copied to ``destination``, or
    into it when it is a directory (or ends with ``/``).

    Parameters
    ----------
    skip: "never", "exists", "size", "size-time" (default) or "hash"
        What makes a file already done at the destination: nothing; being
        there; the same size; the same size and a destination not older than
        the source; the same checksum (the backends' own when they agree,
        else streamed).
    dry_run: bool
        Decide and report, but change nothing.
    delete: bool
        Delete destination files that the source lacks (only under
        ``destination``; files the filters leave out are kept).
    include, exclude: sequences of glob patterns
        Matched against the path relative to ``source``; ``*`` crosses ``/``.
    files_from: iterable of paths relative to ``source``
        Only these (blank lines and lines starting with ``#`` are ignored).
    min_size, max_size: int
        Only files of at least, at most, this many bytes.
    min_age, max_age: datetime.timedelta
        Only files modified at least, at most, this long ago.
    workers: int
        Threads copying files: large ones, and every file where the two mounts
        share no event loop.
    in_flight: int
        Small files (up to 1 MiB) copied at once as coroutines on an event loop
        both mounts work on (s3, gcs, azure, with local or memory): one request
        each, so that round trips overlap whatever the threads (32).
    checkers: int
        Files compared in parallel (``skip="hash"``).
    server_side: bool
        Let the backends copy without the bytes passing through this process
        when both mounts reach the same filesystem.
    checksum_verify: bool
        After each copy, compare the destination's checksum with the source's
        (from the listings where both have one, else by reading); a mismatch
        is a failure of that file.
    keep_parameters: bool
        Give each copy the object parameters the source file was stored with
        (its headers and metadata; its storage class and encryption too
        between mounts of one type) instead of the destination mount's
        ``object_parameters`` rules. ACLs are not kept.
    max_transfer: int
        Bytes to copy at most: a file that would pass the limit is not started
        (outcome ``defer``); smaller ones after it still are.
    backup_dir: "MOUNT:PATH"
        Move each destination file that a copy would replace or ``delete``
        would delete there first, under the same relative path.
    retries, retry_delay: int, float
        Attempts after the first on a transient error (throttling, 5xx,
        resets), waiting ``retry_delay`` seconds, then twice as long…
    bwlimit: int
        Bytes per second that the copies read and write at most, together
        (server-side copies are not limited).
    listener: TransferListener
        Receives the progress: ``transferred()`` from the threads that move
        bytes, ``found()``, ``planned()`` and ``done()`` from the caller's
        thread only. Copying starts as the listings are read: ``found()``
        hears each file to process, ``planned()`` the totals once they end.
    engine: "threads" (default) or "celery"
        Where the files are copied: in this process, or by the project's
        Celery workers, in shards (``genro_storage_django.transfer.fanout``).
    shard_files, shard_size, celery_timeout: int, int, float
        With ``engine="celery"``: files and bytes per shard at most (500,
        256 MiB), and how long to wait for a worker to answer (5 s).

    Raise ``MountNotFound``, ``MountPermissionError``, ``FileNotFoundError``,
    ``ValueError`` or (with Celery) ``ImproperlyConfigured`` before anything is
    copied if the transfer cannot start; failures of single files are in the
    result instead.
    """
    return Transfer(Location.parse(source), Location.parse(destination), **options).run()
