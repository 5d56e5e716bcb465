"""100 writers saving one name at once, with ``file_overwrite`` False, keep 100 files.

Each writer saves ``race.txt`` with its own content; every writer must get a
distinct name back, and that name must hold that writer's bytes: no writer
replaced another's file, none lost its own.

The guarantee, per backend:

* local: the data is written to a temporary file, then published with
  ``os.link()``, which fails if the name exists: exclusive across threads and
  processes on the same filesystem (not on NFS before v3 semantics).
* memory: one lock per mount, in one process.
* s3 / azure: the commit carries a condition (``If-None-Match: *``) that the
  store checks; moto and Azurite honour it. An empty file is created
  without the condition (see ``ObjectStoreBackend.write``).
* gcs: ``ifGenerationMatch=0``; the emulators ignore it (not tested here).
"""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile

from tests.conftest import mount_storage

WRITERS = 100


def content(index: int) -> bytes:
    return f"writer {index:03d} ".encode() * (index + 1)


def check_outcome(storage, saved: dict[int, str]) -> None:
    assert len(saved) == WRITERS
    assert len(set(saved.values())) == WRITERS, "two writers got the same name"
    for index, name in saved.items():
        with storage.open(name, "rb") as handle:
            assert handle.read() == content(index), name
    _directories, files = storage.listdir("")
    assert sorted(files) == sorted(saved.values())


def save_in_threads(storage) -> dict[int, str]:
    saved: dict[int, str] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(WRITERS)

    def write(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            saved[index] = storage.save("race.txt", ContentFile(content(index)))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[:3]
    return saved


@pytest.mark.parametrize("kind", ["local", "memory", "s3", "azure"])
def test_threads_saving_one_name(kind: str, request: pytest.FixtureRequest) -> None:
    config = request.getfixturevalue(f"{kind}_mount_config")
    for storage in mount_storage({"race": config}, "race"):
        check_outcome(storage, save_in_threads(storage))


def _child(root: str, index: int, barrier: Any, results: Any) -> None:
    # Not a fork of this test process: Django is configured here, in the child.
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["genro_storage_django"],
        USE_TZ=True,
        STORAGE_MOUNTS={"race": {"type": "local", "path": root}},
    )
    django.setup()
    from genro_storage_django import get_storage

    storage = get_storage("race")
    barrier.wait(timeout=120)
    try:
        results.put((index, storage.save("race.txt", ContentFile(content(index)))))
    except BaseException as error:
        results.put((index, f"error: {error!r}"))


def test_processes_saving_one_name(tmp_path: Path) -> None:
    root = tmp_path / "race"
    root.mkdir()
    # Fresh interpreters, forked from one server that has already imported
    # the modules (much faster than spawning 100 interpreters from scratch).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["django", "django.core.files.base", __name__])
    barrier = context.Barrier(WRITERS)
    results = context.Queue()
    processes = [
        context.Process(target=_child, args=(str(root), index, barrier, results))
        for index in range(WRITERS)
    ]
    for process in processes:
        process.start()
    saved: dict[int, str] = {}
    try:
        for _ in range(WRITERS):
            index, name = results.get(timeout=180)
            saved[index] = name
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    errors = [name for name in saved.values() if name.startswith("error:")]
    assert not errors, errors[:3]
    assert all(process.exitcode == 0 for process in processes)
    for storage in mount_storage({"race": {"type": "local", "path": str(root)}}, "race"):
        check_outcome(storage, saved)
