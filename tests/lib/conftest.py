"""A real HTTP server on loopback whose answers each test writes as small handler functions."""

import http.server
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

LOOPBACK = ["127.0.0.0/8", "::1"]


@dataclass
class SeenRequest:
    path: str
    headers: dict[str, str]


@dataclass
class LoopbackServer:
    port: int
    routes: dict[str, Callable[[http.server.BaseHTTPRequestHandler], None]] = field(default_factory=dict)
    seen: list[SeenRequest] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


def send(handler, status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    headers = headers or {}
    for name, value in headers.items():
        handler.send_header(name, value)
    if "Content-Length" not in headers and "Transfer-Encoding" not in headers:
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture
def loopback_server():
    state: dict[str, LoopbackServer] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            server = state["server"]
            server.seen.append(SeenRequest(self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = server.routes.get(self.path.split("?")[0])
            if route is None:
                send(self, 404, b"not here")
            else:
                route(self)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state["server"] = LoopbackServer(port=httpd.server_port)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state["server"]
    state["server"].release.set()  # frees handlers that stall on purpose
    httpd.shutdown()
    httpd.server_close()
