"""The cold rows of pending end-user erasures, as ClickHouse predicates.

Readers' statements hide them (see ``Scope.cold``) and their completion deletes them.
Pending erasures are few and short-lived, so everything is inlined as literals.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErasedRows:
    """The cold rows of a pending end-user erasure, hidden from readers until it is
    complete: ``user_id``'s rows of the batches counted by the erasure's snapshot
    (``batch_id <= max_committed`` and not ``excluded``), and the copies of the hot rows it
    deleted (``erased``: event id and receipt instant in microseconds)."""

    user_id: str
    max_committed: int
    excluded: tuple[int, ...] = ()
    erased: tuple[tuple[str, int], ...] = ()


def erased_condition(erased: ErasedRows) -> str:
    """A ClickHouse predicate: the row is one of the cold rows of ``erased``."""
    batches = f"batch_id <= {int(erased.max_committed)}"
    if erased.excluded:
        batches += f" AND batch_id NOT IN ({', '.join(str(int(b)) for b in erased.excluded)})"
    if erased.erased:
        copies = ", ".join(f"({literal(e)}, {int(us)})" for e, us in erased.erased)
        batches = f"({batches}) OR (event_id, toUnixTimestamp64Micro(received_at)) IN ({copies})"
    return f"({user_condition(erased.user_id)} AND ({batches}))"


def user_condition(user_id: str) -> str:
    """A ClickHouse predicate: the row is of ``user_id``."""
    return f"user_id = {literal(user_id)}"


def not_erased(erasures: tuple[ErasedRows, ...]) -> str:
    """A ClickHouse predicate: the row is none of the cold rows of ``erasures``."""
    return f"NOT ({' OR '.join(erased_condition(e) for e in erasures)})"


def literal(text: str) -> str:
    """``text`` as a ClickHouse string expression."""
    # Hex digits only: nothing in a user's text can end the literal, look like a
    # placeholder or a parameter, whatever is substituted into the statement later.
    return f"unhex('{text.encode().hex()}')"
