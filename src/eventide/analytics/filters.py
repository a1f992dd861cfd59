"""Property filters: conditions on an event's ``properties``, the same in both stores.

A condition names a path (a top-level key, or a dotted path into nested objects; a path
never indexes into an array) and compares the JSON value found there by type: a string
never equals a number, booleans equal only booleans. Numbers compare as 64-bit floats
(IEEE doubles, each rounded to the nearest; magnitudes of 2**1024 - 2**970 or more, which
round past the largest double, as infinities), because that is what both engines and
Python compute alike and exactly, whatever the digits (``1`` = ``1.0``, and integers
past 2**53 that round to the same double are equal).

:class:`HotConditions` compiles a selector for PostgreSQL rows (``properties jsonb``),
:class:`ColdConditions` for ClickHouse rows (``properties`` holding PostgreSQL's
``jsonb::text``, the text the archiver copies); each store's reading of a value is in
:mod:`eventide.analytics._filter_sql`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventide.analytics._filter_sql import ColdValue, HotValue, canonical_json, json_value
from eventide.errors import InvalidInput
from eventide.storable import text_problem

MAX_CONDITIONS = 20
MAX_PATH_CHARS = 256
MAX_VALUES = 1000  # items of an IN / NOT_IN list


class FilterOp(enum.Enum):
    EQ = "EQ"
    NEQ = "NEQ"
    IN = "IN"
    NOT_IN = "NOT_IN"
    CONTAINS = "CONTAINS"
    NOT_CONTAINS = "NOT_CONTAINS"
    GT = "GT"
    GTE = "GTE"
    LT = "LT"
    LTE = "LTE"
    IS_SET = "IS_SET"
    IS_NOT_SET = "IS_NOT_SET"


# Each negated op is true exactly where its positive op is false (absent paths included).
NEGATED = {
    FilterOp.NEQ: FilterOp.EQ,
    FilterOp.NOT_IN: FilterOp.IN,
    FilterOp.NOT_CONTAINS: FilterOp.CONTAINS,
    FilterOp.IS_NOT_SET: FilterOp.IS_SET,
}
ORDERINGS = {FilterOp.GT: ">", FilterOp.GTE: ">=", FilterOp.LT: "<", FilterOp.LTE: "<="}


__all__ = [
    "ColdConditions",
    "EventSelector",
    "FilterOp",
    "HotConditions",
    "PropertyFilter",
    "canonical_json",
    "json_value",
    "property_filter",
    "property_filters",
    "property_path",
]


@dataclass(frozen=True)
class PropertyFilter:
    path: tuple[str, ...]
    op: FilterOp
    value: Any  # a JSON value, checked for the op by property_filters


@dataclass(frozen=True)
class EventSelector:
    """Events of ``event_type`` (None: of any type) matching every condition of ``where``."""

    event_type: str | None = None
    where: tuple[PropertyFilter, ...] = ()


def property_filters(
    raw: Sequence[tuple[str, FilterOp, Any]] | None, *, argument: str
) -> tuple[PropertyFilter, ...]:
    """The conditions ``raw`` (property, op, value), validated; ``argument`` names them in
    error messages (``where``, ``series[1].event.where``)."""
    if not raw:
        return ()
    if len(raw) > MAX_CONDITIONS:
        raise InvalidInput(f"{argument} takes at most {MAX_CONDITIONS} conditions")
    return tuple(
        property_filter(prop, op, value, argument=f"{argument}[{i}]")
        for i, (prop, op, value) in enumerate(raw)
    )


def property_filter(prop: str, op: FilterOp, value: Any, *, argument: str) -> PropertyFilter:
    """One condition, validated; ``argument`` names it (``where[0]``)."""
    return PropertyFilter(
        property_path(prop, argument=f"{argument}.property"),
        op,
        _checked_value(op, value, argument=f"{argument}.value"),
    )


def property_path(text: str, *, argument: str) -> tuple[str, ...]:
    """The segments of the dotted path ``text``, validated."""
    if not text or len(text) > MAX_PATH_CHARS:
        raise InvalidInput(f"{argument} must be 1 to {MAX_PATH_CHARS} characters")
    if problem := text_problem(argument, text):
        raise InvalidInput(problem)
    path = tuple(text.split("."))
    if "" in path:
        raise InvalidInput(f"{argument} must not have an empty segment: {text[:64]!r}")
    return path


def as_double(number: int | float) -> float:
    """The 64-bit float a JSON number compares as."""
    try:
        return float(number)
    except OverflowError:  # an integer rounding past the largest double
        return math.inf if number > 0 else -math.inf


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _checked_value(op: FilterOp, value: Any, *, argument: str) -> Any:
    op = NEGATED.get(op, op)
    if op is FilterOp.IS_SET:
        if value is not None:
            raise InvalidInput(f"{argument} must be omitted for IS_SET and IS_NOT_SET")
        return None
    if op is FilterOp.CONTAINS:
        if not isinstance(value, str):
            raise InvalidInput(f"{argument} must be a string for CONTAINS and NOT_CONTAINS")
        return _checked_scalar(value, argument=argument)
    if op in ORDERINGS:
        if not is_number(value):
            raise InvalidInput(
                f"{argument} must be a number for {', '.join(o.value for o in ORDERINGS)}"
            )
        return _checked_scalar(value, argument=argument)
    if op is FilterOp.IN:
        if not isinstance(value, list) or len(value) > MAX_VALUES:
            raise InvalidInput(
                f"{argument} must be a JSON array of at most {MAX_VALUES} values for IN and NOT_IN"
            )
        return tuple(
            _checked_scalar(item, argument=f"{argument}[{i}]") for i, item in enumerate(value)
        )
    return _checked_scalar(value, argument=argument)


def _checked_scalar(value: Any, *, argument: str) -> Any:
    """A string, a finite number or a boolean: what EQ and IN compare with."""
    if isinstance(value, str):
        if problem := text_problem(argument, value):
            raise InvalidInput(problem)
        return value
    if is_number(value):
        if not math.isfinite(as_double(value)):
            raise InvalidInput(f"{argument} must be a finite number (within ±1.8e308)")
        return value
    if isinstance(value, bool):
        return value
    raise InvalidInput(
        f"{argument} must be a string, a number or a boolean (IS_SET and IS_NOT_SET test for null)"
    )


class _Conditions:
    """A selector's conditions as SQL of one store; subclasses bind values as its
    parameters, returning their placeholders."""

    def text(self, value: str) -> str:
        raise NotImplementedError

    def double(self, value: float) -> str:
        raise NotImplementedError

    def texts(self, values: list[str]) -> str:
        raise NotImplementedError

    def doubles(self, values: list[float]) -> str:
        raise NotImplementedError

    def value(self, path: tuple[str, ...]) -> HotValue | ColdValue:
        raise NotImplementedError

    def value_json(self, path: tuple[str, ...]) -> str:
        """The JSON text of the value at ``path``; NULL where it is absent."""
        return self.value(path).json()

    def selector(self, selector: EventSelector) -> str:
        """A boolean: the row is an event of ``selector`` ("true" when it selects all)."""
        tests = (
            []
            if selector.event_type is None
            else [f"event_type = {self.text(selector.event_type)}"]
        )
        tests += [self._condition(c) for c in selector.where]
        return " AND ".join(tests) or "true"

    def _condition(self, condition: PropertyFilter) -> str:
        op = NEGATED.get(condition.op, condition.op)
        if op is FilterOp.IN and not condition.value:
            return "true" if condition.op in NEGATED else "false"
        value = self.value(condition.path)
        if op is FilterOp.IS_SET:
            test = value.is_set()
        elif op is FilterOp.CONTAINS:
            test = value.contains(self.text(condition.value))
        elif op in ORDERINGS:
            test = value.compares(ORDERINGS[op], self.double(as_double(condition.value)))
        else:
            items = condition.value if op is FilterOp.IN else (condition.value,)
            strings = [item for item in items if isinstance(item, str)]
            numbers = [as_double(item) for item in items if is_number(item)]
            test = value.equals(
                self.texts(strings) if strings else None,
                self.doubles(numbers) if numbers else None,
                {item for item in items if isinstance(item, bool)},
            )
        return f"NOT {test}" if condition.op in NEGATED else test


class HotConditions(_Conditions):
    """PostgreSQL conditions on rows of ``EVENTS``; values are appended to ``args``
    and named ``$n``, n being their position in it."""

    def __init__(self, args: list[Any]) -> None:
        self._args = args

    def _bind(self, value: Any, cast: str) -> str:
        self._args.append(value)
        return f"${len(self._args)}::{cast}"

    def text(self, value: str) -> str:
        return self._bind(value, "text")

    def double(self, value: float) -> str:
        return self._bind(value, "float8")

    def texts(self, values: list[str]) -> str:
        return self._bind(values, "text[]")

    def doubles(self, values: list[float]) -> str:
        return self._bind(values, "float8[]")

    def value(self, path: tuple[str, ...]) -> HotValue:
        return HotValue([self.text(key) for key in path])


class ColdConditions(_Conditions):
    """ClickHouse conditions on rows of ``EVENTS``; values are added to ``params`` as
    ``%(prefix_n)s``. Doubles travel as their repr, the shortest text that reads back as
    the same double, and ClickHouse reads float literals exactly."""

    def __init__(self, params: dict[str, Any], prefix: str) -> None:
        self._params = params
        self._prefix = prefix

    def _bind(self, value: Any) -> str:
        name = f"{self._prefix}_{len(self._params)}"
        self._params[name] = value
        return f"%({name})s"

    def text(self, value: str) -> str:
        return self._bind(value)

    def double(self, value: float) -> str:
        return f"toFloat64({self._bind(value)})"

    def texts(self, values: list[str]) -> str:
        return self._bind(values)

    def doubles(self, values: list[float]) -> str:
        return self._bind(values)

    def value_canonical(self, path: tuple[str, ...]) -> str:
        """The canonical JSON text (:func:`canonical_json`) of the value at ``path``; NULL
        where it is absent."""
        return self.value(path).canonical()

    def value(self, path: tuple[str, ...]) -> ColdValue:
        # The keys again, each with U+0000 after it, for ColdValue's second reading.
        return ColdValue(
            [self.text(key) for key in path], [self.text(key + "\x00") for key in path]
        )
