"""What the threads and the coroutines of a copy share: failure reasons, context variables."""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


def reason_of(error: Exception) -> str:
    """Return the reason a file failed, as the outcome shows it."""
    return f"{type(error).__name__}: {error}"


async def in_context(context: contextvars.Context, coroutine: Awaitable[T]) -> T:
    """Await ``coroutine`` with the variables of ``context`` (a task on another thread's loop)."""
    for variable, value in context.items():
        variable.set(value)
    return await coroutine
