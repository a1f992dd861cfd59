"""Record identifiers: UUIDs, exposed to clients as their canonical text."""

from __future__ import annotations

import uuid
from typing import Any


def parse_id(value: Any) -> uuid.UUID | None:
    """The UUID that ``value`` spells, or None for anything else."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
