"""A stand-in for the portals a harvest reads: a real HTTP server on 127.0.0.1 serving real fixtures.

Routes are functions ``(request) -> Reply``; :class:`Reply` can also misbehave the ways real servers do:
answer slowly, fail, cut the body short, stream an endless body, redirect. The machine the tests run on
has no internet, so every harvest test reads from one of these.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    number: int  # how many requests this route has had, this one included


@dataclass
class Reply:
    body: bytes | Iterable[bytes] = b""
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the headers
    length: int | None = None  # a Content-Length to declare (e.g. more than is sent: a truncated body)
    gzip: bool = False

    @classmethod
    def json(cls, data, **kwargs) -> Reply:
        return cls(json.dumps(data).encode(), **kwargs)


Route = Callable[[Request], Reply]


class PortalServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: dict[str, int] = {}
        self.log: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                route = server.routes.get(parts.path)
                server.log.append(self.path)
                if route is None:
                    self._send(Reply(b"not found", 404, "text/plain"))
                    return
                server.hits[parts.path] = server.hits.get(parts.path, 0) + 1
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                request = Request(parts.path, query, dict(self.headers), server.hits[parts.path])
                self._send(route(request))

            def _send(self, reply: Reply) -> None:
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body
                if reply.gzip and isinstance(body, bytes):
                    body = gzip.compress(body)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                if reply.gzip:
                    self.send_header("Content-Encoding", "gzip")
                if isinstance(body, bytes):
                    self.send_header("Content-Length", str(reply.length if reply.length is not None else len(body)))
                    self.end_headers()
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self.wfile.write(body)
                    if reply.length is not None and reply.length > len(body):
                        self.close_connection = True
                    return
                if reply.length is not None:
                    self.send_header("Content-Length", str(reply.length))
                else:
                    self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for chunk in body:
                        if reply.length is not None:
                            self.wfile.write(chunk)
                        else:
                            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    if reply.length is None:
                        self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> PortalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def route(self, path: str, route: Route | Reply | bytes) -> str:
        """Serve ``path``; returns its absolute URL."""
        if isinstance(route, bytes):
            reply = Reply(route)
            self.routes[path] = lambda _request: reply
        elif isinstance(route, Reply):
            self.routes[path] = lambda _request, reply=route: reply
        else:
            self.routes[path] = route
        return self.url + path

    def file(self, path: str, source: Path, content_type: str = "application/json") -> str:
        return self.route(path, Reply(source.read_bytes(), content_type=content_type))


def endless(chunk: int = 1 << 20, total: int | None = None) -> Iterator[bytes]:
    """A body streamed from a generator (``total`` bytes, or forever): never held in memory."""
    block = b"[" + b" " * (chunk - 1)
    sent = 0
    while total is None or sent < total:
        yield block
        sent += len(block)
        block = b" " * chunk


def ckan_search(packages: list[dict], page_size_limit: int = 1000) -> Route:
    """A CKAN ``package_search`` over a fixed list of packages, honouring ``rows`` and ``start``."""

    def route(request: Request) -> Reply:
        rows = min(int(request.query.get("rows", 10)), page_size_limit)
        start = int(request.query.get("start", 0))
        result = {"count": len(packages), "sort": request.query.get("sort"), "results": packages[start : start + rows]}
        return Reply.json({"help": "package_search", "success": True, "result": result})

    return route
