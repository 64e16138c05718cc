"""A real HTTP server on 127.0.0.1, serving from a thread, for the tests of HTTP clients (the
standard library's http.server: a socket and a request line, not a mock)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that keeps the tests' output clean of its per-request log lines."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LocalServer:
    """Serves `handler` on 127.0.0.1 (`port`, else a free one) from the moment it is made until
    stop(); `url` is its root."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
