"""A real JSON web server on loopback for the model backend tests: the standard library's
threading HTTP server in a daemon thread, answering routes given as plain functions and
recording every request it receives."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """What a route answers: a status and either JSON (``body``) or raw bytes (``raw``)."""

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    delay: float = 0.0


@dataclass
class Received:
    method: str
    path: str
    body: Any
    headers: dict[str, str]


Route = Callable[[Any], Reply | Any]


@dataclass
class JsonServer:
    url: str
    routes: dict[tuple[str, str], Route]
    received: list[Received] = field(default_factory=list)

    def bodies(self, path: str) -> list[Any]:
        return [r.body for r in self.received if r.path == path]


@contextmanager
def json_server(routes: dict[tuple[str, str], Route]) -> Iterator[JsonServer]:
    """Serve ``routes`` ({("POST", "/predict"): function of the parsed body}) on a free loopback
    port. A route returns a :class:`Reply` or any JSON value (sent with status 200)."""
    state = JsonServer("", dict(routes))

    class Handler(BaseHTTPRequestHandler):
        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            path = self.path.split("?", 1)[0]
            # recorded as sent: a route may change the body it is given
            recorded = json.loads(raw) if raw else None
            state.received.append(Received(method, path, recorded, dict(self.headers.items())))
            route = state.routes.get((method, path))
            reply = Reply(404, {"error": f"no route {method} {path}"}) if route is None else None
            if route is not None:
                try:
                    answer = route(body)
                except Exception as exc:  # as web frameworks do: the error becomes an HTTP 500
                    answer = Reply(500, {"status": "error", "error": repr(exc)})
                reply = answer if isinstance(answer, Reply) else Reply(200, answer)
            assert reply is not None
            if reply.delay:
                time.sleep(reply.delay)
            payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout tests)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def closed_port_url() -> str:
    """The address of a loopback port nothing listens on (a server started and stopped)."""
    with json_server({}) as server:
        url = server.url
    return url
