"""A ZIP archive written while it is sent: no temporary file, memory bounded by one chunk.

``zipfile`` writes into a sink that cannot seek, so it puts each member's
sizes and CRC in a data descriptor after the data instead of going back to
the header; whatever it wrote is handed to the response at once. ZIP64
records are written where sizes or offsets need them (``allowZip64``), and
for every member larger than ``ZIP64_FROM``.
"""

from __future__ import annotations

import datetime
import io
import logging
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from genro_storage_django.storage import MountStorage

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
#: Members at least this large get ZIP64 headers whatever zipfile would choose.
ZIP64_FROM = 1024**3
#: Content types already compressed: stored as they are, even with deflate on.
_COMPRESSED_PREFIXES = ("image/", "video/", "audio/")
_COMPRESSED_TYPES = frozenset(
    {"application/zip", "application/gzip", "application/x-7z-compressed", "application/pdf"}
)


@dataclass(frozen=True)
class Member:
    """One file or folder of the archive: its name inside it and in the mount."""

    arcname: str
    name: str
    is_dir: bool = False
    size: int | None = None
    modified: datetime.datetime | None = None
    content_type: str = "application/octet-stream"


class _Sink(io.RawIOBase):
    """A write-only stream that keeps what it receives until ``drain()``; it cannot seek."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._parts.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def drain(self) -> Iterator[bytes]:
        if self._parts:
            data = b"".join(self._parts)
            self._parts.clear()
            yield data


def _date_time(modified: datetime.datetime | None) -> tuple[int, int, int, int, int, int]:
    if modified is None or modified.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return modified.timetuple()[:6]


def _compress_type(member: Member, deflate: bool) -> int:
    kind = member.content_type
    if not deflate or kind.startswith(_COMPRESSED_PREFIXES) or kind in _COMPRESSED_TYPES:
        return zipfile.ZIP_STORED
    return zipfile.ZIP_DEFLATED


def stream_zip(
    storage: MountStorage, members: Iterable[Member], deflate: bool = False
) -> Iterator[bytes]:
    """Yield the bytes of a ZIP archive of ``members`` read from ``storage``, as they are made.

    A file that cannot be read when its turn comes is left out and logged: the
    response has begun, so its status can no longer say so.
    """
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:
        for member in members:
            info = zipfile.ZipInfo(
                f"{member.arcname}/" if member.is_dir else member.arcname,
                date_time=_date_time(member.modified),
            )
            if member.is_dir:
                info.external_attr = 0o40755 << 16 | 0x10
                archive.writestr(info, b"")
            else:
                info.external_attr = 0o644 << 16
                info.compress_type = _compress_type(member, deflate)
                info.file_size = member.size or 0
                yield from _write_member(storage, archive, info, member, sink)
            yield from sink.drain()
    yield from sink.drain()


def _write_member(
    storage: MountStorage,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    member: Member,
    sink: _Sink,
) -> Iterator[bytes]:
    try:
        source = storage.open(member.name, "rb")
    except OSError:
        logger.warning("Left %r of mount %r out of a ZIP download", member.name, storage.mount.name)
        return
    large = member.size is None or member.size >= ZIP64_FROM
    with source, archive.open(info, "w", force_zip64=large) as target:
        while chunk := source.read(CHUNK_SIZE):
            target.write(chunk)
            yield from sink.drain()
