"""Copy files from one mount to another: plan from two listings, then stream in parallel.

``copy("media:photos", "backup:photos")`` lists both sides once, decides from
the listings which files are already done (``skip``), copies the rest in a
thread pool and returns a ``TransferResult``. Nothing is printed: callers
follow the progress through a ``TransferListener``.

Every file moves in ``CHUNK_SIZE`` pieces, or by a server-side (or kernel)
copy when both mounts reach the same filesystem, so memory stays bounded
whatever the file size. Destination backends publish a file only once it is
complete, so a rerun after a crash or Ctrl-C copies what is missing.
"""

from genro_storage_django.transfer.api import copy
from genro_storage_django.transfer.engine import (
    DEFAULT_CHECKERS,
    DEFAULT_IN_FLIGHT,
    DEFAULT_WORKERS,
    Transfer,
)
from genro_storage_django.transfer.files import VerifyError
from genro_storage_django.transfer.listing import CHUNK_SIZE, FileStat, Location
from genro_storage_django.transfer.result import FileOutcome, TransferListener, TransferResult
from genro_storage_django.transfer.rules import DEFAULT_SKIP, SKIP_RULES, Selection
from genro_storage_django.transfer.shards import SHARD_BYTES, SHARD_FILES

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_CHECKERS",
    "DEFAULT_IN_FLIGHT",
    "DEFAULT_SKIP",
    "DEFAULT_WORKERS",
    "SHARD_BYTES",
    "SHARD_FILES",
    "SKIP_RULES",
    "FileOutcome",
    "FileStat",
    "Location",
    "Selection",
    "Transfer",
    "TransferListener",
    "TransferResult",
    "VerifyError",
    "copy",
]
