"""Validation of the file names that reach a mount."""

from __future__ import annotations

import re

from django.core.exceptions import SuspiciousFileOperation

_DRIVE_RE = re.compile(r"^[A-Za-z]:(/|$)")


def clean_name(name: str) -> str:
    """Return ``name`` as a normalised path relative to the mount root.

    Backslashes count as separators (as in ``Storage.generate_filename``);
    empty and ``.`` segments are dropped. ``SuspiciousFileOperation`` is raised
    for NUL bytes, lone surrogates, absolute paths and ``..`` segments, so no name can leave its
    mount. The empty string names the root itself.
    """
    if type(name) is not str:
        name = str(name)
    if _is_clean(name):
        return name
    if "\x00" in name:
        raise SuspiciousFileOperation(f"Detected a NUL byte in the file name {name!r}.")
    if not name.isascii():
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate: no object store takes it, and a local file
            # would get a name that is not text (undecodable bytes).
            raise SuspiciousFileOperation(f"The file name {name!r} is not valid text.") from None
    posix = name.replace("\\", "/")
    parts = [part for part in posix.split("/") if part not in ("", ".")]
    cleaned = "/".join(parts)
    # The drive is looked for after dropping "." segments: "./C:/x" is "C:/x".
    if posix.startswith("/") or _DRIVE_RE.match(cleaned):
        raise SuspiciousFileOperation(f"Detected an absolute path in {name!r}.")
    if ".." in parts:
        raise SuspiciousFileOperation(f"Detected path traversal attempt in {name!r}.")
    return cleaned


def _is_clean(name: str) -> bool:
    # The usual case, on every operation: text with no segment to drop or
    # refuse. A name with a backslash, a colon (a drive), a NUL byte, an empty
    # segment, a leading or trailing "/", or a segment starting with "." (".",
    # "..", but also a hidden name, which the full cleaning keeps) takes the
    # full path. String methods only: a regular expression costs more.
    return (
        name.isascii()
        and name[:1] not in ("/", ".")
        and name[-1:] != "/"
        and "/." not in name
        and "//" not in name
        and "\\" not in name
        and ":" not in name
        and "\x00" not in name
    )
