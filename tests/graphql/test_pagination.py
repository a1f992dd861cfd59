"""The one cursor codec: opaque positions that decode only into their own listing."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from eventide.errors import InvalidInput
from eventide.graphql.pagination import decode_cursor, encode_cursor

SHAPE = (int, str, int)


def _forged(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def test_a_position_comes_back_as_encoded() -> None:
    cursor = encode_cursor("events", 1_700_000_000_000_000, "e-1", 7)
    assert decode_cursor("events", cursor, SHAPE) == (1_700_000_000_000_000, "e-1", 7)


@pytest.mark.parametrize(
    "cursor",
    [
        encode_cursor("users", "2026-01-01T00:00:00+00:00", "u"),  # another listing
        encode_cursor("events", 1, "e"),  # too short
        encode_cursor("events", 1, "e", 2, 3),  # too long
        _forged("events", -1, "e", 0),  # negative
        _forged("events", 2**63, "e", 0),  # past what the stores hold
        _forged("events", 10**400, "e", 0),
        _forged("events", True, "e", 0),  # JSON booleans are not numbers
        _forged("events", 1.5, "e", 0),
        _forged("events", 1, 2, 3),
        _forged({"events": 1}),
        "not base64 at all!",
        "",
    ],
)
def test_anything_else_is_bad_user_input(cursor: str) -> None:
    with pytest.raises(InvalidInput, match="Invalid cursor"):
        decode_cursor("events", cursor, SHAPE)
