"""Deleting dead tokens: on demand (``purgeExpiredTokens``) and periodically."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from eventide.auth import api_tokens, refresh
from eventide.periodic import every
from eventide.storage.engines import Engines

logger = logging.getLogger(__name__)

PURGE_INTERVAL_SECONDS = 3600


async def purge_expired_tokens(engines: Engines) -> int:
    """Delete expired and revoked API and refresh tokens; return how many went."""
    async with engines.db.acquire() as conn, conn.transaction():
        removed_api = await api_tokens.purge_api_tokens(conn)
        removed_refresh = await refresh.purge_refresh_tokens(conn)
    return removed_api + removed_refresh


@contextlib.asynccontextmanager
async def token_purging(
    engines: Engines, *, interval: float = PURGE_INTERVAL_SECONDS
) -> AsyncIterator[None]:
    """Run :func:`purge_expired_tokens` every ``interval`` seconds while open."""

    async def turn() -> None:
        if removed := await purge_expired_tokens(engines):
            logger.info("purged %d expired or revoked tokens", removed)

    async with every(interval, turn, name="eventide-token-purge"):
        yield
