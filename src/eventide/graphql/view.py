"""The ``/graphql`` endpoint: Strawberry's ASGI view with Eventide's context, over HTTP
and over WebSocket (``graphql-transport-ws``, for subscriptions)."""

from __future__ import annotations

import contextlib
import json
from typing import cast

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.types import QueryParams
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from eventide.auth.authenticate import Authentication, authenticate
from eventide.graphql import persisted_queries
from eventide.graphql.context import Context
from eventide.graphql.errors import client_error
from eventide.graphql.http_conventions import ConventionalGraphQL
from eventide.graphql.loaders import Loaders
from eventide.storage.engines import Engines

# Every digit becomes "0", any other byte a space.
_DIGITS_TO_ZERO = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_19_DIGITS = b"0" * 19


class GraphQLView(ConventionalGraphQL):
    """The ``/graphql`` endpoint: request bodies decoded strictly, persisted queries, and
    Eventide's context."""

    def parse_json(self, data: str | bytes) -> object:
        """A request body: a JSON object (an array is refused later as a batch)."""
        value = self._decode(data, "request body")
        if not isinstance(value, dict | list):
            raise HTTPException(400, "The request body must be a JSON object.")
        return value

    def parse_query_params(self, params: QueryParams) -> dict[str, object]:
        parsed: dict[str, object] = dict(params)
        for name in ("variables", "extensions"):
            if text := params.get(name):
                parsed[name] = self._decode(text, f"`{name}` query parameter")
        return parsed

    def _decode(self, data: str | bytes, what: str) -> object:
        try:
            return self.decode_json(data)
        except RecursionError:
            raise HTTPException(
                400, f"The {what} nests JSON arrays or objects too deeply."
            ) from None
        except UnicodeError:
            raise HTTPException(400, f"The {what} is not UTF-8 text.") from None
        except ValueError as error:
            # A JSON syntax error, or an integer of more digits than Python converts.
            message = "Unable to parse request body as JSON"
            if what != "request body":
                message = f"Unable to parse the {what} as JSON"
            raise HTTPException(400, message) from error

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET with a persisted query's hash and no query is an operation, not a page.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(
            request
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        prepared = await persisted_queries.prepare(context, request_data)
        if isinstance(prepared, ExecutionResult):
            return prepared
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, prepared
        )

    def decode_json(self, data: str | bytes) -> object:
        # orjson is faster, but reads integers beyond 64 bits as floats without a word;
        # properties keep them exact. Such an integer has 19 digits in a row or more.
        if isinstance(data, bytes) and data.translate(_DIGITS_TO_ZERO).find(_19_DIGITS) < 0:
            with contextlib.suppress(orjson.JSONDecodeError):
                return orjson.loads(data)
        # What orjson refuses, the standard library may take (NaN, escaped unpaired
        # surrogates, a byte order mark), or refuse with its own error, as it always did.
        return json.loads(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        engines: Engines = request.app.state.engines
        live = getattr(request.app.state, "live", None)
        if isinstance(request, WebSocket):
            # Credentials come with connection_init: see on_ws_connect.
            return Context(
                request=request,
                response=Response(),
                engines=engines,
                live=live,
                loaders=Loaders(engines),
            )
        assert isinstance(response, Response)
        auth = await _authentication(engines, request.headers.get("authorization"))
        return Context(
            request=request,
            response=response,
            engines=engines,
            live=live,
            principal=auth.principal,
            credential_error=auth.error,
            access=auth.access,
            loaders=Loaders(engines),
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A WebSocket connection's credentials, ``{"authorization": "Bearer ..."}`` in
        the connection_init payload, checked as the Authorization header is; refused
        ones close the connection with 4403 Forbidden, as graphql-transport-ws says.
        Without credentials the connection is anonymous."""
        authorization = (context.connection_params or {}).get("authorization")
        if not isinstance(authorization, str | None):
            raise ConnectionRejectionError()
        auth = await _authentication(context.engines, authorization)
        if auth.error is not None:
            raise ConnectionRejectionError()
        context.principal = auth.principal
        context.access = auth.access
        # Unset: connection_ack without a payload.
        return cast(UnsetType, UNSET)


async def _authentication(engines: Engines, authorization: str | None) -> Authentication:
    try:
        return await authenticate(engines, authorization)
    except Exception as error:
        # An engine down while checking credentials: the credentials stay refused
        # (guarded fields answer with this error) and public fields keep answering.
        return Authentication(error=client_error(error, where="authentication"))
