"""An ``object_parameters`` callable for tests/test_object_parameters.py."""

from __future__ import annotations

from typing import Any


def by_folder(name: str) -> dict[str, Any]:
    if name.startswith("invoices/"):
        return {"cache_control": "private, max-age=60"}
    return {}
