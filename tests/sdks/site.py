"""A site using the JavaScript SDK, for tests in a browser: an empty page, and the built
SDK under /sdk/, served from its own origin (cross-origin to Eventide, so the server's
CORS settings are what let the SDK's requests through)."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DIST = Path(__file__).resolve().parents[2] / "sdks" / "js" / "dist"


class _AppPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/sdk/"):
            body = (DIST / Path(self.path).name).read_bytes()
            content_type = "text/javascript"
        else:
            body, content_type = b"<!doctype html><title>app</title>", "text/html"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def sdk_site(origin: str) -> Iterator[str]:
    """The site at ``origin`` (``http://localhost:<port>``) while the block runs."""
    port = int(origin.rsplit(":", 1)[1])
    site = http.server.ThreadingHTTPServer(("127.0.0.1", port), _AppPage)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield origin
    finally:
        site.shutdown()
        site.server_close()
        thread.join()
