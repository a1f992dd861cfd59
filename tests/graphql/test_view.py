"""Request bodies decode exactly as the standard library decodes them."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventide.graphql.schema import schema
from eventide.graphql.view import GraphQLView

VIEW = GraphQLView(schema)

numbers = (
    st.integers()
    | st.integers(min_value=2**62, max_value=2**66)
    | st.integers(min_value=-(2**66), max_value=-(2**62))
    | st.floats(allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    st.none() | st.booleans() | numbers | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(values)
def test_decoding_equals_the_standard_library(value: object) -> None:
    body = json.dumps(value).encode()
    # repr tells 1 from 1.0 and -0.0 from 0.0, which == does not.
    assert repr(VIEW.decode_json(body)) == repr(json.loads(body))


def test_what_orjson_refuses_or_misreads_is_decoded_as_before() -> None:
    for body in (
        b'{"n": 123456789012345678901234567890, "m": -9223372036854775809}',
        b"[18446744073709551616, 9223372036854775807]",
        b"[NaN, Infinity, -Infinity, 1e400]",
        b'["\\ud800"]',
        b"\xef\xbb\xbf{}",
    ):
        assert repr(VIEW.decode_json(body)) == repr(json.loads(body))
    for bad in (b"[1.5]x", b"{", b'["\x01"]'):
        with pytest.raises(json.JSONDecodeError) as expected:
            json.loads(bad)
        with pytest.raises(json.JSONDecodeError, match=re.escape(str(expected.value))):
            VIEW.decode_json(bad)
