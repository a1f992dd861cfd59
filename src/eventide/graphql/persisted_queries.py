"""Automatic persisted queries, as Apollo clients speak them (version 1).

A client sends ``extensions.persistedQuery = {"version": 1, "sha256Hash": <hex>}``,
first without ``query``. A document stored under that hash runs as if sent in full;
otherwise the answer is ``PersistedQueryNotFound`` (``PERSISTED_QUERY_NOT_FOUND``), and
the client sends the hash again with the document. The server checks that the hash is
the document's SHA-256 and runs it; a document that passes parsing and validation (every
operation limit, as any other document) is stored in Redis just before it executes, for
every replica to find. The hash alone works with GET too, so the URL of a query is short
and the same every time; what runs is still refused over GET unless it is a query.

Redis out of reach never fails an operation that came with its document: it runs and is
not stored. A hash alone is then answered ``PERSISTED_QUERY_NOT_FOUND``, which makes
clients send the document.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from redis.exceptions import RedisError
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from eventide.errors import EventideError, InvalidInput, PersistedQueryNotFound
from eventide.graphql.context import Context
from eventide.graphql.errors import classify
from eventide.storage import persisted_documents
from eventide.storage.engines import Engines

logger = logging.getLogger(__name__)

VERSION = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")
# An answer that depends on what Redis holds now must not be kept by a cache on the way.
_NOT_CACHED = "private, no-cache, must-revalidate"


@dataclass(frozen=True)
class Registration:
    """A document sent with its verified hash, to store once it is found valid."""

    sha256: str
    document: str


async def prepare(
    context: Context, request: GraphQLRequestData
) -> GraphQLRequestData | ExecutionResult:
    """``request`` with the document its persisted-query hash names, or the error result
    to answer instead. A document to store is left in ``context.persisted_query``."""
    try:
        query, context.persisted_query = await _resolve(
            context.engines, request.query, request.extensions
        )
    except EventideError as refusal:
        error = GraphQLError(refusal.message, original_error=refusal)
        classify(error, executing=False)
        context.response.headers["Cache-Control"] = _NOT_CACHED
        return ExecutionResult(data=None, errors=[error])
    if query is request.query:
        return request
    return dataclasses.replace(request, query=query)


async def _resolve(
    engines: Engines, query: str | None, extensions: Mapping[str, Any] | None
) -> tuple[str | None, Registration | None]:
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return query, None
    sha256 = _hash_of(persisted)
    settings = engines.settings
    if query is None:
        try:
            stored = await persisted_documents.load(
                engines, sha256, ttl=settings.persisted_query_ttl_seconds
            )
        except (RedisError, OSError):
            logger.warning("persisted query not looked up: Redis is unavailable", exc_info=True)
            stored = None
        if stored is None:
            raise PersistedQueryNotFound()
        return stored, None
    encoded = query.encode("utf-8", "surrogatepass")
    if len(encoded) > settings.persisted_query_max_bytes:
        raise InvalidInput(
            f"The document has {len(encoded)} bytes; a persisted query has at most "
            f"{settings.persisted_query_max_bytes}. Send it without extensions.persistedQuery."
        )
    if hashlib.sha256(encoded).hexdigest() != sha256:
        raise InvalidInput(
            "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query "
            "(of its UTF-8 bytes, as hexadecimal)"
        )
    return query, Registration(sha256=sha256, document=query)


def _hash_of(persisted: object) -> str:
    if not isinstance(persisted, Mapping):
        raise InvalidInput(
            "extensions.persistedQuery must be an object with version and sha256Hash"
        )
    version = persisted.get("version")
    if type(version) is not int or version != VERSION:
        raise InvalidInput(
            f"Persisted query version {version!r} is not supported; the supported "
            f"version is {VERSION}"
        )
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256.lower()):
        raise InvalidInput(
            "extensions.persistedQuery.sha256Hash must be a SHA-256 in hexadecimal (64 digits)"
        )
    return sha256.lower()


class PersistedQueryRegistration(SchemaExtension):
    """Stores a sent document under its hash once it is about to run: after parsing,
    validation and the rate limit, so no refused document is ever stored."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and context.persisted_query is not None:
            registration = context.persisted_query
            try:
                await persisted_documents.store(
                    context.engines,
                    registration.sha256,
                    registration.document,
                    ttl=context.engines.settings.persisted_query_ttl_seconds,
                )
            except (RedisError, OSError):
                logger.warning("persisted query not stored: Redis is unavailable", exc_info=True)
        yield
