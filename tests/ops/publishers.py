"""Test publishers for the ops suite: a LocalSite that can also misbehave at the socket level,
a few small article pages written for these tests, and feed/config builders."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from saidwhat.demo.server import LocalSite, Route


@dataclass(frozen=True, slots=True)
class Raw:
    """Bytes written to the socket as they are, then the connection is closed (truncation, no length)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Trickle:
    """Headers at once, then ``chunk`` every ``interval`` seconds for ``seconds``: never idle long enough
    for a per-read timeout, and far longer than any total deadline."""

    chunk: bytes = b"<p>more</p>"
    interval: float = 0.5
    seconds: float = 600.0
    content_type: str = "text/html; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Silent:
    """The connection is accepted and the request read, then nothing is ever sent (for ``seconds``)."""

    seconds: float = 600.0


class FaultySite(LocalSite):
    """LocalSite plus raw socket answers; everything else is LocalSite's own routing and log."""

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        route = self.routes.get(handler.path) or self.routes.get(urlsplit(handler.path).path)
        if isinstance(route, Trickle | Silent):
            self._stall(handler, route)
            return
        if isinstance(route, Raw):
            handler.close_connection = True
            try:
                handler.wfile.write(route.data)
                handler.wfile.flush()
            except OSError:
                pass
            return
        super()._answer(handler)

    def _stall(self, handler: BaseHTTPRequestHandler, route: Trickle | Silent) -> None:
        handler.close_connection = True
        ends = time.monotonic() + route.seconds
        try:
            if isinstance(route, Trickle):
                handler.send_response(200)
                handler.send_header("Content-Type", route.content_type)
                handler.send_header("Content-Length", str(200_000))  # more to come than is ever sent
                handler.end_headers()
                handler.wfile.flush()
            while time.monotonic() < ends and self._server is not None:
                time.sleep(route.interval if isinstance(route, Trickle) else 0.2)
                if isinstance(route, Trickle):
                    handler.wfile.write(route.chunk)
                    handler.wfile.flush()
        except OSError:
            pass  # the client gave up, as it should

    def requests_to(self, path: str) -> list[dict[str, str]]:
        with self.log.lock:
            return [headers for _, p, headers in self.log.entries if urlsplit(p).path == path]


def slow(route: Route, seconds: float) -> Callable[[BaseHTTPRequestHandler], Route]:
    def answer(handler: BaseHTTPRequestHandler) -> Route:
        time.sleep(seconds)
        return route

    return answer


def flaky(failures: Sequence[Route], then: Route) -> Callable[[BaseHTTPRequestHandler], Route]:
    """Answers ``failures`` in order, then ``then`` for ever; ``.times`` has each request's time."""
    lock = threading.Lock()
    times: list[float] = []

    def answer(handler: BaseHTTPRequestHandler) -> Route:
        with lock:
            times.append(time.monotonic())
            n = len(times)
        return failures[n - 1] if n <= len(failures) else then

    answer.times = times  # type: ignore[attr-defined]
    return answer


def last_modified_feed(body: bytes, modified: datetime) -> Callable[[BaseHTTPRequestHandler], Route]:
    """A feed validated by Last-Modified / If-Modified-Since only (no ETag match possible)."""
    stamp = format_datetime(modified.astimezone(UTC), usegmt=True)

    def answer(handler: BaseHTTPRequestHandler) -> Route:
        since = handler.headers.get("If-Modified-Since")
        if since:
            try:
                if parsedate_to_datetime(since) >= modified.replace(microsecond=0):
                    return Route(b"", status=304, headers=(("Last-Modified", stamp),))
            except (TypeError, ValueError):
                pass
        # A fresh ETag per answer: only Last-Modified can make this feed conditional.
        return Route(body + f"<!-- {time.monotonic_ns()} -->".encode(), "application/rss+xml",
                     headers=(("Last-Modified", stamp),))  # fmt: skip

    return answer


