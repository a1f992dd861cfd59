"""The web console at ``/``: a single-page app, served from its own build.

``make install`` builds ``console/`` (TypeScript, from the npm registry) into
``console/dist``: an ``index.html`` and content-hashed files under ``assets/``. The
page talks to ``/graphql`` only, like any other client. Its routes (``/p/3/events``,
``/signin``, ...) exist only in the browser, so a browser navigating to any path the
server has no route for gets ``index.html``; every other client keeps the JSON 404.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from eventide.http.errors import error_response

# src/eventide/console -> the project root, where console/ is built.
DEFAULT_DIST = Path(__file__).resolve().parents[3] / "console" / "dist"

_PAGE_HEADERS = {
    # Scripts and styles are files of the build; the only connections are to this
    # server (GraphQL over HTTP and WebSocket: 'self' covers ws: to the same host).
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Always revalidated, so a new build is picked up at the next load; the files it
    # names never change under their hashed names.
    "Cache-Control": "no-cache",
}
_ASSET_HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
}
_TOP_LEVEL_HEADERS = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
_NOT_BUILT = "The console is not built: run `make install` (it builds console/)."


class Console:
    """Serves one build directory."""

    def __init__(self, dist: Path | None = None) -> None:
        self.dist = dist or DEFAULT_DIST

    def page(self) -> Response:
        index = self.dist / "index.html"
        if not index.is_file():
            return error_response(503, _NOT_BUILT)
        return FileResponse(index, media_type="text/html", headers=_PAGE_HEADERS)

    async def index(self, request: Request) -> Response:
        return self.page()

    async def asset(self, request: Request) -> Response:
        return self._file(self.dist / "assets", request.path_params["name"], _ASSET_HEADERS)

    async def favicon(self, request: Request) -> Response:
        return self._file(self.dist, "favicon.svg", _TOP_LEVEL_HEADERS)

    def _file(self, folder: Path, name: str, headers: dict[str, str]) -> Response:
        path = folder / name
        # The route's parameter holds no "/", so this only refuses dot names.
        if name.startswith(".") or not path.is_file():
            if not (self.dist / "index.html").is_file():
                return error_response(503, _NOT_BUILT)
            return error_response(404, f"No console asset named {name!r}")
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return FileResponse(path, media_type=media_type, headers=headers)

    def routes(self) -> list[Route]:
        return [
            Route("/", self.index, methods=["GET"]),
            Route("/assets/{name}", self.asset, methods=["GET"]),
            Route("/favicon.svg", self.favicon, methods=["GET"]),
        ]


def wants_page(request: Request) -> bool:
    """A browser navigating (it asks for HTML), not an API client or a script."""
    return request.method in ("GET", "HEAD") and "text/html" in request.headers.get("accept", "")
