"""Event ids are UUIDv7 (RFC 9562): the version and variant bits, the millisecond
timestamp, and ids that sort in the order they were made."""

from __future__ import annotations

import time
import uuid

from eventide_sdk import _uuid7, uuid7


def test_the_generator_writes_version_7_and_the_rfc_variant() -> None:
    before = time.time_ns() // 1_000_000
    ids = [_uuid7._Generator()() for _ in range(100)]
    after = time.time_ns() // 1_000_000
    for value in ids:
        assert value.version == 7
        assert value.variant == uuid.RFC_4122
        assert before <= value.int >> 80 <= after + 1


def test_ids_made_in_a_burst_sort_in_the_order_they_were_made() -> None:
    generate = _uuid7._Generator()
    ids = [generate() for _ in range(20_000)]  # many per millisecond, past the counter
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_a_clock_that_steps_back_does_not_reorder_ids() -> None:
    generate = _uuid7._Generator()
    first = generate()
    generate._millis += 5_000  # as if the last id had been made 5 s in the future
    assert first < generate() < generate()


def test_the_public_function_makes_version_7_ids() -> None:
    assert uuid7().version == 7
