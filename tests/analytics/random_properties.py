"""Random event properties of mixed JSON types and random conditions on them, drawn from
one small vocabulary so that conditions often match: strings that look like numbers,
1 and 1.0, integers past 2**53 and past 64 bits, booleans, nulls, nested objects, arrays
in the way of a path, absent keys."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import strategies as st

from eventide.analytics.filters import FilterOp, PropertyFilter, property_filters

SCALARS: list[Any] = ["free", "pro", "Pro ü", "1", "", 1, 1.0, 1.5, 0, -2, 2**53, 2**53 + 1]
SCALARS += [10**25, str(10**25), True, False]
VALUES: list[Any] = [*SCALARS, None]
PATHS = ["plan", "n", "o", "o.a", "o.a.b", "missing"]
NEEDLES = ["", "pro", "r", "1", "ü"]
NUMBERS: list[Any] = [0, 1, 1.5, -1, 2**53, 10**25]


def random_properties(rng: random.Random) -> dict[str, Any] | None:
    if rng.random() < 0.15:
        return None
    properties: dict[str, Any] = {}
    for key in ("plan", "n"):
        if rng.random() < 0.7:
            properties[key] = rng.choice(VALUES)
    if rng.random() < 0.5:
        properties["o"] = rng.choice(
            [
                {"a": {"b": rng.choice(VALUES)}},
                {"a": rng.choice(VALUES)},
                [{"a": {"b": 1}}],  # paths go into objects only: o.a.b is absent here
                {"a": [1, "pro"]},
                "o",
                {},
            ]
        )
    return properties


@st.composite
def conditions(draw: st.DrawFn) -> tuple[str, FilterOp, Any]:
    op = draw(st.sampled_from(FilterOp))
    value: Any
    if op in (FilterOp.EQ, FilterOp.NEQ):
        value = draw(st.sampled_from(SCALARS))
    elif op in (FilterOp.IN, FilterOp.NOT_IN):
        value = draw(st.lists(st.sampled_from(SCALARS), max_size=3))
    elif op in (FilterOp.CONTAINS, FilterOp.NOT_CONTAINS):
        value = draw(st.sampled_from(NEEDLES))
    elif op in (FilterOp.IS_SET, FilterOp.IS_NOT_SET):
        value = None
    else:
        value = draw(st.sampled_from(NUMBERS))
    return draw(st.sampled_from(PATHS)), op, value


@st.composite
def wheres(draw: st.DrawFn) -> tuple[PropertyFilter, ...]:
    """Often none (so that buckets are read too), else one to three conditions."""
    raw = draw(st.one_of(st.just([]), st.lists(conditions(), min_size=1, max_size=3)))
    return property_filters(raw, argument="where")
