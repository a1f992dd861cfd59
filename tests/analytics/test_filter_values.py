"""Random JSON values of every kind, stored hot and then archived: each random condition
selects the same events in PostgreSQL, in ClickHouse and in Python, and each value's
canonical text is the same from both stores and from Python."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventide.analytics.filters import FilterOp, PropertyFilter, property_filters
from eventide.analytics.listing import Event
from eventide.archive.archiver import archive_pass
from eventide.archive.tiers import tier_snapshot
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import Scope
from tests.analytics import test_filters
from tests.analytics.stores import clear, put_hot

pytestmark = pytest.mark.slow  # an archive pass per example

KEYS = ["a", "b", "é", "", "0"]
TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=4)
NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**53 + 1, 10**25, 2**64, -(2**63) - 1, 10**400, 2**1024 - 2**970]),
    st.floats(allow_nan=False, allow_infinity=False),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT, st.sampled_from(["1", "10" * 12]))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)
    ),
    max_leaves=6,
)
PROPERTIES = st.one_of(st.none(), st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4))
PATHS = [("a",), ("a", "b"), ("b", "a"), ("é",), ("a", "0"), ("0",)]


@st.composite
def conditions(draw: st.DrawFn) -> PropertyFilter:
    op = draw(st.sampled_from(FilterOp))
    comparable = st.one_of(st.booleans(), NUMBERS, TEXT).filter(
        lambda v: not isinstance(v, int) or abs(v) < 2**1000
    )
    value: Any = None
    if op in (FilterOp.EQ, FilterOp.NEQ):
        value = draw(comparable)
    elif op in (FilterOp.IN, FilterOp.NOT_IN):
        value = draw(st.lists(comparable, max_size=3))
    elif op in (FilterOp.CONTAINS, FilterOp.NOT_CONTAINS):
        value = draw(TEXT)
    elif op not in (FilterOp.IS_SET, FilterOp.IS_NOT_SET):
        value = draw(NUMBERS.filter(lambda v: not isinstance(v, int) or abs(v) < 2**1000))
    path = ".".join(draw(st.sampled_from(PATHS)))
    (condition,) = property_filters([(path, op, value)], argument="where")
    return condition


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    properties=st.lists(PROPERTIES, min_size=1, max_size=12),
    tests=st.lists(conditions(), min_size=1, max_size=40),
)
async def test_random_values_agree_everywhere(
    engines: Engines, properties: list[dict[str, Any] | None], tests: list[PropertyFilter]
) -> None:
    await clear(engines)
    at = test_filters.AT
    events = [Event(f"e{i:03d}", "u", "a", at, at, p) for i, p in enumerate(properties)]
    await put_hot(engines, events)
    want = test_filters.expected(events, tests)
    want_canonical = test_filters.expected_canonicals(events, PATHS)
    async with tier_snapshot(engines, scope=Scope.of(1)) as tiers:
        hot = await test_filters.hot_answers(tiers, tests)
        assert test_filters.differences(hot, want, tests) == []
        hot_canonical = await test_filters.hot_canonicals(tiers, PATHS)
        assert test_filters.unequal(hot_canonical, want_canonical) == []
    await archive_pass(engines, trigger="cli", now=at + dt.timedelta(days=30))
    async with tier_snapshot(engines, scope=Scope.of(1)) as tiers:
        cold = await test_filters.cold_answers(tiers, tests)
        assert test_filters.differences(cold, want, tests) == []
        cold_canonical = await test_filters.cold_canonicals(tiers, PATHS)
        assert test_filters.unequal(cold_canonical, want_canonical) == []
