"""The django-storages side, run by the comparison venv (``benchmarks/.venv-compare``).

``python -m benchmarks.djstorages copy SRC DST --endpoint URL`` copies every file of
SRC to DST in a loop of ``dst.save(name, src.open(name))``; SRC and DST are
``local:/abs/dir`` or ``s3:bucket/prefix``.
``python -m benchmarks.djstorages ops --endpoint URL --bucket B`` prints, as JSON,
the requests (and seconds) of each operation of ``benchmarks.storage_ops``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator

import django
from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage

from benchmarks import storage_ops
from benchmarks.servers import KEY, SECRET, S3Server


def s3_storage(endpoint: str, bucket: str, prefix: str = "", overwrite: bool = True) -> Storage:
    from storages.backends.s3 import S3Storage

    return S3Storage(
        bucket_name=bucket,
        location=prefix,
        endpoint_url=endpoint,
        access_key=KEY,
        secret_key=SECRET,
        file_overwrite=overwrite,
    )


def storage_for(location: str, endpoint: str) -> Storage:
    kind, _, where = location.partition(":")
    if kind == "local":
        return FileSystemStorage(location=where)
    bucket, _, prefix = where.partition("/")
    return s3_storage(endpoint, bucket, prefix)


def walk(storage: Storage, path: str = "") -> Iterator[str]:
    directories, files = storage.listdir(path)
    for name in files:
        yield f"{path}/{name}" if path else name
    for directory in directories:
        yield from walk(storage, f"{path}/{directory}" if path else directory)


def copy(source: Storage, destination: Storage) -> int:
    copied = 0
    for name in walk(source):
        with source.open(name, "rb") as file:
            destination.save(name, file)
        copied += 1
    return copied


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.djstorages")
    parser.add_argument("command", choices=["copy", "ops"])
    parser.add_argument("source", nargs="?")
    parser.add_argument("destination", nargs="?")
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--bucket")
    parser.add_argument("--big-size", type=int, default=storage_ops.BIG_SIZE)
    args = parser.parse_args(argv)
    settings.configure(USE_TZ=True, SECRET_KEY="benchmarks")
    django.setup()
    if args.command == "copy":
        count = copy(
            storage_for(args.source, args.endpoint), storage_for(args.destination, args.endpoint)
        )
        print(json.dumps({"copied": count}))
        return
    storage = s3_storage(args.endpoint, args.bucket, overwrite=False)
    photo = storage_ops.prepare(storage, args.big_size)
    counts = storage_ops.count_requests(storage, S3Server(args.endpoint), args.big_size, photo)
    print(json.dumps(counts))


if __name__ == "__main__":
    main(sys.argv[1:])
