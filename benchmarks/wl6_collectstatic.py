"""WL6: ``collectstatic`` onto S3, ours against Django's command on django-storages.

2,000 generated static files (mixed sizes, 10 % CSS with ``url()`` references)
plus Django admin's own, collected by each side into its own bucket: a first
run, a rerun with nothing changed and a rerun after editing one CSS file, with
the plain storage and with the manifest storage. Requests are counted by the
server. Each side runs in its own process: ``python -m benchmarks.wl6_collectstatic
ours|theirs --static DIR --endpoint URL --bucket B [--manifest]``; ours in the
project venv, theirs (django-storages' ``S3Storage`` / ``S3ManifestStaticStorage``)
in the comparison venv.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import tools
from benchmarks.harness import Report, Row, run
from benchmarks.servers import KEY, ROOT, SECRET, S3Server, tool_env

APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
]
# The app's own static files: found by its app directory on our side, named
# the same from this folder on theirs (the comparison venv does not install it).
OUR_STATIC = ROOT / "genro_storage_django" / "static"
EXTENSIONS = ("png", "png", "png", "png", "js", "js", "svg", "woff2", "png")


# The generated tree


def _size(rng: random.Random) -> int:
    draw = rng.random()
    if draw < 0.65:
        return rng.randint(512, 8 * 1024)
    if draw < 0.95:
        return rng.randint(8 * 1024, 64 * 1024)
    return rng.randint(64 * 1024, 512 * 1024)


def make_static(root: Path, files: int) -> list[str]:
    """Write ``files`` static files under ``root``; return the names of the CSS ones."""
    rng = random.Random(6)
    css_count = max(files // 10, 1)
    assets = [
        f"assets/g{index % 20:02d}/asset-{index:05d}.{EXTENSIONS[index % len(EXTENSIONS)]}"
        for index in range(files - css_count)
    ]
    for name in assets:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_content(rng, name))
    pictures = [name for name in assets if name.endswith(".png")]
    css = [f"css/g{index % 10:02d}/style-{index:04d}.css" for index in range(css_count)]
    for index, name in enumerate(css):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_css(rng, index, pictures))
    return css


def _content(rng: random.Random, name: str) -> bytes:
    size = _size(rng)
    if name.endswith((".js", ".svg")):
        # Text: the manifest storage reads JavaScript as UTF-8.
        return rng.randbytes(size // 2).hex().encode()[:size]
    return rng.randbytes(size)


def _css(rng: random.Random, index: int, pictures: list[str]) -> str:
    rules = [f".rule-{index}-{n} {{ color: #{rng.randrange(16**6):06x}; }}" for n in range(40)]
    for picture in rng.sample(pictures, min(3, len(pictures))):
        rules.append(f'.icon-{index} {{ background: url("../../{picture}"); }}')
    return "\n".join(rules) + "\n"


# One side's run, in its own process


def _configure(args: argparse.Namespace) -> None:
    from django.conf import settings

    options: dict[str, Any] = {
        "SECRET_KEY": "benchmarks",
        "USE_TZ": True,
        "STATIC_URL": "/static/",
        "STATICFILES_DIRS": [args.static],
    }
    if args.side == "ours":
        backend = "MountManifestStaticStorage" if args.manifest else "MountStaticStorage"
        mount = {"type": "s3", "bucket": args.bucket, "endpoint_url": args.endpoint}
        options.update(
            # Before staticfiles: its collectstatic is the one that runs.
            INSTALLED_APPS=[*APPS, "genro_storage_django", "django.contrib.staticfiles"],
            STORAGE_MOUNTS={"static": {**mount, "key": KEY, "secret": SECRET}},
            STORAGES={
                "staticfiles": {
                    "BACKEND": f"genro_storage_django.staticfiles.{backend}",
                    "OPTIONS": {"mount": "static"},
                }
            },
        )
    else:
        backend = "S3ManifestStaticStorage" if args.manifest else "S3Storage"
        storage_options = {
            "bucket_name": args.bucket,
            "endpoint_url": args.endpoint,
            "access_key": KEY,
            "secret_key": SECRET,
            # Signed URLs would end up in the hashed CSS (and change every run).
            "querystring_auth": False,
        }
        options.update(
            INSTALLED_APPS=[*APPS, "django.contrib.staticfiles"],
            STATICFILES_DIRS=[args.static, str(OUR_STATIC)],
            STORAGES={
                "staticfiles": {
                    "BACKEND": f"storages.backends.s3.{backend}",
                    "OPTIONS": storage_options,
                }
            },
        )
    settings.configure(**options)


def side(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.wl6_collectstatic")
    parser.add_argument("side", choices=["ours", "theirs"])
    parser.add_argument("--static", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--manifest", action="store_true")
    args = parser.parse_args(argv)
    _configure(args)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("collectstatic", interactive=False, verbosity=0)


# The driver, in the harness


def _command(side_name: str, static: Path, server: S3Server, bucket: str, manifest: bool) -> Any:
    python = sys.executable if side_name == "ours" else str(tools.COMPARE_PYTHON)
    args = [python, "-m", "benchmarks.wl6_collectstatic", side_name, "--static", str(static)]
    args += ["--endpoint", server.url, "--bucket", bucket]
    return [*args, "--manifest"] if manifest else args


def _requests(counts: dict[str, Any]) -> dict[str, int]:
    by_kind = {"PUT": 0, "HEAD": 0, "GET": 0, "LIST": 0, "other": 0}
    for label, number in counts["requests"].items():
        method, _, kind = label.partition(" ")
        if label == "GET list":
            by_kind["LIST"] += number
        elif kind == "object" and method in by_kind:
            by_kind[method] += number
        else:
            by_kind["other"] += number  # multipart POSTs, deletes, bucket HEADs
    return by_kind


def bench(
    report: Report, server: S3Server, bench_dir: Path, *, files: int, available: dict[str, bool]
) -> None:
    static = bench_dir / "wl6" / "static"
    css = make_static(static, files)
    sides = ["ours"] + (["theirs"] if available.get("django-storages") else [])
    if len(sides) == 1:
        report.note("WL6: django-storages skipped (the comparison venv is not installed).")
    results: dict[tuple[str, str, str], tuple[float, dict[str, Any]]] = {}
    for mode in ("plain", "manifest"):
        buckets = {name: f"wl6-{name}-{mode}" for name in sides}
        for bucket in buckets.values():
            server.create_bucket(bucket)
        steps = ("first run", "no-change rerun", "one CSS edited")
        for step in steps:
            if step == "one CSS edited":
                _edit(static / css[0], mode)
            for name in sides:
                command = _command(name, static, server, buckets[name], mode == "manifest")
                with server.counting() as counts:
                    elapsed = run(command, tool_env()).wall
                requests = _requests(counts)
                # The moto process's CPU time: no client can take less (docs/benchmarks.rst).
                requests["server CPU s"] = round(counts["server_cpu"], 2)
                results[(mode, step, name)] = (elapsed, requests)
    _report(report, results, sides)


def _edit(path: Path, mode: str) -> None:
    path.write_text(path.read_text() + f".edited-{mode} {{ color: red; }}\n")
    # Django's command skips a file whose mtime is within the second of its copy.
    later = time.time() + 5
    os.utime(path, (later, later))


def _report(report: Report, results: dict, sides: list[str]) -> None:
    labels = {
        "ours": "collectstatic on a mount",
        "theirs": "Django collectstatic + django-storages",
    }
    for (mode, step, name), (seconds, requests) in results.items():
        ours = results[(mode, step, "ours")][0]
        report.add(Row("WL6", f"{mode}: {step}", labels[name], seconds, seconds / ours, requests))
    for mode in ("plain", "manifest"):
        rerun = results[(mode, "no-change rerun", "ours")][1]
        report.target(
            "WL6",
            f"{mode}: no-change rerun makes listing requests only (0 PUT, 0 HEAD)",
            ", ".join(f"{kind} {rerun[kind]}" for kind in ("PUT", "HEAD", "GET", "LIST", "other")),
            rerun["PUT"] == rerun["HEAD"] == rerun["GET"] == rerun["other"] == 0,
        )
        edited = results[(mode, "one CSS edited", "ours")][1]
        expected = 1 if mode == "plain" else 3  # the file; with the manifest, its hashed copy too
        report.target(
            "WL6",
            f"{mode}: one CSS edited uploads {expected} file(s)",
            f"{edited['PUT']} PUT",
            edited["PUT"] == expected,
        )
        if "theirs" in sides:
            ours, our_requests = results[(mode, "first run", "ours")]
            theirs = results[(mode, "first run", "theirs")][0]
            ceiling = theirs / max(our_requests["server CPU s"], 0.01)
            report.target(
                "WL6",
                f"{mode}: first run ≥ 5x faster than Django + django-storages",
                f"{theirs / ours:.1f}x ({ours:.2f} s vs {theirs:.2f} s; the server's CPU time "
                f"for our run allows at most {ceiling:.1f}x)",
                theirs / ours >= 5,
            )


if __name__ == "__main__":
    side(sys.argv[1:])
