"""A writer to kill: ``python -m tests.killable_writer MOUNT_JSON``.

It sets Django up once, then for each ``write NAME SIZE`` line on stdin forks
a child that saves NAME (SIZE bytes, in 256 KiB chunks, 2 ms apart, as a slow client
sends them) to the mount and
prints the child's pid; ``reap PID`` waits for that child and prints its
exit status. The test kills the children with SIGKILL at random points: a
fork is a writer in the middle of its work without paying for Django's
start-up on every run. Nothing here starts a thread before a fork.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator

import django
from django.conf import settings

CHUNK = 256 * 1024


def _chunks(size: int) -> Iterator[bytes]:
    block = b"k" * CHUNK
    for start in range(0, size, CHUNK):
        time.sleep(0.002)  # kill points spread over the whole write
        yield block[: min(CHUNK, size - start)]


def _write(name: str, size: int) -> None:
    from django.core.files.base import File

    from genro_storage_django import get_storage

    class Stream(File):
        def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
            yield from _chunks(size)

    get_storage("victim").save(name, Stream(None, name))


def main() -> None:
    mount = json.loads(sys.argv[1])
    settings.configure(INSTALLED_APPS=["genro_storage_django"], STORAGE_MOUNTS={"victim": mount})
    django.setup()
    print("ready", flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        if command == "write":
            pid = os.fork()
            if pid == 0:
                _write(args[0], int(args[1]))
                os._exit(0)
            print(pid, flush=True)
        elif command == "reap":
            _, status = os.waitpid(int(args[0]), 0)
            print(status, flush=True)


if __name__ == "__main__":
    main()
