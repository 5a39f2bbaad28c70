"""A loopback HTTP stand-in for the servers' health and API endpoints."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Stub:
    """Answers ``routes[(method, path)] = (status, body)`` (path without the query string);
    404 otherwise. Every request is recorded as (method, full path, decoded JSON body)."""

    port: int = 0
    routes: dict[tuple[str, str], tuple[int, bytes]] = field(default_factory=dict)
    received: list[tuple[str, str, object]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def json(self, method: str, path: str, status: int, body: object) -> None:
        self.routes[(method, path)] = (status, json.dumps(body).encode())


@pytest.fixture
def stub():
    state = Stub()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            state.received.append((self.command, self.path, json.loads(raw) if raw else None))
            status, body = state.routes.get(
                (self.command, self.path.split("?", 1)[0]), (404, b"not found")
            )
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self._answer()

        def do_POST(self):
            self._answer()

        def do_PUT(self):
            self._answer()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
