"""Serve generated feeds on loopback from a separate process.

The bodies are built once, inside the server process, before it says it is ready, so the worker
processes never hold them and the measured cycle pays only for serving bytes already in memory.
Answers honour If-None-Match / If-Modified-Since (304) and Accept-Encoding: gzip for the feeds that
have a compressed copy.
"""

from __future__ import annotations

import http.server
import multiprocessing
from dataclasses import dataclass
from datetime import datetime

from bench.feedgen import Feed, build_feeds


@dataclass(frozen=True)
class FeedInfo:
    path: str
    size: int
    has_validators: bool


class _Handler(http.server.BaseHTTPRequestHandler):
    feeds: dict[str, Feed] = {}

    def do_GET(self):
        feed = self.feeds.get(self.path)
        if feed is None:
            self.send_error(404)
            return
        if self._not_modified(feed):
            self.send_response(304)
            self._validators(feed)
            self.end_headers()
            return
        body, encoding = feed.body, None
        if feed.gzipped is not None and "gzip" in self.headers.get("Accept-Encoding", ""):
            body, encoding = feed.gzipped, "gzip"
        self.send_response(200)
        self.send_header("Content-Type", feed.content_type)
        self.send_header("Content-Length", str(len(body)))
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self._validators(feed)
        self.end_headers()
        self.wfile.write(body)

    def _not_modified(self, feed: Feed) -> bool:
        if feed.etag and self.headers.get("If-None-Match"):
            return self.headers["If-None-Match"] == feed.etag
        return bool(feed.last_modified) and self.headers.get("If-Modified-Since") == feed.last_modified

    def _validators(self, feed: Feed) -> None:
        if feed.etag:
            self.send_header("ETag", feed.etag)
        if feed.last_modified:
            self.send_header("Last-Modified", feed.last_modified)

    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def _serve(sizes: list[int], seed: int, base: datetime, ready) -> None:
    feeds = build_feeds(sizes, seed, base)
    _Handler.feeds = {feed.path: feed for feed in feeds}
    server = _Server(("127.0.0.1", 0), _Handler)
    infos = [FeedInfo(f.path, len(f.body), bool(f.etag or f.last_modified)) for f in feeds]
    ready.send((server.server_port, infos))
    ready.close()
    server.serve_forever(poll_interval=0.1)


class FeedServer:
    """``with FeedServer(sizes, seed, base) as server:`` → ``server.url(info)`` for each ``server.feeds``."""

    def __init__(self, sizes: list[int], seed: int, base: datetime):
        self._arguments = (sizes, seed, base)
        self.port = 0
        self.feeds: list[FeedInfo] = []
        self._process: multiprocessing.Process | None = None

    def __enter__(self) -> FeedServer:
        context = multiprocessing.get_context("fork")
        receiving, sending = context.Pipe(duplex=False)
        self._process = context.Process(target=_serve, args=(*self._arguments, sending), daemon=True)
        self._process.start()
        sending.close()
        self.port, self.feeds = receiving.recv()
        receiving.close()
        return self

    def url(self, info: FeedInfo) -> str:
        return f"http://127.0.0.1:{self.port}{info.path}"

    def __exit__(self, *exc_info) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(5)
