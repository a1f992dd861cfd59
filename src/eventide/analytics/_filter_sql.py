"""How each store reads the JSON value at a path of an event's properties, and tests it.

Every test here is a boolean that is never NULL (false where the path is absent), so
that a negated condition is true exactly where its test is false. Placeholders passed in
are already bound by the caller; nothing here inlines caller text.

PostgreSQL walks ``properties`` with ``->`` and text keys, which is NULL on arrays and
scalars: paths go into objects only. Numbers become float8 through numeric (its text,
read by strtod, so correctly rounded), with magnitudes from 2**1024 - 2**970 up taken as
infinities where float8 would refuse them.

ClickHouse reads PostgreSQL's ``jsonb::text`` with its JSON functions and string keys,
which never index arrays either. Its parser (simdjson) types integers beyond 64 bits as
strings, so a string of 19 or more digits is ambiguous; for those rows only, the text is
read once more with every number token turned into a string that holds U+0000 after its
first character and every string given a U+0000 at its end (no stored text holds
U+0000): a real string then ends with U+0000. ``JSONExtractFloat`` rounds correctly,
big integers included, and gives infinities where doubles overflow.
"""

from __future__ import annotations

import decimal
import json
import math
from typing import Any

# 2**1024 - 2**970: the least magnitude that rounds past the largest double.
_OVERFLOW = str(2**1024 - 2**970)


class HotValue:
    """The jsonb value at a path (SQL NULL when absent) of a PostgreSQL row."""

    def __init__(self, keys: list[str]) -> None:
        self.sql = "(properties" + "".join(f" -> {key}" for key in keys) + ")"

    def json(self) -> str:
        return f"({self.sql})::text"

    def _text(self) -> str:
        return f"({self.sql} #>> '{{}}') COLLATE \"C\""

    def _is(self, kind: str) -> str:
        return f"coalesce(jsonb_typeof({self.sql}) = '{kind}', false)"

    def _double(self) -> str:
        number = f"({self.sql})::numeric"
        return (
            f"CASE WHEN abs({number}) < {_OVERFLOW} THEN {number}::float8"
            f" ELSE sign({number})::float8 * 'Infinity'::float8 END"
        )

    def _numeric_test(self, test: str) -> str:
        # CASE, not AND: the cast must never see a value that is not a number.
        return f"CASE WHEN {self._is('number')} THEN {self._double()} {test} ELSE false END"

    def equals(self, strings: str | None, numbers: str | None, booleans: set[bool]) -> str:
        """Equal to one of the text[] ``strings``, the float8[] ``numbers`` or ``booleans``."""
        tests = []
        if strings is not None:
            tests.append(f"({self._is('string')} AND {self._text()} = ANY({strings}))")
        if numbers is not None:
            tests.append(self._numeric_test(f"= ANY({numbers})"))
        tests += [
            f"coalesce({self.sql} = '{str(b).lower()}'::jsonb, false)" for b in sorted(booleans)
        ]
        return f"({' OR '.join(tests) or 'false'})"

    def contains(self, needle: str) -> str:
        return f"({self._is('string')} AND strpos({self._text()}, {needle}) > 0)"

    def compares(self, operator: str, number: str) -> str:
        return self._numeric_test(f"{operator} {number}")

    def is_set(self) -> str:
        return f"coalesce(jsonb_typeof({self.sql}) <> 'null', false)"


# Every string (keys too) gets U+0000 before its closing quote; every number token gets
# quoted with U+0000 after its first character. PostgreSQL writes numbers as -?digits
# with an optional fraction, never an exponent.
_MARK_PATTERN = r'"((?:[^"\\]|\\.)*)"|(-?[0-9])([.0-9]*)'
_MARK_REPLACEMENT = r'"\1\2\\u0000\3"'
_AMBIGUOUS = "'^\"-?[0-9]{19,}\"$'"  # the raw text of such a String


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


_MARKED = f"replaceRegexpAll(properties, {_literal(_MARK_PATTERN)}, {_literal(_MARK_REPLACEMENT)})"


