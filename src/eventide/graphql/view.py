"""The ``/graphql`` endpoint: Strawberry's ASGI view with Eventide's context."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from eventide.auth.authenticate import Authentication, authenticate
from eventide.graphql.context import Context
from eventide.graphql.error_codes import client_error
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
        try:
            auth = await authenticate(services, request.headers.get("authorization"))
        except Exception as error:
            # An engine down while checking credentials: the credentials stay refused
            # (guarded fields answer with this error) and public fields keep answering.
            auth = Authentication(error=client_error(error, where="authentication"))
        return Context(
            request=request,
            response=response,
            services=services,
            principal=auth.principal,
            credential_error=auth.error,
            access=auth.access,
            loaders=Loaders(services),
        )
