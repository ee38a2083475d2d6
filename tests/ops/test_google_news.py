"""Google News decoding goes through the project's Fetcher: robots.txt, the deadline, the retry policy.

A local server plays news.google.com: the article page with its decoding
signature, and the batchexecute endpoint answering the publisher's URL.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, unquote

import pytest

from saidwhat.config import FetchSettings
from saidwhat.demo.server import Route
from saidwhat.feeds.googlenews import NotDecoded, decode_google_news_link
from saidwhat.fetch import Fetcher, HttpStatusError, RobotsDisallowed, TimedOut

from .publishers import FaultySite, Trickle, flaky

ARTICLE_ID = "CBMiTGh0dHBzOi8vZXhhbXBsZS5jb20vd29ybGQvc3Rvcnk"
LINK = f"https://news.google.com/rss/articles/{ARTICLE_ID}?oc=5&hl=en-US&gl=US&ceid=US:en"
PUBLISHER_URL = "https://www.example.com/world/story-2026"
PAGE = (
    b'<html><body><c-wiz><div jscontroller="aLI87" data-n-a-sg="AZ5r3eSIGNATURE" data-n-a-ts="1764547200">'
    b"</div></c-wiz></body></html>"
)


def batchexecute(handler) -> Route:
    """Google's answer, for the request that asked for our article with its signature."""
    form = parse_qs(handler.posted.decode())
    request = json.loads(unquote(form["f.req"][0]) if "%" in form["f.req"][0] else form["f.req"][0])
    inner = json.loads(request[0][0][1])
    assert inner[2:5] == [ARTICLE_ID, 1764547200, "AZ5r3eSIGNATURE"], inner
    row = ["wrb.fr", "Fbv4je", json.dumps(["garturlres", PUBLISHER_URL, 1]), None, None, None, "0"]
    return Route((")]}'\n\n" + json.dumps([row])).encode(), "application/json; charset=utf-8")


def google(robots: bytes = b"User-agent: *\nAllow: /\n", **routes) -> FaultySite:
    return FaultySite(
        {
            "/robots.txt": Route(robots, "text/plain"),
            f"/rss/articles/{ARTICLE_ID}": Route(PAGE),
            "/_/DotsSplashUi/data/batchexecute": batchexecute,
            **routes,
        }
    )


def settings(**overrides) -> FetchSettings:
    base = {"per_host_delay_seconds": 0.0, "backoff_base_seconds": 0.01, "backoff_cap_seconds": 0.02}
    return FetchSettings(**{**base, **overrides})


def test_a_link_is_decoded_with_two_requests_of_our_client():
    with google().start() as site, Fetcher(settings()) as fetcher:
        assert decode_google_news_link(LINK, fetcher, base_url=site.base_url) == PUBLISHER_URL
        methods = [(method, path.split("?")[0]) for method, path, _ in site.log.entries]
        agents = {headers.get("user-agent") for _, _, headers in site.log.entries}
    assert methods == [
        ("GET", "/robots.txt"),
        ("GET", f"/rss/articles/{ARTICLE_ID}"),
        ("POST", "/_/DotsSplashUi/data/batchexecute"),
    ]
    assert agents == {FetchSettings().user_agent}  # our User-Agent, not the decoder's client


def test_robots_txt_forbidding_the_endpoint_is_respected():
    with google(robots=b"User-agent: *\nDisallow: /_/\n").start() as site, Fetcher(settings()) as fetcher:
        with pytest.raises(RobotsDisallowed):
            decode_google_news_link(LINK, fetcher, base_url=site.base_url)
        assert not any(method == "POST" for method, _, _ in site.log.entries)


def test_a_busy_endpoint_is_retried_by_the_policy():
    answer = flaky([Route(b"busy", status=503)], Route(b"unused"))

    def busy_then_answer(handler) -> Route:
        first = answer(handler)
        return first if first.status == 503 else batchexecute(handler)

    with google(**{"/_/DotsSplashUi/data/batchexecute": busy_then_answer}).start() as site:
        with Fetcher(settings()) as fetcher:
            assert decode_google_news_link(LINK, fetcher, base_url=site.base_url) == PUBLISHER_URL
        with Fetcher(settings(attempts=1)) as fetcher, pytest.raises(HttpStatusError):
            site.routes["/_/DotsSplashUi/data/batchexecute"] = Route(b"busy", status=503)
            decode_google_news_link(LINK, fetcher, base_url=site.base_url)


def test_a_trickling_google_is_cut_at_the_deadline():
    trickling = google(**{f"/rss/articles/{ARTICLE_ID}": Trickle()})
    with trickling.start() as site, Fetcher(settings(total_timeout_seconds=1.0, read_timeout=0.8, attempts=1)) as f:
        started = time.monotonic()
        with pytest.raises(TimedOut):
            decode_google_news_link(LINK, f, base_url=site.base_url)
        assert time.monotonic() - started < 1.0 + 2.0  # it trickles for minutes; slack for a loaded machine


def test_a_page_without_a_signature_is_not_decoded():
    sorry = google(**{f"/rss/articles/{ARTICLE_ID}": Route(b"<html><body>sorry</body></html>")})
    with sorry.start() as site, Fetcher(settings()) as f, pytest.raises(NotDecoded, match="no decoding signature"):
        decode_google_news_link(LINK, f, base_url=site.base_url)
