"""Adaptive read-ahead for files read from an object store (s3, gcs, azure) or an HTTP server.

A read that starts a file, or follows a seek, fetches one small block
(``FIRST_BLOCK``): reading an image's header or a file's first line costs
64 KiB, not the mount's whole block. Each read that goes on where the
previous fetch ended fetches ``GROWTH`` times more, up to the mount's block
size, so a sequential read soon makes as few requests as one of fixed
blocks would. Writes are not concerned: they keep their parts.

``Window`` is the policy; ``ReadaheadCache`` applies it to the files of the
fsspec classes (``open()``), ``backends.aio.RangeReader`` to ``aopen()``.
"""

from __future__ import annotations

import functools
from typing import Any

from fsspec.caching import BaseCache, Fetcher, register_cache

#: Bytes fetched by the first read of a file, and by the first after a seek.
FIRST_BLOCK = 64 * 1024
#: How much larger each fetch of a sequential read is than the one before.
GROWTH = 4


class Window:
    """How many bytes the next fetch of one file asks for."""

    def __init__(self, limit: int, first: int = FIRST_BLOCK) -> None:
        self.first = max(1, min(first, limit))
        self.limit = max(limit, self.first)
        self.size = self.first

    def next(self, sequential: bool, asked: int = 0) -> int:
        """Return the size of the fetch to make now for a read of ``asked`` bytes: larger
        than the last fetch if it goes on from it, never less than ``asked``."""
        grown = min(self.limit, self.size * GROWTH) if sequential else self.first
        # Grow from what was fetched: reads of 1 MiB would otherwise each
        # fetch their own MiB while the window caught up with them.
        self.size = max(grown, min(asked, self.limit))
        return max(grown, asked)


class ReadaheadCache(BaseCache):
    """An fsspec file cache that reads ahead by a ``Window``: one range per miss.

    It holds the last range fetched, and the part of the one before that
    the read asking for it still needed: at most about twice the larger of
    the read and the mount's block size.
    """

    name = "genro-readahead"

    def __init__(self, blocksize: int, fetcher: Fetcher, size: int, limit: int = 0) -> None:
        super().__init__(blocksize, fetcher, size)
        self.window = Window(limit or blocksize, blocksize)
        self.cache = b""
        self.start = self.end = 0
        self.fetches = 0

    def _fetch(self, start: int | None, stop: int | None) -> bytes:
        start = 0 if start is None else start
        stop = self.size if stop is None else min(stop, self.size)
        if start >= stop:
            return b""
        if self.start <= start and stop <= self.end:
            self.hit_count += 1
            return self.cache[start - self.start : stop - self.start]
        self.miss_count += 1
        # A read that starts within what is held (or right after it) goes on
        # sequentially; any other is a seek, which starts small again.
        sequential = self.fetches > 0 and self.start <= start <= self.end
        kept = self.cache[start - self.start :] if sequential else b""
        begin = start + len(kept)
        end = min(self.size, begin + self.window.next(sequential, stop - begin))
        data = self.fetcher(begin, end)
        self.fetches += 1
        self.total_requested_bytes += end - begin
        self.cache = kept + data if kept else data
        self.start, self.end = start, start + len(self.cache)
        return self.cache[: stop - start]


@functools.cache
def _registered() -> str:
    register_cache(ReadaheadCache, clobber=True)
    return ReadaheadCache.name


def open_options(block_size: int) -> dict[str, Any]:
    """Return the keyword arguments of an fsspec ``open()`` for reading that make it read
    ahead adaptively, up to ``block_size`` bytes a request.

    The file's own block size is the first fetch: fsspec's ``readline()`` reads
    that much at a time too.
    """
    return {
        "block_size": min(FIRST_BLOCK, block_size),
        "cache_type": _registered(),
        "cache_options": {"limit": block_size},
    }
