"""What the s3, gcs and azure adapters share: a bucket, a key prefix, signed or public URLs.

An object store has keys, not directories: a "directory" is a key prefix
that some key starts with. Each adapter answers three questions in its own
SDK's terms (``first_key``, ``signed_url``, ``public_url``); this class turns
them into the ``Backend`` contract with as few requests as possible.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import IO, Any, ClassVar
from urllib.parse import quote

from django.core.exceptions import SuspiciousFileOperation

from genro_storage_django.backends.base import Backend, Entry, stream_into
from genro_storage_django.schema import Option, Problem

# The options every object store mount accepts, besides its own.
OBJECT_STORE_OPTIONS: dict[str, Option] = {
    "prefix": Option((str,), default=""),
    "url_expiry": Option((int,), default=3600),
    "querystring_auth": Option((bool,), default=True),
    "custom_domain": Option((str,)),
}


class ObjectStoreBackend(Backend):
    """A mount on one bucket (or container) of an object store, under an optional key prefix."""

    #: The settings key naming the bucket ("bucket", or "container" on Azure).
    bucket_option: ClassVar[str] = "bucket"
    #: Text the fsspec class cuts out of any path as an object version
    #: ("?versionId=" in s3fs): a name holding it would reach another key.
    version_marker: ClassVar[str | None] = None

    @classmethod
    def validate(cls, mount_name: str, options: dict[str, Any]) -> list[Problem]:
        if options["url_expiry"] <= 0:
            return [
                Problem(
                    "E020",
                    f"Mount {mount_name!r}: 'url_expiry' must be a positive number of seconds.",
                    hint="Signed URLs stay valid for that many seconds; the default is 3600.",
                    mount=mount_name,
                )
            ]
        return []

    @property
    def bucket(self) -> str:
        return self.mount.options[self.bucket_option]

    @cached_property
    def prefix(self) -> str:
        return "/".join(part for part in self.mount.options["prefix"].split("/") if part)

    @cached_property
    def root(self) -> str:
        return f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket

    def location(self, name: str) -> str:
        if self.version_marker and self.version_marker in name:
            raise SuspiciousFileOperation(
                f"{name!r} holds {self.version_marker!r}, read as an object version."
            )
        return super().location(name)

    def key(self, path: str) -> str:
        """Return the object key of the fsspec ``path`` (the path without the bucket)."""
        return path[len(self.bucket) :].lstrip("/")

    # Requests, one per question, in each SDK's terms.

    def first_key(self, prefix: str) -> str | None:
        """Return the first key (in key order) that starts with ``prefix``, or None."""
        raise NotImplementedError("subclasses of ObjectStoreBackend must provide first_key()")

    def write_options(self, path: str) -> dict[str, Any]:
        """Return the keyword arguments of ``fs.open()`` that set the Content-Type of ``path``."""
        return {}

    def can_sign(self) -> bool:
        """Return True if the mount's credentials can sign URLs without a request."""
        return False

    def credentials_sign(self) -> bool:
        """Return True if the settings name credentials that sign URLs, without loading them."""
        return self.can_sign()

    def signed_url(self, path: str, expiry: int) -> str:
        raise NotImplementedError("subclasses of ObjectStoreBackend must provide signed_url()")

    def public_url(self, key: str) -> str:
        """Return the unsigned URL of the object ``key``."""
        raise NotImplementedError("subclasses of ObjectStoreBackend must provide public_url()")

    # The Backend contract

    def open(self, path: str, mode: str) -> IO[Any]:
        if any(flag in mode for flag in "wax"):
            return self.fs.open(path, mode, **self.write_options(path))
        file = self.fs.open(path, mode)
        # fsspec opens a key prefix as an empty file: it is a directory.
        if (getattr(file, "details", None) or {}).get("type") == "directory":
            file.close()
            raise IsADirectoryError(path)
        return file

    def write(self, path: str, chunks: Iterable[bytes], overwrite: bool) -> None:
        chunks = iter(chunks)
        first = next((chunk for chunk in chunks if chunk), b"")
        if not first and not overwrite and self.exists(path):
            # An empty object is created in one plain request, with no
            # condition: two writers racing on an empty file can both win.
            raise FileExistsError(path)
        # "xb" makes the store refuse the commit if the key was taken meanwhile.
        mode = "xb" if first and not overwrite else "wb"
        stream_into(self.open(path, mode), itertools.chain([first], chunks))

    def exists(self, path: str) -> bool:
        key = self.key(path)
        if not key:
            return True
        first = self.first_key(key)
        if first is None:
            return False
        if first == key or first.startswith(f"{key}/"):
            return True
        # A sibling such as "name.bak" sorts before "name/...": ask again.
        return self.first_key(f"{key}/") is not None

    def isdir(self, path: str) -> bool:
        key = self.key(path)
        return not key or self.first_key(f"{key}/") is not None

    def scandir(self, path: str) -> Iterator[Entry]:
        base = self.fs._strip_protocol(path).rstrip("/")
        try:
            listing = self.fs.ls(path, detail=True)
        except FileNotFoundError:
            return
        is_file = has_children = False
        for info in listing:
            name = self.fs._strip_protocol(info["name"]).rstrip("/")
            if not name.startswith(f"{base}/"):
                # The directory's marker object, or the key itself: fsspec
                # lists a file as itself.
                is_file = is_file or (name == base and info.get("type") == "file")
                continue
            name = name[len(base) + 1 :]
            if not name or "/" in name:
                continue
            has_children = True
            yield self.entry(name, info)
        if is_file and not has_children and self.key(path):
            raise NotADirectoryError(path)

    def move(self, source: str, destination: str) -> None:
        # No store renames: copy every key on the server side, then delete
        # the originals (fsspec's mv would also try to copy the prefixes).
        if self.isdir(source):
            pairs = [
                (found, f"{destination}{found[len(source) :]}")
                for found in self.fs.find(f"{source}/")
            ]
        else:
            pairs = [(source, destination)]
        for old, new in pairs:
            self.fs.cp_file(old, new)
        self.fs.rm([old for old, _ in pairs])

    def delete_tree(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(f"{path}/", recursive=True)

    def signs_urls(self) -> bool:
        options = self.mount.options
        return bool(
            options["querystring_auth"] and not options["custom_domain"] and self.credentials_sign()
        )

    def url(self, path: str, name: str, signed: bool = True) -> str | None:
        options = self.mount.options
        key = self.key(path)
        if options["custom_domain"]:
            domain = options["custom_domain"].rstrip("/")
            domain = domain if "://" in domain else f"https://{domain}"
            return f"{domain}/{quote(key)}"
        if signed and options["querystring_auth"] and self.can_sign():
            return self.signed_url(path, options["url_expiry"])
        return self.public_url(key)