class ColdValue:
    """The value at a path of a ClickHouse row; ``keys`` are the bound key parameters, and
    ``marked_keys`` the same keys each followed by U+0000.

    ``properties`` is parsed once per row, for the value's raw text; every test reads
    that text (its first character types it) or parses only it.
    """

    def __init__(self, keys: list[str], marked_keys: list[str]) -> None:
        self._raw = f"JSONExtractRaw(properties, {', '.join(keys)})"
        self._marked_text = f"JSONExtractString({_MARKED}, {', '.join(marked_keys)})"

    def _big_integer(self) -> str:
        """A String-typed value that was an integer beyond 64 bits in the text."""
        return f"(match({self._raw}, {_AMBIGUOUS}) AND NOT endsWith({self._marked_text}, '\\0'))"

    def _is_string(self) -> str:
        return f"(startsWith({self._raw}, '\"') AND NOT {self._big_integer()})"

    def _is_number(self) -> str:
        return f"(match({self._raw}, '^-?[0-9]') OR {self._big_integer()})"

    def _string(self) -> str:
        return f"JSONExtractString({self._raw})"

    def _double(self) -> str:
        return f"JSONExtractFloat({self._raw})"

    def json(self) -> str:
        return (
            f"multiIf({self._raw} = '', NULL, {self._big_integer()}, {self._string()}, {self._raw})"
        )

    def canonical(self) -> str:
        """:func:`canonical_json` of :meth:`json`, without parsing the value once more:
        ClickHouse's raw text of a string, an object or an array is already its own
        re-serialisation."""
        return (
            f"multiIf({self._raw} = '', NULL, {self._is_number()},"
            f" {_canonical_number(self._double())}, {self._raw})"
        )

    def equals(self, strings: str | None, numbers: str | None, booleans: set[bool]) -> str:
        """Equal to one of the arrays ``strings`` or ``numbers`` (Float64), or ``booleans``."""
        tests = []
        if strings is not None:
            tests.append(f"({self._is_string()} AND has({strings}, {self._string()}))")
        if numbers is not None:
            tests.append(f"({self._is_number()} AND has({numbers}, {self._double()}))")
        if booleans:
            values = ", ".join(f"'{str(b).lower()}'" for b in sorted(booleans))
            tests.append(f"({self._raw} IN ({values}))")
        return f"({' OR '.join(tests) or 'false'})"

    def contains(self, needle: str) -> str:
        return f"({self._is_string()} AND position({self._string()}, {needle}) > 0)"

    def compares(self, operator: str, number: str) -> str:
        return f"({self._is_number()} AND {self._double()} {operator} {number})"

    def is_set(self) -> str:
        return f"({self._raw} NOT IN ('', 'null'))"  # absent paths give ''


def canonical_json(expr: str) -> str:
    """A ClickHouse expression: JSON text ``expr`` (NULL: absent) in one canonical form.

    Scalars are typed by their first character, so an integer beyond 64 bits is a
    number. Strings are re-serialised by ClickHouse; numbers become their double written
    shortest (JavaScript's notation without the exponent's plus sign; -0 is 0 and the
    infinities are 1e999 and -1e999); objects and arrays are ClickHouse's compact
    re-serialisation (keys in PostgreSQL's order, which both stores' text has), in which
    integers beyond 64 bits become strings of their digits.
    """
    wrapped = f"concat('[', {expr}, ']')"
    return (
        f"multiIf({expr} IS NULL, NULL,"
        f" match({expr}, '^[-0-9]'), {_canonical_number(f'JSONExtractFloat({wrapped}, 1)')},"
        f" startsWith({expr}, 't') OR startsWith({expr}, 'f') OR startsWith({expr}, 'n'), {expr},"
        f" JSONExtractRaw({wrapped}, 1))"
    )


def _canonical_number(double: str) -> str:
    return f"if(isInfinite({double}), if({double} > 0, '1e999', '-1e999'), toString({double} + 0.))"


def json_value(canonical: str) -> Any:
    """The JSON value of a canonical text (see :func:`canonical_json`). Numbers beyond
    the range of doubles are one value of each sign there, ``1e999``: it is answered as
    an integer of that size, since no response may carry an infinity."""
    return json.loads(canonical, parse_float=_finite)


def _finite(text: str) -> float | int:
    number = float(text)
    return number if math.isfinite(number) else int(decimal.Decimal(text))
