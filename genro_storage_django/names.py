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
    name = str(name)
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
