"""Documents stored by their SHA-256 in Redis, shared by every replica.

A document is kept ``ttl`` seconds after it was last stored or read, so documents in
use stay and abandoned ones go. Redis errors are the caller's to handle.
"""

from __future__ import annotations

from eventide.storage.engines import Engines


def _key(engines: Engines, sha256: str) -> str:
    return engines.redis_key("persisted-query", sha256)


async def load(engines: Engines, sha256: str, *, ttl: int) -> str | None:
    """The document stored under ``sha256`` (its expiry pushed back ``ttl`` seconds)."""
    value = await engines.redis.getex(_key(engines, sha256), ex=ttl)
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogatepass")
    return value


async def store(engines: Engines, sha256: str, document: str, *, ttl: int) -> None:
    value = document.encode("utf-8", "surrogatepass")
    await engines.redis.set(_key(engines, sha256), value, ex=ttl)
