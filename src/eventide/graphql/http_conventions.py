"""The GraphQL-over-HTTP conventions of ``/graphql``, on top of Strawberry's view.

- The response's media type follows ``Accept`` (:mod:`eventide.http.media_types`); a
  header that accepts neither GraphQL type is refused with 406.
- With ``application/graphql-response+json``, a request error (the document does not
  parse or validate, the variables do not coerce) is answered with 400 and no ``data``
  entry: nothing was executed. An operation that ran is answered with 200, field errors
  or not. With ``application/json`` every GraphQL result is 200, as before.
- Refusals of the request's shape are HTTP errors in the usual JSON error shape: an
  ``operationName`` that is not a string (400), a mutation over GET (405, ``Allow:
  POST``), a body that is not JSON (415); and, raised while preparing the operation, no
  query (400) or no clear operation to run (400, :mod:`eventide.graphql.operation_choice`).
"""

from __future__ import annotations

from collections.abc import Mapping

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult

from eventide.graphql.context import Context
from eventide.http.errors import error_response
from eventide.http.media_types import GRAPHQL_RESPONSE_JSON, response_media_type

# Codes of errors in the request itself: nothing of the operation was executed.
_REQUEST_ERROR_CODES = frozenset(
    {"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT", "BAD_REQUEST"}
)


class Refusal(HTTPException):
    """An HTTP-level refusal that needs response headers (``Allow`` with 405)."""

    def __init__(self, status_code: int, reason: str, *, headers: Mapping[str, str]) -> None:
        super().__init__(status_code, reason)
        self.headers = dict(headers)


def refusal_response(error: HTTPException) -> Response:
    """The JSON error response of a refusal raised by the view."""
    headers = error.headers if isinstance(error, Refusal) else None
    return error_response(error.status_code, error.reason, headers=headers)


def refusal_code(error: Exception) -> str | None:
    """``extensions.code`` of the HTTP refusal that ``error``, raised by Strawberry while
    preparing an operation, becomes; None for any other exception."""
    if isinstance(error, InvalidOperationTypeError):
        return "METHOD_NOT_ALLOWED"
    if isinstance(error, MissingQueryError | CannotGetOperationTypeError):
        return "BAD_REQUEST"
    return None


def is_request_error(response: GraphQLHTTPResponse) -> bool:
    """Whether a result is a request error: no data, and errors of the request alone.

    A result of an operation that began executing keeps ``data``, even ``null`` (a
    non-null field failed, the time limit, a rate limit).
    """
    errors = response.get("errors")
    if response.get("data") is not None or not errors:
        return False
    return all(
        isinstance(error, dict)
        and "path" not in error
        and (error.get("extensions") or {}).get("code") in _REQUEST_ERROR_CODES
        for error in errors
    )


class ConventionalGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view following the GraphQL-over-HTTP conventions above, and
    answering its HTTP-level refusals in JSON, not plain text: a body that is not JSON,
    a batch (an array body; batching is off), a mutation sent with GET, a missing query,
    an unsupported content type."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        response: Response
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as error:
            response = refusal_response(error)
        await response(scope, receive, send)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        media_type = response_media_type(request.headers.get("accept"))
        if media_type is None:
            raise HTTPException(
                406,
                f"The Accept header allows no response type of this endpoint: accept "
                f"{GRAPHQL_RESPONSE_JSON} or application/json.",
            )
        sub_response.media_type = media_type
        return sub_response

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        if request.method == "POST":
            content_type, _ = parse_content_type(request.content_type or "")
            if "application/json" not in content_type:
                raise HTTPException(
                    415, "Send the GraphQL request as JSON: Content-Type: application/json."
                )
        data = await super().parse_http_body(request)
        # Batching is off, so Strawberry refused an array body before this.
        assert isinstance(data, GraphQLRequestData)
        if not isinstance(data.operation_name, str | None):
            raise HTTPException(
                400, "The GraphQL request's `operationName` must be a string or null."
            )
        return data

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as error:
            cause = error.__cause__
            if isinstance(cause, InvalidOperationTypeError):
                raise Refusal(
                    405,
                    f"{error.reason}: send them with POST.",
                    headers={"Allow": "POST"},
                ) from cause
            raise

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        media_type = sub_response.media_type
        request_error = (
            media_type == GRAPHQL_RESPONSE_JSON
            and isinstance(response_data, dict)
            and is_request_error(response_data)
        )
        if request_error:
            assert isinstance(response_data, dict)
            response_data.pop("data", None)
        response = super().create_response(response_data, sub_response)
        if media_type == GRAPHQL_RESPONSE_JSON:
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
            if request_error:
                response.status_code = 400
        return response