# Pages written for these tests: short, realistic, each well over extract.html.MIN_WORDS.
ARTICLES = {
    "harbour": (
        "City council approves harbour flood barrier",
        [
            "The city council voted on Tuesday to fund a flood barrier across the old harbour mouth, "
            "ending two years of argument over the cost and the route of the wall.",
            '"We cannot keep sandbagging the market square every winter," said council leader Maria Costa, '
            "who proposed the plan after the storms of last February flooded more than two hundred homes.",
            "Opponents said the barrier would harm the fishing fleet. Harbour master Tom Reilly told reporters "
            "that boats would need a new channel before construction starts next spring, and that the council "
            "had not yet explained who would pay for the dredging work.",
        ],
    ),
    "rail": (
        "Regional rail operator to restore night trains",
        [
            "The regional rail operator will restore night trains between the capital and the coast from June, "
            "its chief executive announced at a press conference on Monday morning.",
            '"Passengers told us clearly that they want to travel overnight again," said chief executive '
            "Helen Brandt, adding that the first sleeper carriages had already been refurbished.",
            "Unions welcomed the decision but warned that staffing remained tight. A spokesman for the drivers' "
            "union said the company would have to hire at least forty new drivers to run the service reliably "
            "through the winter months.",
        ],
    ),
    "library": (
        "Library extends opening hours after student campaign",
        [
            "The central library will stay open until midnight during the examination period, the university "
            "said on Friday, after a campaign by students who collected more than three thousand signatures.",
            '"Quiet space to study is not a luxury," said student union president Amir Haddad, who led the '
            "campaign. The university said the longer hours would cost about ninety thousand euros a year.",
            "Library staff will be offered overtime pay, and security guards will patrol the reading rooms "
            "after ten in the evening, according to a statement published on the university website.",
        ],
    ),
    "orchard": (
        "Late frost cuts apple harvest forecast",
        [
            "Growers in the valley expect the smallest apple harvest in a decade after a late frost damaged "
            "blossom across hundreds of orchards in the last week of April.",
            '"Some of our members have lost two thirds of their crop," said Jonas Weber, chairman of the '
            "growers' cooperative, who asked the regional government for emergency support.",
            "The agriculture ministry said it was assessing the damage and would decide on compensation "
            "before the summer. Juice producers warned that prices in shops were likely to rise by autumn "
            "as they bought more fruit from abroad.",
        ],
    ),
    "bridge": (
        "Old bridge closed to lorries after inspection",
        [
            "The old stone bridge over the river was closed to lorries on Wednesday after engineers found "
            "cracks in two of its arches during a routine inspection carried out last week.",
            '"Cars and buses can still cross safely, but heavy goods vehicles must take the bypass," said '
            "the county's chief engineer, Priya Nair, who expects repairs to take at least six months.",
            "Shop owners in the town centre said they feared deliveries would be delayed, while residents "
            "living near the bypass complained about the extra traffic passing their homes at night.",
        ],
    ),
}


def article_html(slug: str, charset: str = "utf-8") -> bytes:
    title, paragraphs = ARTICLES[slug]
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    html = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="{charset}"><title>{escape(title)}</title></head>'
        f"<body><header><nav><a href='/'>Home</a></nav></header><article><h1>{escape(title)}</h1>"
        f"<p class='byline'>By Staff Reporter</p>{body}</article><footer>All rights reserved.</footer></body></html>"
    )
    return html.encode(charset)


@dataclass(frozen=True, slots=True)
class Item:
    guid: str | None
    link: str | None
    title: str | None = "A story"
    summary: str | None = "A short summary of the story for readers of the feed."
    published: str | None = "Mon, 03 Nov 2025 10:00:00 GMT"


def rss(items: Sequence[Item], title: str = "Test feed") -> bytes:
    parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{escape(title)}</title>'
             "<link>http://127.0.0.1/</link><description>test</description>"]  # fmt: skip
    for item in items:
        parts.append("<item>")
        if item.title is not None:
            parts.append(f"<title>{escape(item.title)}</title>")
        if item.link is not None:
            parts.append(f"<link>{escape(item.link)}</link>")
        if item.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        if item.summary is not None:
            parts.append(f"<description>{escape(item.summary)}</description>")
        if item.published is not None:
            parts.append(f"<pubDate>{escape(item.published)}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def feed_route(items: Sequence[Item], title: str = "Test feed") -> Route:
    return Route(rss(items, title), "application/rss+xml; charset=utf-8")


def page_route(slug: str) -> Route:
    return Route(article_html(slug), "text/html; charset=utf-8")


def write_config(tmp_path: Path, feeds: Sequence[tuple[str, str]] = (), **fetch: object) -> Path:
    """A config.toml for tests: tiny timeouts and delays, storage under tmp_path."""
    settings = {
        "connect_timeout": 1.0,
        "read_timeout": 1.0,  # well under the slow routes (2 s), well over a loaded machine's pause
        "max_body_bytes": 300_000,
        "max_redirects": 3,
        "per_host_concurrency": 4,
        "per_host_delay_seconds": 0.0,
        "respect_robots": True,
        "page_attempts": 3,
        "unhealthy_after_failures": 3,
        "resolve_google_news": False,
        **fetch,
    }
    lines = [
        "[storage]",
        f'path = "{tmp_path / "ops.duckdb"}"',
        f'spool_dir = "{tmp_path / "spool"}"',
        "lock_patience_seconds = 5",
        "[fetch]",
    ]
    for key, value in settings.items():
        lines.append(f"{key} = {str(value).lower() if isinstance(value, bool) else repr(value)}")
    lines += ["[nlp]", "batch_size = 16"]
    for name, url in feeds:
        lines += ["[[feeds]]", f'name = "{name}"', f'url = "{url}"', 'publisher = "Test Publisher"']
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def in_days(days: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(days=days), usegmt=True)
