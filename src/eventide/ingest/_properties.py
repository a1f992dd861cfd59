"""Checks on an event's ``properties`` that need a walk of the value.

They only run when a cheap test on the serialized text says they might fail, so the
common small, flat object never pays for a walk.
"""

from __future__ import annotations

import math
from typing import Any


def depth(value: Any, *, limit: int) -> int:
    """Nesting depth of ``value`` (an object or array counts one level, a scalar none).

    Stops counting once ``limit`` is exceeded: the caller only needs to know that.
    Iterative, so that a hostile value cannot exhaust the interpreter's stack.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def unstorable(value: Any) -> str | None:
    """What in ``value`` PostgreSQL's jsonb cannot hold, or None.

    U+0000 in a string or key, and the non-finite numbers some JSON parsers accept.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "NUL (U+0000) characters"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "NaN or infinite numbers"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None
