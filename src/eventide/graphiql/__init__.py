"""The admin GraphiQL page at ``/graphiql``, with every asset served locally.

GraphiQL, React and ReactDOM come from the npm registry at install time (``npm ci``
into ``node_modules``, see ``package.json``); the page's own script and style are in
``static/``. Signing in happens in the page (the ``login`` mutation); the access token
stays in the tab's sessionStorage and travels only in the Authorization header.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from eventide.http.errors import error_response

STATIC = Path(__file__).parent / "static"
# src/eventide/graphiql -> the project root, where `npm ci` installs.
DEFAULT_NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"

# Public name -> (file, relative to node_modules or to STATIC, media type).
_VENDOR = {
    "graphiql.min.js": ("graphiql/graphiql.min.js", "text/javascript"),
    "graphiql.min.css": ("graphiql/graphiql.min.css", "text/css"),
    "react.production.min.js": ("react/umd/react.production.min.js", "text/javascript"),
    "react-dom.production.min.js": (
        "react-dom/umd/react-dom.production.min.js",
        "text/javascript",
    ),
}
_OWN = {
    "console.js": ("console.js", "text/javascript"),
    "console.css": ("console.css", "text/css"),
}
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def graphiql_routes(node_modules: Path | None = None) -> list[Route]:
    vendor_root = node_modules or DEFAULT_NODE_MODULES

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers=_PAGE_HEADERS)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name in _OWN:
            path, media_type = STATIC / _OWN[name][0], _OWN[name][1]
        elif name in _VENDOR:
            path, media_type = vendor_root / _VENDOR[name][0], _VENDOR[name][1]
        else:
            return error_response(404, f"No GraphiQL asset named {name!r}")
        if not path.is_file():
            return error_response(
                503, "GraphiQL assets are not installed: run `make install` (npm ci)."
            )
        return FileResponse(
            path,
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    return [
        Route("/graphiql", page, methods=["GET"]),
        Route("/graphiql/assets/{name}", asset, methods=["GET"]),
    ]
