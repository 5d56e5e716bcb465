"""The package's shape: no import cycle, backend knowledge only in backends/, a stated contract."""

from __future__ import annotations

import ast
import inspect
import re
from functools import cached_property
from pathlib import Path

from genro_storage_django.backends import BACKENDS
from genro_storage_django.backends.base import Backend

PACKAGE = Path(__file__).resolve().parent.parent / "genro_storage_django"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path for path in PACKAGE.rglob("*.py") if "migrations" not in path.parts
    }


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module of the package that ``path`` imports, deferred and type-only ones too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                # "from package import module" imports the module, not the package's names.
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return {name for name in found if name in modules}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return [*trail[trail.index(target) :], target] if target in trail else [target]
            if target not in state:
                found = visit(target, [*trail, target])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_no_import_cycle_in_the_package():
    modules = _modules()
    graph = {
        name: _imports(path, modules) - {name, "genro_storage_django"}
        for name, path in modules.items()
    }
    assert _cycle(graph) is None


def test_the_cycle_finder_finds_cycles():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


_TYPES = "|".join(BACKENDS)
_ADAPTERS = "|".join(["Local", "Memory", "S3", "GCS", "Azure", "HTTP"])
MOUNT_TYPE = re.compile(rf"""["']({_TYPES})["']|\b({_ADAPTERS})Backend\b""")


def test_no_module_outside_backends_names_a_mount_type():
    offenders = []
    for name, path in _modules().items():
        if name.startswith("genro_storage_django.backends"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if MOUNT_TYPE.search(line):
                offenders.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_mount_type_pattern_matches():
    assert MOUNT_TYPE.search('if mount.type == "local":')
    assert MOUNT_TYPE.search("isinstance(backend, S3Backend)")
    assert not MOUNT_TYPE.search("a local disk")


def _public_members() -> list[tuple[str, object]]:
    members = []
    for name, value in vars(Backend).items():
        if isinstance(value, (classmethod, staticmethod)):
            value = value.__func__
        if not name.startswith("_") and (
            inspect.isfunction(value) or isinstance(value, (property, cached_property))
        ):
            members.append((name, value))
    return members


def test_every_public_backend_member_states_its_contract():
    members = _public_members()
    assert {"open", "exists", "fs", "root", "check", "move"} <= {name for name, _ in members}
    assert [name for name, value in members if not (value.__doc__ or "").strip()] == []
