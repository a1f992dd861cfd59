"""End-user erasure: every event of one ``userId`` of a project, gone from both stores.

:func:`erase_end_user` deletes the user's hot events and records the erasure in one
transaction; from its commit on, every reader hides the user's cold events accepted
before it (see :mod:`eventide.archive.erased`), and the background completion
(:mod:`eventide.lifecycle.completion`) deletes them. The idempotency ledger keeps the
erased ids, so re-sent copies stay duplicates; events accepted afterwards are new data.
"""

from __future__ import annotations

import logging

from eventide.errors import InvalidInput
from eventide.ingest.validation import MAX_USER_ID_CHARS, text_problem
from eventide.lifecycle import completion, store
from eventide.lifecycle.store import ErasureRecord
from eventide.storage.engines import Engines

logger = logging.getLogger(__name__)


async def erase_end_user(
    engines: Engines, *, project: int, user_id: str, requested_by: str | None
) -> ErasureRecord:
    """Erase ``user_id``'s events of ``project`` accepted before this call; the caller
    has been authorized to (OWNER, or a server ADMIN)."""
    if (problem := text_problem(user_id, MAX_USER_ID_CHARS)) is not None:
        raise InvalidInput(f"userId {problem}", argument="userId")
    async with engines.db.acquire() as conn:
        erasure = await store.erase(
            conn, project=project, user_id=user_id, requested_by=requested_by
        )
    # The user id is personal data: the log names the erasure only.
    logger.info("erasure %s requested in project %s", erasure.id, project)
    completion.complete_soon(engines)
    return erasure


async def erasures(engines: Engines, *, project: int) -> list[ErasureRecord]:
    """The erasures of ``project``, newest first."""
    return await store.erasures_of(engines.db, project=project)
