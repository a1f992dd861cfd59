"""Property filters and canonical values computed in plain Python over stored properties.

``canonical`` models what the stores hold: PostgreSQL keeps numbers as numeric and
writes them back in plain decimal notation, which ClickHouse's parser then types (an
integer beyond 64 bits as a string) when it re-serialises an object or an array.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import orjson

from eventide.analytics.filters import NEGATED, ORDERINGS, FilterOp, PropertyFilter, as_double


def value_at(properties: dict[str, Any] | None, path: Sequence[str]) -> tuple[bool, Any]:
    """(found, value) at ``path``, through objects only."""
    value: Any = properties
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return False, None
        value = value[key]
    return True, value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(stored: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool) or isinstance(stored, bool):
        return isinstance(wanted, bool) and isinstance(stored, bool) and stored == wanted
    if isinstance(wanted, str):
        return isinstance(stored, str) and stored == wanted
    return _is_number(stored) and as_double(stored) == as_double(wanted)


def _positive(condition: PropertyFilter, op: FilterOp, found: bool, stored: Any) -> bool:
    if not found:
        return False
    if op is FilterOp.IS_SET:
        return stored is not None
    if op is FilterOp.CONTAINS:
        return isinstance(stored, str) and condition.value in stored
    if op in ORDERINGS:
        if not _is_number(stored):
            return False
        a, b = as_double(stored), as_double(condition.value)
        return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[ORDERINGS[op]]
    items = condition.value if op is FilterOp.IN else (condition.value,)
    return any(_equal(stored, item) for item in items)


def matches(properties: dict[str, Any] | None, where: Sequence[PropertyFilter]) -> bool:
    for condition in where:
        found, stored = value_at(properties, condition.path)
        op = NEGATED.get(condition.op, condition.op)
        if _positive(condition, op, found, stored) == (condition.op in NEGATED):
            return False
    return True


def number_text(value: float) -> str:
    """A double as ClickHouse's toString writes it (JavaScript's notation, without the
    exponent's plus sign); -0 as 0 and the infinities as 1e999 and -1e999."""
    if math.isinf(value):
        return "1e999" if value > 0 else "-1e999"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits, exponent = _shortest(abs(value))
    k, n = len(digits), exponent + len(digits)  # value = 0.digits * 10**n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = f"{mantissa}e{n - 1}"
    return sign + text


def _shortest(value: float) -> tuple[str, int]:
    """The shortest digits d1..dk and exponent e with value = d1..dk * 10**e."""
    _sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    return "".join(map(str, digits)), exponent


def string_text(value: str) -> str:
    """A string as ClickHouse re-serialises it."""
    out = ['"']
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif ord(char) < 0x20 or char in "\u2028\u2029":
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


_SHORT_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def canonical(value: Any) -> str:
    """The canonical text of a stored JSON value (see filters.canonical_json)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return string_text(value)
    if _is_number(value):
        return number_text(as_double(value) + 0.0)
    return _nested(value)


def answered(text: str) -> Any:
    """The value a response carries for canonical ``text``: JSON has no infinities, so
    numbers past the doubles' range are answered as integers of 999 digits' magnitude."""

    def number(digits: str) -> float | int:
        parsed = float(digits)
        if math.isinf(parsed):
            return 10**999 if parsed > 0 else -(10**999)
        return parsed

    return json.loads(text, parse_float=number)


def _nested(value: Any) -> str:
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return "{" + ",".join(string_text(k) + ":" + _nested(value[k]) for k in keys) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_nested(item) for item in value) + "]"
    if _is_number(value):
        # PostgreSQL's text of the stored numeric, as ClickHouse types it.
        stored = str(value) if isinstance(value, int) else orjson.dumps(value).decode()
        text = format(Decimal(stored), "f")
        if "." in text:
            return number_text(float(text))
        integer = int(text)
        return str(integer) if -(2**63) <= integer < 2**64 else string_text(str(integer))
    return canonical(value)
