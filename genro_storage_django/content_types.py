"""The Content-Type a file is stored and served with, from its name alone.

One rule for every path a file takes (object-store uploads, the serve view,
the admin): a compressed file keeps its archive type and gets no
``Content-Encoding``, as Django's ``FileResponse`` sends it. ``app.css.gz`` is
``application/gzip``, downloaded as it is, never unpacked by the browser.
"""

from __future__ import annotations

import mimetypes

DEFAULT = "application/octet-stream"

# The types FileResponse gives the encodings that mimetypes knows.
ENCODING_TYPES = {
    "bzip2": "application/x-bzip",
    "gzip": "application/gzip",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
    "compress": "application/x-compress",
}


def content_type(name: str) -> str:
    """Return the Content-Type of a file called ``name``."""
    guessed, encoding = mimetypes.guess_type(name)
    if encoding:
        return ENCODING_TYPES.get(encoding, DEFAULT)
    return guessed or DEFAULT
