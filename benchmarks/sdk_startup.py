"""What an S3 mount costs a new process before its first request.

Run as ``python -m benchmarks.sdk_startup``. Each figure is the median of five
fresh interpreters, after Django is imported (as in a management command):
importing aiohttp, then s3fs (with aiobotocore and botocore), then building
the client (botocore loads the S3 service model and endpoint rules). No
request is sent.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

ROUNDS = 5
PROBE = """
import json, time
import django, django.http, asyncio
marks = [time.perf_counter()]
import aiohttp
marks.append(time.perf_counter())
import s3fs
marks.append(time.perf_counter())
from fsspec.asyn import sync
fs = s3fs.S3FileSystem(key="k", secret="s", endpoint_url="http://127.0.0.1:9",
                       skip_instance_cache=True)
sync(fs.loop, fs.set_session)
marks.append(time.perf_counter())
print(json.dumps([b - a for a, b in zip(marks, marks[1:])]))
"""
STEPS = ("import aiohttp", "import s3fs (aiobotocore, botocore)", "the S3 client")


def main() -> int:
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(ROUNDS)
    ]
    total = 0.0
    for index, step in enumerate(STEPS):
        seconds = statistics.median(run[index] for run in runs)
        total += seconds
        print(f"{step}: {seconds * 1000:.0f} ms")
    print(f"in all: {total * 1000:.0f} ms (median of {ROUNDS} processes per step)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
