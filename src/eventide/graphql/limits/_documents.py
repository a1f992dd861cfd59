"""Documents remembered by query text: parsed, and the outcome of their validation.

Clients send the same few documents again and again (an ingestion client sends one
with every batch), and parsing and validating one costs milliseconds. Only documents
that passed validation are remembered, with the measure of each operation: a refused
document is validated afresh every time, so its errors are always a fresh validation's.
A validation outcome is keyed by everything it depends on: the schema, the text, whether
introspection is allowed, the limits, and the values of the variables the measures read.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

from graphql import DocumentNode, GraphQLError, parse

from eventide.graphql.limits.analysis import Measure, measured_variables

# A parsed document takes about 90 bytes per character: at most 64 of 4,000 characters
# stay under 25 MiB. Clients send a handful of documents, the largest of them GraphiQL's
# introspection query (1,500 characters).
MAX_REMEMBERED_CHARS = 4_000
CAPACITY = 64

_SCALARS = (str, int, float, bool, type(None))
_ABSENT = ("absent",)


@functools.lru_cache(maxsize=CAPACITY)
def _parse(query: str, max_tokens: int | None) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


def parsed(query: str, *, max_tokens: int | None) -> DocumentNode | None:
    """The document ``query`` holds; None when it is too long to remember or invalid.

    An invalid document is left to the caller to parse again and report.
    """
    if len(query) > MAX_REMEMBERED_CHARS:
        return None
    try:
        return _parse(query, max_tokens)
    except GraphQLError:
        return None


def validation_key(
    *parts: Hashable, document: DocumentNode, variables: Mapping[str, Any] | None
) -> Hashable | None:
    """``parts`` with the values of the variables measures read; None if not hashable."""
    values = []
    for name in measured_variables(document):
        frozen = _frozen(variables[name]) if variables and name in variables else _ABSENT
        if frozen is None:
            return None
        values.append((name, frozen))
    return (*parts, tuple(values))


def _frozen(value: Any) -> Hashable | None:
    # The type is part of the key: true == 1 in Python, not in the measures.
    if isinstance(value, _SCALARS):
        return (type(value).__name__, value)
    if isinstance(value, dict) and all(isinstance(item, _SCALARS) for item in value.values()):
        return tuple(sorted((key, type(item).__name__, item) for key, item in value.items()))
    return None  # values measures could read but that no valid request sends


class ValidatedDocuments:
    """The operations' measures of documents that passed validation, least recent dropped."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[Hashable, tuple[Measure, ...]] = OrderedDict()

    def get(self, key: Hashable) -> tuple[Measure, ...] | None:
        measures = self._entries.get(key)
        if measures is not None:
            self._entries.move_to_end(key)
        return measures

    def put(self, key: Hashable, measures: tuple[Measure, ...]) -> None:
        self._entries[key] = measures
        self._entries.move_to_end(key)
        if len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
