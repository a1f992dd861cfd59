from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventide.ingest.validation import (
    EARLIEST,
    MAX_FUTURE,
    MAX_PROPERTIES_BYTES,
    Rejection,
    ValidatedBatch,
    _Span,
    _valid_whole,
    _validate_each,
    validate_batch,
)

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def event(event_id: str = "e1", **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "eventId": event_id,
        "userId": "u1",
        "eventType": "click",
        "occurredAt": NOW - dt.timedelta(minutes=5),
    }
    return base | changes


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


def validate(*events: dict[str, Any], sent_at: dt.datetime | None = None) -> ValidatedBatch:
    return validate_batch(list(events), received_at=NOW, sent_at=sent_at)


def only_rejection(*events: dict[str, Any]) -> Rejection:
    batch = validate(*events)
    assert len(batch.rejected) == 1, batch.rejected
    return batch.rejected[0]


def test_valid_events_become_columns_sorted_by_id() -> None:
    batch = validate(event("b", properties={"plan": "pro"}), event("a"))
    assert batch.event_ids == ["a", "b"]
    assert batch.properties == [None, '{"plan":"pro"}']
    assert batch.rejected == []
    assert batch.repeats == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("eventId", ""),
        ("eventId", "x" * 129),
        ("userId", ""),
        ("userId", "u" * 257),
        ("eventType", ""),
        ("eventType", "t" * 129),
        ("eventId", "a\x00b"),
        ("userId", "\x00"),
        ("eventType", "bad\ud800"),
    ],
)
def test_unusable_text_fields_are_invalid(field: str, value: str) -> None:
    rejection = only_rejection(event("ok"), event("e2", **{field: value}))
    assert rejection.index == 1
    assert rejection.code == "INVALID_FIELD"
    assert rejection.message.startswith(field)
    assert rejection.event_id == (None if field == "eventId" else "e2")


@pytest.mark.parametrize(
    ("field", "length"), [("eventId", 128), ("userId", 256), ("eventType", 128)]
)
def test_text_fields_at_their_limit_are_valid(field: str, length: int) -> None:
    batch = validate(event(**{field: "é" * length}))
    assert batch.rejected == []
    assert len(batch) == 1


def test_timestamp_more_than_a_day_ahead_is_rejected() -> None:
    rejection = only_rejection(event(occurredAt=NOW + dt.timedelta(hours=25)))
    assert (rejection.code, rejection.event_id) == ("FUTURE_TIMESTAMP", "e1")
    assert validate(event(occurredAt=NOW + dt.timedelta(hours=24))).rejected == []


def test_timestamp_before_1970_is_rejected() -> None:
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    rejection = only_rejection(event(occurredAt=epoch - dt.timedelta(microseconds=1)))
    assert rejection.code == "TIMESTAMP_TOO_OLD"
    assert validate(event(occurredAt=epoch)).rejected == []


def test_timestamp_before_the_retention_boundary_is_rejected_on_its_own() -> None:
    boundary = NOW - dt.timedelta(days=30, minutes=15)
    batch = validate_batch(
        [event("old", occurredAt=boundary - dt.timedelta(microseconds=1)), event("kept")],
        received_at=NOW,
        sent_at=None,
        retained_from=boundary,
    )
    assert batch.event_ids == ["kept"]
    [rejection] = batch.rejected
    assert (rejection.index, rejection.event_id, rejection.code) == (0, "old", "TIMESTAMP_TOO_OLD")
    assert "2026-10-21T11:45:00Z" in rejection.message
    assert "retention" in rejection.message
    at_boundary = event(occurredAt=boundary)
    kept = validate_batch([at_boundary], received_at=NOW, sent_at=None, retained_from=boundary)
    assert (kept.event_ids, kept.rejected) == (["e1"], [])


def test_sent_at_shifts_occurred_at_by_the_clock_skew_to_the_microsecond() -> None:
    device_ahead = dt.timedelta(hours=30, microseconds=123_457)
    occurred = NOW + device_ahead - dt.timedelta(seconds=1, microseconds=5)
    batch = validate(event(occurredAt=occurred), sent_at=NOW + device_ahead)
    assert batch.rejected == []
    assert batch.occurred_at == [NOW - dt.timedelta(seconds=1, microseconds=5)]


def test_a_correction_out_of_the_calendar_is_rejected_cleanly() -> None:
    early = dt.datetime(1, 1, 1, 0, 0, 1, tzinfo=dt.UTC)
    batch = validate(event(occurredAt=early), sent_at=NOW + dt.timedelta(days=1))
    assert [r.code for r in batch.rejected] == ["INVALID_FIELD"]


@pytest.mark.parametrize("properties", [[1, 2], "text", 3, True])
def test_properties_must_be_an_object(properties: Any) -> None:
    assert only_rejection(event(properties=properties)).code == "PROPERTIES_NOT_OBJECT"


def test_properties_depth_limit_is_ten_levels() -> None:
    assert validate(event(properties=nested(10))).rejected == []
    assert only_rejection(event(properties=nested(11))).code == "PROPERTIES_TOO_DEEP"
    deep_list = {"a": [[[[[[[[[[1]]]]]]]]]]}
    assert only_rejection(event(properties=deep_list)).code == "PROPERTIES_TOO_DEEP"


