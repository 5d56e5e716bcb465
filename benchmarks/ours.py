"""Our side of WL3, WL4 and WL5, run in the project venv with ``benchmarks.settings``.

``python -m benchmarks.ours micro|ops|admin [--size N]`` prints its results as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PAYLOAD = b"x" * 1024


# WL3: each Storage operation, ours against Django's own.


def _per_op(action: Callable[[int], Any], count: int) -> float:
    started = time.perf_counter()
    for index in range(count):
        action(index)
    return (time.perf_counter() - started) / count


def micro_round(storage: Any, count: int, listed: int) -> dict[str, float]:
    """Time each operation ``count`` times on ``storage``; return seconds per operation."""
    from django.core.files.base import ContentFile

    names = [f"ops/file-{index:05d}.txt" for index in range(count)]
    for index in range(listed):
        storage.save(f"listed/entry-{index:05d}.txt", ContentFile(b"l"))

    def read(index: int) -> None:
        with storage.open(names[index], "rb") as file:
            file.read()

    return {
        "save": _per_op(lambda i: storage.save(names[i], ContentFile(PAYLOAD)), count),
        "open+read": _per_op(read, count),
        "exists": _per_op(lambda i: storage.exists(names[i]), count),
        "size": _per_op(lambda i: storage.size(names[i]), count),
        f"listdir ({listed})": _per_op(lambda i: storage.listdir("listed"), max(count // 50, 3)),
        "delete": _per_op(lambda i: storage.delete(names[i]), count),
    }


def micro(count: int, listed: int, rounds: int) -> dict[str, Any]:
    from django.core.files.storage import FileSystemStorage, InMemoryStorage

    from genro_storage_django.backends import memory
    from genro_storage_django.storage import MountStorage

    pairs = {
        "local": (lambda: MountStorage("disk"), lambda root: FileSystemStorage(location=root)),
        "memory": (lambda: MountStorage("memory"), lambda root: InMemoryStorage()),
    }
    results: dict[str, Any] = {}
    disk = Path(os.environ["BENCH_DIR"]) / "disk"
    for kind, (ours, django) in pairs.items():
        rounds_ours, rounds_django = [], []
        for number in range(rounds):
            shutil.rmtree(disk, ignore_errors=True)
            disk.mkdir(parents=True)
            memory.clear()  # a fresh, empty memory mount
            theirs_root = tempfile.mkdtemp(dir=disk.parent, prefix="django-")
            contenders = [("ours", ours()), ("django", django(theirs_root))]
            if number % 2:
                contenders.reverse()  # neither side always runs on a warmer cache
            for label, storage in contenders:
                timings = micro_round(storage, count, listed)
                (rounds_ours if label == "ours" else rounds_django).append(timings)
            shutil.rmtree(theirs_root)
        results[kind] = {"ours": rounds_ours, "django": rounds_django}
    return results


# WL4: requests per operation on S3.


def ops(big_size: int) -> dict[str, Any]:
    from benchmarks import storage_ops
    from benchmarks.servers import S3Server
    from genro_storage_django import get_storage

    storage = get_storage("s3")
    photo = storage_ops.prepare(storage, big_size)
    server = S3Server(os.environ["BENCH_S3_URL"])
    return storage_ops.count_requests(storage, server, big_size, photo)


# WL5: the admin directory page.


#: The pages of WL5: (case, query, the page shown just before or None). Each
#: round starts from an empty listing cache; a page shown before fills it.
ADMIN_PAGES = (
    ("page 1 by name", "", None),
    ("page 2 by name, after page 1", "?p=2", ""),
    ("page 1 by size", "?o=size", None),
    ("page 3 by size, after page 1", "?o=size&p=3", "?o=size"),
    ("page 2 by date, after the size sort", "?o=-modified&p=2", "?o=size"),
)


def admin(entries: int, repeats: int, mounts: list[str]) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.core.cache import caches
    from django.core.files.base import ContentFile
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from benchmarks.servers import S3Server
    from genro_storage_django import get_storage

    call_command("migrate", verbosity=0, interactive=False)
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench")
    client = Client()
    client.force_login(user)
    server = S3Server(os.environ["BENCH_S3_URL"])
    results: dict[str, Any] = {}
    for mount in mounts:
        _fill(get_storage(mount), "big", entries, ContentFile)
        url = reverse(
            "admin:genro_storage_django_storagemount_browse", kwargs={"mount": mount, "path": "big"}
        )
        results[mount] = {}
        for case, query, before in ADMIN_PAGES:
            times, counts = [], None
            for _ in range(repeats):
                caches["default"].clear()
                if before is not None:
                    assert client.get(url + before).status_code == 200
                server.reset()
                started = time.perf_counter()
                response = client.get(url + query)
                times.append(time.perf_counter() - started)
                assert response.status_code == 200, response.status_code
                counts = server.counts()
            results[mount][case] = {"times": times, "requests": counts if mount == "s3" else None}
    return results


def _fill(storage: Any, directory: str, entries: int, content_file: type) -> None:
    if storage.mount.type == "local":
        # Straight to disk: the page is measured, not the filling.
        root = Path(storage.path(directory))
        root.mkdir(parents=True, exist_ok=True)
        for index in range(entries):
            (root / f"entry-{index:05d}.txt").write_bytes(b"e")
        return
    from concurrent.futures import ThreadPoolExecutor

    fs, base = storage.backend.fs, storage.backend.full_path(directory)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: fs.pipe_file(f"{base}/entry-{i:05d}.txt", b"e"), range(entries)))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.ours")
    parser.add_argument("command", choices=["micro", "ops", "admin"])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--listed", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--big-size", type=int, default=10 * 1024 * 1024)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--mounts", default="disk,s3")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "testproject"))
    import django

    django.setup()
    if args.command == "micro":
        result = micro(args.count, args.listed, args.rounds)
    elif args.command == "ops":
        result = ops(args.big_size)
    else:
        result = admin(args.entries, args.rounds, args.mounts.split(","))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
