"""Cursor pagination shared by every connection type: ``PageInfo`` and opaque cursors."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

import strawberry

from eventide.errors import InvalidInput

MAX_PAGE_SIZE = 1000
_MAX_INT64 = 2**63 - 1


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    # Every listing pages forward only (first/after), so no page is ever reached from a
    # later one: as Relay allows for forward paging, there is never a previous page.
    has_previous_page: bool = strawberry.field(description="Relay: false when paging forward.")
    start_cursor: str | None

    @classmethod
    def forward(cls, cursors: Sequence[str], *, has_next_page: bool) -> PageInfo:
        """The page info of a forward page whose edges have ``cursors``, in order."""
        return cls(
            has_next_page=has_next_page,
            end_cursor=cursors[-1] if cursors else None,
            has_previous_page=False,
            start_cursor=cursors[0] if cursors else None,
        )


def check_page_size(first: int, *, maximum: int = MAX_PAGE_SIZE) -> None:
    if not 1 <= first <= maximum:
        raise InvalidInput(f"first must be between 1 and {maximum}")


def encode_cursor(kind: str, *position: Any) -> str:
    """An opaque cursor for ``position`` (JSON values) in a listing named ``kind``."""
    text = json.dumps([kind, *position], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str, shape: tuple[type, ...]) -> tuple[Any, ...]:
    """The position :func:`encode_cursor` encoded for ``kind``, one value of each type of
    ``shape`` (``int``: from 0 to 2**63 - 1, what the stores hold); BAD_USER_INPUT for
    anything else, a cursor of another listing included."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        raise InvalidInput("Invalid cursor") from None
    if not isinstance(value, list) or len(value) != len(shape) + 1 or value[0] != kind:
        raise InvalidInput("Invalid cursor")
    position = tuple(value[1:])
    if not all(_is(item, expected) for item, expected in zip(position, shape, strict=True)):
        raise InvalidInput("Invalid cursor")
    return position


def _is(value: Any, expected: type) -> bool:
    if expected is int:
        return type(value) is int and 0 <= value <= _MAX_INT64
    return type(value) is expected