def test_many_containers_side_by_side_are_not_deep() -> None:
    wide = {f"k{i}": {"v": [i]} for i in range(50)}
    assert validate(event(properties=wide)).rejected == []


def test_nesting_beyond_the_serializer_limit_is_too_deep_not_a_crash() -> None:
    assert only_rejection(event(properties=nested(5000))).code == "PROPERTIES_TOO_DEEP"


def test_properties_size_limit_is_32_kib_serialized() -> None:
    filler = MAX_PROPERTIES_BYTES - len(orjson.dumps({"p": ""}))
    assert validate(event(properties={"p": "x" * filler})).rejected == []
    too_large = event(properties={"p": "x" * (filler + 1)})
    assert only_rejection(too_large).code == "PROPERTIES_TOO_LARGE"


@pytest.mark.parametrize(
    "properties",
    [
        {"a": "x\x00y"},
        {"k\x00": 1},
        {"a": [{"b": "\x00"}]},
        {"a": "\ud800"},
        {"a": float("nan")},
        {"a": [float("-inf")]},
    ],
)
def test_properties_postgresql_cannot_hold_are_rejected(properties: Any) -> None:
    assert only_rejection(event(properties=properties)).code == "INVALID_FIELD"


def test_an_escaped_backslash_is_not_mistaken_for_nul() -> None:
    batch = validate(event(properties={"path": "C:\\u0000"}))
    assert batch.rejected == []


def test_nulls_and_huge_integers_are_kept_exactly() -> None:
    batch = validate(event(properties={"n": 2**70, "none": None, "text": "null"}))
    assert batch.rejected == []
    assert batch.properties == ['{"n":1180591620717411303424,"none":null,"text":"null"}']


def test_repeats_within_a_call_are_stored_once_first_valid_copy_wins() -> None:
    batch = validate(
        event("a", eventType=""),
        event("a", userId="first"),
        event("b"),
        event("a", userId="second"),
    )
    assert batch.event_ids == ["a", "b"]
    assert batch.user_ids == ["first", "u1"]
    assert batch.repeats == 1
    assert [r.index for r in batch.rejected] == [0]


# Mostly valid values: a batch is checked whole only when every event in it is valid.
unusable_texts = ["", "x\x00", "\ud800", "t" * 129, "u" * 257]
texts = st.sampled_from(["a", "b", "é", "a" * 128, *unusable_texts] + ["u"] * 12)
instants = st.sampled_from(
    [
        NOW + dt.timedelta(hours=25),
        dt.datetime(1969, 12, 31, 23, 59, tzinfo=dt.UTC),
        dt.datetime(1, 1, 1, 0, 0, 1, tzinfo=dt.UTC),
    ]
    + [
        NOW - dt.timedelta(days=1),
        NOW + dt.timedelta(hours=23),
        dt.datetime(1970, 1, 1, 3, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-3))),
    ]
    * 4
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(
        [float("nan"), "null", "x\x00", "\ud800", "C:\\u0000", "{[{[{[", "x" * 33_000]
    )
    | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
properties = (
    st.dictionaries(st.text(max_size=3), json_values, max_size=3)
    | st.builds(nested, st.integers(9, 12))
    | st.none()
    | st.sampled_from([[1], "text"])
)
events = st.fixed_dictionaries(
    {
        "eventId": st.sampled_from(["a", "b", "c", "d"]) | texts,
        "userId": texts,
        "eventType": texts,
        "occurredAt": instants,
    },
    optional={"properties": properties},
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(events, max_size=6),
    st.sampled_from([None, NOW - dt.timedelta(hours=2), NOW + dt.timedelta(days=3)]),
    st.sampled_from([None, NOW - dt.timedelta(hours=36)]),
)
def test_a_batch_is_judged_as_each_of_its_events_is(
    batch: list[dict[str, Any]], sent_at: dt.datetime | None, retained_from: dt.datetime | None
) -> None:
    # Whole valid batches are checked a column at a time; the outcome must not differ.
    skew = None if sent_at is None else NOW - sent_at
    span = _Span(retained_from or EARLIEST, NOW + MAX_FUTURE)
    each = _validate_each(batch, skew, span)
    whole = _valid_whole(batch, skew, span)
    if whole is not None:
        assert whole == each
        assert each.rejected == []
    judged = validate_batch(batch, received_at=NOW, sent_at=sent_at, retained_from=retained_from)
    assert judged == each


def test_a_valid_batch_is_checked_whole() -> None:
    batch = [
        event("c", properties={"a": {"b": [None]}}),
        event("a", userId="ü", properties=nested(10)),
        event("b", occurredAt=NOW + dt.timedelta(hours=24)),
        event("a", userId="second"),
    ]
    whole = _valid_whole(batch, None, _Span(EARLIEST, NOW + MAX_FUTURE))
    assert whole is not None
    assert whole.event_ids == ["a", "b", "c"]
    assert whole.user_ids == ["ü", "u1", "u1"]
    assert whole.properties == [orjson.dumps(nested(10)).decode(), None, '{"a":{"b":[null]}}']
    assert whole.repeats == 1
