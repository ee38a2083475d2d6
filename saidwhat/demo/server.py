"""A real HTTP server on 127.0.0.1 that serves a fixed set of routes.

It plays the publishers for `saidwhat demo` and for the tests: feeds and
pages come over real sockets, with ETag / If-None-Match support and a log of
every request so tests can count what the pipeline asked for.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from saidwhat.core.errors import SaidwhatError

BASE_URL_PLACEHOLDER = "{{BASE_URL}}"

_TYPES = {
    ".xml": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class Route:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()


# A handler may compute its answer per request (fault injection in tests).
Dynamic = Callable[[BaseHTTPRequestHandler], Route]


@dataclass
class RequestLog:
    entries: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, headers: dict[str, str]) -> None:
        with self.lock:
            self.entries.append((method, path, headers))

    def paths(self) -> list[str]:
        with self.lock:
            return [path for _, path, _ in self.entries]

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


class LocalSite:
    """Routes by path (query strings are ignored when no exact match exists)."""

    def __init__(self, routes: dict[str, Route | Dynamic] | None = None) -> None:
        self.routes: dict[str, Route | Dynamic] = dict(routes or {})
        self.log = RequestLog()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("server not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self, port: int = 0) -> LocalSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                site.log.add("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
                site._answer(self)

            def do_POST(self) -> None:
                # The body is read first (a dynamic route finds it in ``posted``), so keep-alive stays in step.
                length = int(self.headers.get("Content-Length") or 0)
                self.posted = self.rfile.read(length) if length else b""
                site.log.add("POST", self.path, {k.lower(): v for k, v in self.headers.items()})
                site._answer(self)

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: tests and the demo read site.log instead

        self._server = _QuietServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-site", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LocalSite:
        return self if self._server else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        route = self.routes.get(path) or self.routes.get(urlsplit(path).path)
        if route is None:
            route = Route(b"<html><body><h1>404 Not Found</h1></body></html>", status=404)
        elif callable(route):
            route = route(handler)
        body = route.body.replace(BASE_URL_PLACEHOLDER.encode(), self.base_url.encode())
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        try:
            if route.status == 200 and handler.headers.get("If-None-Match") == etag:
                handler.send_response(304)
                handler.send_header("ETag", etag)
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            handler.send_response(route.status)
            handler.send_header("Content-Type", route.content_type)
            handler.send_header("Content-Length", str(len(body)))
            if route.status == 200:
                handler.send_header("ETag", etag)
            for name, value in route.headers:
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to do


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up early (a timeout, a size limit) is expected here.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def corpus_root() -> Path:
    return Path(str(resources.files("saidwhat.demo").joinpath("corpus")))


def corpus_routes(root: Path | None = None) -> dict[str, Route | Dynamic]:
    """Routes for the sample corpus, from its routes.json."""
    root = root or corpus_root()
    mapping = json.loads((root / "routes.json").read_text(encoding="utf-8"))
    routes: dict[str, Route | Dynamic] = {}
    for path, file in mapping.items():
        file_path = root / file
        content_type = _TYPES.get(file_path.suffix, "application/octet-stream")
        if file_path.name == "robots.txt":
            content_type = "text/plain; charset=utf-8"
        routes[path] = Route(file_path.read_bytes(), content_type)
    return routes


# The demo's URLs are its articles' identities, so the demo uses one fixed
# port: run twice, it finds the same stories at the same addresses.
DEMO_PORT = 8765


@contextmanager
def serve_corpus(root: Path | None = None, port: int = DEMO_PORT) -> Iterator[LocalSite]:
    site = LocalSite(corpus_routes(root))
    try:
        site.start(port)
    except OSError as exc:
        raise SaidwhatError(f"cannot serve the demo on 127.0.0.1:{port} ({exc.strerror}): pass --port N") from None
    with site:
        yield site
