"""Curation test helpers: a real HTTP server on loopback that serves what each test says, and a
source factory. Fetches go through lib.safe_fetch for real; only loopback is allowed."""

import http.server
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from curation.services import source_create

LOOPBACK = ["127.0.0.0/8"]


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FeedServer:
    port: int
    # path -> Answer, or a function of the request headers returning one
    routes: dict[str, Answer | Callable[[dict[str, str]], Answer]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def serve(self, path: str, body: bytes = b"", status: int = 200, **headers: str) -> str:
        self.routes[path] = Answer(
            status=status, body=body, headers={k.replace("_", "-"): v for k, v in headers.items()}
        )
        return self.url(path)

    def hits(self, path: str) -> list[dict[str, str]]:
        return [headers for seen, headers in self.requests if seen == path]


@pytest.fixture
def feed_server():
    state: dict[str, FeedServer] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            server = state["server"]
            headers = {name.lower(): value for name, value in self.headers.items()}
            server.requests.append((self.path, headers))
            route = server.routes.get(self.path)
            answer = route(headers) if callable(route) else route
            if answer is None:
                answer = Answer(404, b"not found")
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state["server"] = FeedServer(port=httpd.server_port)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state["server"]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def allow_loopback(settings):
    settings.SOCIALDESK_FETCH_ALLOW_PRIVATE = LOOPBACK
    settings.SOCIALDESK_FETCH_TIMEOUT_SECONDS = 5


@pytest.fixture
def make_source(db):
    counter = iter(range(1, 10_000))

    def make(url: str = "", **fields):
        number = next(counter)
        fields.setdefault("name", f"Source {number}")
        return source_create(url=url or f"https://feeds{number}.example.org/rss", **fields)

    return make


def rss(*items: str, channel_extra: str = "") -> bytes:
    """An RSS 2.0 document around ``items`` (each an <item> element's inner XML)."""
    body = "".join(f"<item>{item}</item>" for item in items)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Test feed</title>'
        f"<link>https://example.org/</link>{channel_extra}{body}</channel></rss>"
    ).encode()


def rss_item(guid: str, title: str, link: str = "", description: str = "", date: str = "") -> str:
    parts = [f"<guid>{guid}</guid>", f"<title>{title}</title>"]
    if link:
        parts.append(f"<link>{link}</link>")
    if description:
        parts.append(f"<description><![CDATA[{description}]]></description>")
    if date:
        parts.append(f"<pubDate>{date}</pubDate>")
    return "".join(parts)


@pytest.fixture(autouse=True)
def topics_checked_every_time(monkeypatch):
    """Each test sees its own topics at once, instead of after the scorer's few-second re-check."""
    monkeypatch.setattr("curation.scoring.RECHECK_SECONDS", 0.0)
