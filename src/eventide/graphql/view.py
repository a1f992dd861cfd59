"""The ``/graphql`` endpoint: Strawberry's ASGI view with Eventide's context."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from eventide.auth.authenticate import authenticate
from eventide.graphql.context import Context
from eventide.graphql.loaders import Loaders
from eventide.http.errors import JsonErrorsGraphQL
from eventide.services import Services


class GraphQLView(JsonErrorsGraphQL):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        # Eventide serves no subscriptions, so these are never websockets.
        assert isinstance(request, Request)
        assert isinstance(response, Response)
        services: Services = request.app.state.services
        auth = await authenticate(services, request.headers.get("authorization"))
        return Context(
            request=request,
            response=response,
            services=services,
            principal=auth.principal,
            credential_error=auth.error,
            access=auth.access,
            loaders=Loaders(services),
        )
