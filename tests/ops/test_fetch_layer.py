"""The fetch layer alone against a real local server: politeness, robots.txt, retries and limits."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest

from saidwhat.demo.server import Route
from saidwhat.fetch import (
    BadUrl,
    BodyTooLarge,
    Fetcher,
    HostGate,
    HttpStatusError,
    RetryPolicy,
    RobotsDisallowed,
    TimedOut,
    TooManyRedirects,
    TruncatedBody,
    WrongContentType,
)
from saidwhat.fetch.errors import ConnectFailed
from saidwhat.fetch.robots import RobotsCache

from .publishers import FaultySite, Raw, article_html, flaky, page_route, slow

FAST = RetryPolicy(attempts=3, base_delay=0.05, max_delay=0.2, max_retry_after=3.0)


@dataclass(frozen=True)
class Settings:
    user_agent: str = "saidwhat-test/1.0"
    # Generous: a loaded CI machine must not turn a slow answer into a retry. Tests of
    # timeouts ask for a short one themselves.
    connect_timeout: float = 5.0
    read_timeout: float = 5.0
    max_body_bytes: int = 100_000
    max_redirects: int = 3
    per_host_concurrency: int = 2
    per_host_delay_seconds: float = 0.0
    respect_robots: bool = True


@pytest.fixture()
def site():
    with FaultySite({"/robots.txt": Route(b"User-agent: *\nDisallow: /private/\n", "text/plain")}).start() as s:
        yield s


def fetcher(**overrides) -> Fetcher:
    return Fetcher(Settings(**overrides), retry=FAST)


def test_retry_policy_retries_only_transient_errors():
    policy = RetryPolicy(attempts=3, base_delay=1.0, jitter=0.0, max_retry_after=60)
    assert policy.delay_before_retry(1, HttpStatusError("u", 503)) == 1.0
    assert policy.delay_before_retry(2, HttpStatusError("u", 500)) == 2.0
    assert policy.delay_before_retry(3, HttpStatusError("u", 500)) is None  # attempts used up
    assert policy.delay_before_retry(1, HttpStatusError("u", 404)) is None
    assert policy.delay_before_retry(1, HttpStatusError("u", 403)) is None
    assert policy.delay_before_retry(1, TimedOut("u", "slow")) == 1.0
    assert policy.delay_before_retry(1, ConnectFailed("u", "refused")) == 1.0
    assert policy.delay_before_retry(1, WrongContentType("u", "pdf")) is None
    assert 7.0 <= policy.delay_before_retry(1, HttpStatusError("u", 429, retry_after=7)) < 7.1
    assert policy.delay_before_retry(1, HttpStatusError("u", 429, retry_after=3600)) is None  # beyond the cap
    jittered = RetryPolicy(base_delay=1.0, jitter=0.5)
    delays = {jittered.delay_before_retry(1, TimedOut("u", "t")) for _ in range(20)}
    assert len(delays) > 1 and all(0.5 <= d <= 1.5 for d in delays)


def test_429_with_retry_after_is_waited_for(site):
    route = flaky([Route(b"slow down", status=429, headers=(("Retry-After", "1"),))], page_route("rail"))
    site.routes["/a/rail"] = route
    with fetcher() as f:
        response = f.get_page(site.url("/a/rail"))
    assert response.status == 200 and b"night trains" in response.body
    assert len(route.times) == 2 and route.times[1] - route.times[0] >= 0.95


def test_5xx_is_retried_then_reported_with_the_attempts(site):
    site.routes["/a/down"] = Route(b"oops", status=503)
    with fetcher() as f, pytest.raises(HttpStatusError) as caught:
        f.get_page(site.url("/a/down"))
    assert caught.value.status == 503 and caught.value.attempts == 3
    assert len(site.requests_to("/a/down")) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_other_4xx_are_not_retried(site, status):
    site.routes["/a/gone"] = Route(b"no", status=status)
    with fetcher() as f, pytest.raises(HttpStatusError):
        f.get_page(site.url("/a/gone"))
    assert len(site.requests_to("/a/gone")) == 1


def test_retry_after_beyond_the_cap_gives_up_at_once(site):
    site.routes["/a/later"] = Route(b"", status=503, headers=(("Retry-After", "3600"),))
    with fetcher() as f, pytest.raises(HttpStatusError) as caught:
        f.get_page(site.url("/a/later"))
    assert caught.value.retry_after == 3600 and len(site.requests_to("/a/later")) == 1


def test_a_slow_server_times_out(site):
    site.routes["/a/slow"] = slow(page_route("rail"), 1.5)
    started = time.monotonic()
    with fetcher(read_timeout=0.4) as f, pytest.raises(TimedOut):
        f.get_page(site.url("/a/slow"))
    assert time.monotonic() - started < 3.0  # 3 attempts of 0.4 s plus short backoffs


def test_a_truncated_body_is_an_error(site):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 50000\r\n\r\n"
    site.routes["/a/cut"] = Raw(head + article_html("rail")[:300])
    with fetcher() as f, pytest.raises(TruncatedBody):
        f.get_page(site.url("/a/cut"))


def test_redirect_loops_stop(site):
    site.routes["/loop"] = Route(b"", status=302, headers=(("Location", "/loop"),))
    with fetcher() as f, pytest.raises(TooManyRedirects):
        f.get_page(site.url("/loop"))
    assert len(site.requests_to("/loop")) == 4  # the first request and max_redirects=3 more


def test_wrong_content_types_are_refused(site):
    site.routes["/a/doc.pdf"] = Route(b"%PDF-1.4 binary", "application/pdf")
    site.routes["/feed.zip"] = Route(b"PK\x03\x04", "application/zip")
    with fetcher() as f:
        with pytest.raises(WrongContentType):
            f.get_page(site.url("/a/doc.pdf"))
        with pytest.raises(WrongContentType):
            f.get_feed(site.url("/feed.zip"))


def test_oversized_bodies_are_refused_with_or_without_a_length(site):
    big = b"<html><body>" + b"<p>word</p>" * 20_000 + b"</body></html>"
    site.routes["/a/declared"] = Route(big)
    site.routes["/a/undeclared"] = Raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n" + big)
    with fetcher() as f:
        with pytest.raises(BodyTooLarge, match="bytes exceeds"):
            f.get_page(site.url("/a/declared"))
        with pytest.raises(BodyTooLarge):
            f.get_page(site.url("/a/undeclared"))


def test_only_http_urls_are_fetched():
    with fetcher() as f:
        for url in ("urn:item:feed#1", "file:///etc/passwd", "ftp://example.org/x", "http://"):
            with pytest.raises(BadUrl):
                f.get_page(url)


def test_robots_txt_is_honoured_and_fetched_once_per_host(site):
    site.routes["/private/a"] = page_route("rail")
    site.routes["/public/a"] = page_route("rail")
    with fetcher() as f:
        threads = [threading.Thread(target=f.get_page, args=(site.url("/public/a"),)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with pytest.raises(RobotsDisallowed):
            f.get_page(site.url("/private/a"))
    assert len(site.requests_to("/robots.txt")) == 1
    assert site.requests_to("/private/a") == []


def test_robots_status_conventions(site):
    site.routes["/a/page"] = page_route("rail")
    site.routes["/robots.txt"] = Route(b"", status=404)
    with fetcher() as f:
        assert f.get_page(site.url("/a/page")).status == 200  # 4xx: everything allowed
    site.routes["/robots.txt"] = Route(b"", status=503)
    with fetcher() as f, pytest.raises(RobotsDisallowed, match="503"):
        f.get_page(site.url("/a/page"))  # 5xx: the site is off limits for this run

    def unreachable(url: str):
        raise ConnectFailed(url, "refused")

    assert RobotsCache(unreachable).rules_for("http://example.org/x").allows("ua", "http://example.org/x")


def test_robots_can_be_ignored_when_configured(site):
    site.routes["/private/a"] = page_route("rail")
    with fetcher(respect_robots=False) as f:
        assert f.get_page(site.url("/private/a")).status == 200
    assert site.requests_to("/robots.txt") == []


def test_crawl_delay_spaces_requests_to_the_host(site):
    site.routes["/robots.txt"] = Route(b"User-agent: *\nCrawl-delay: 0.5\n", "text/plain")
    site.routes["/a/page"] = route = flaky([], page_route("rail"))
    with fetcher() as f:
        for _ in range(3):
            f.get_page(site.url("/a/page"))
        assert f.gate.delay_of(site.url("/")) == pytest.approx(0.5)
    gaps = [b - a for a, b in zip(route.times, route.times[1:], strict=False)]
    # Starts are spaced by the client; arrival at the server jitters by a few scheduler ticks.
    assert len(gaps) == 2 and min(gaps) >= 0.4 and sum(gaps) >= 0.9


def test_per_host_concurrency_limit_holds_under_threads(site):
    in_flight = {"now": 0, "max": 0}
    lock = threading.Lock()

    def counting(handler):
        with lock:
            in_flight["now"] += 1
            in_flight["max"] = max(in_flight["max"], in_flight["now"])
        time.sleep(0.15)
        with lock:
            in_flight["now"] -= 1
        return page_route("rail")

    site.routes["/a/page"] = counting
    with fetcher(per_host_concurrency=2, respect_robots=False) as f:
        threads = [threading.Thread(target=f.get_page, args=(site.url("/a/page"),)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert in_flight["max"] == 2


def test_host_gate_minimum_delay_without_sleeping_for_real():
    clock = {"t": 100.0}
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock["t"] += seconds

    gate = HostGate(concurrency=1, min_delay=2.0, clock=lambda: clock["t"], sleep=sleep)
    for _ in range(3):
        with gate.slot("http://a.example/x"):
            pass
    with gate.slot("http://b.example/x"):  # another host does not wait
        pass
    assert slept == [2.0, 2.0]
    gate.defer("http://a.example/", 30)
    with gate.slot("http://a.example/y"):
        pass
    assert slept[-1] == pytest.approx(30.0)


def test_declared_charset_decodes_the_page(site):
    latin = "<html><body><p>Gr\u00fc\u00dfe aus K\u00f6ln, caf\u00e9 cr\u00e8me</p></body></html>".encode("latin-1")
    site.routes["/a/latin"] = Route(latin, "text/html; charset=ISO-8859-1")
    site.routes["/a/lying"] = Route(latin, "text/html; charset=utf-8")
    site.routes["/a/unknown"] = Route(latin, "text/html; charset=x-no-such-charset")
    with fetcher(respect_robots=False) as f:
        assert "K\u00f6ln" in f.get_page(site.url("/a/latin")).text_or_bytes()
        # A wrong declaration leaves the bytes for the extractor's own detection.
        assert isinstance(f.get_page(site.url("/a/lying")).text_or_bytes(), bytes)
        assert isinstance(f.get_page(site.url("/a/unknown")).text_or_bytes(), bytes)


def test_every_redirect_hop_is_checked_against_robots_and_schemes(site):
    site.routes["/a/moved"] = Route(b"", status=301, headers=(("Location", "/private/secret"),))
    site.routes["/private/secret"] = page_route("rail")
    site.routes["/a/to-file"] = Route(b"", status=302, headers=(("Location", "file:///etc/passwd"),))
    site.routes["/a/no-location"] = Route(b"", status=302)
    site.routes["/a/hop1"] = Route(b"", status=307, headers=(("Location", "hop2"),))  # relative
    site.routes["/a/hop2"] = page_route("rail")
    with fetcher() as f:
        with pytest.raises(RobotsDisallowed):
            f.get_page(site.url("/a/moved"))
        with pytest.raises(BadUrl):
            f.get_page(site.url("/a/to-file"))
        with pytest.raises(HttpStatusError, match="302"):
            f.get_page(site.url("/a/no-location"))
        response = f.get_page(site.url("/a/hop1"))
    assert response.final_url == site.url("/a/hop2") and response.url == site.url("/a/hop1")
    assert site.requests_to("/private/secret") == []


def test_pages_download_in_threads_and_come_back_as_they_complete(site):
    from saidwhat.core.records import FeedItem, FeedSpec
    from saidwhat.fetch import download_pages

    site.routes["/slow"] = slow(page_route("harbour"), 0.6)
    site.routes["/quick"] = page_route("harbour")
    spec = FeedSpec("Test", f"{site.base_url}/feed.xml", "Test")

    def item(guid: str, path: str | None) -> tuple[FeedItem, FeedSpec]:
        link = f"{site.base_url}{path}" if path else None
        return FeedItem(spec.url, guid, link, title=None, summary=None, published_at=None), spec

    items = [item("a", "/slow"), item("b", "/quick"), item("c", None), item("d", "/missing")]
    downloads = list(download_pages(items, fetcher(per_host_concurrency=4, read_timeout=3.0), threads=4))
    assert downloads[0].index != 0  # the slow page did not hold up the others
    by_index = {d.index: d for d in downloads}
    assert sorted(by_index) == [0, 1, 2, 3]
    assert by_index[0].response is not None and by_index[1].response is not None
    assert (by_index[2].error.stage, by_index[2].error.error_class) == ("page", "NoLink")
    assert (by_index[3].error.stage, by_index[3].error.error_class) == ("page", "HttpStatusError")

    def refuse(url: str) -> str:
        raise ValueError(f"cannot resolve {url}")

    [unresolved] = download_pages([item("e", "/quick")], fetcher(), threads=1, resolve=refuse)
    assert unresolved.response is None and unresolved.error.stage == "resolve"
    assert unresolved.error.message == f"cannot resolve {site.base_url}/quick"


def test_retried_statuses_and_attempts_follow_the_fetch_settings(site):
    from saidwhat.config import FetchSettings

    site.routes["/500"] = Route(b"oops", status=500)
    site.routes["/503"] = Route(b"busy", status=503)
    settings = FetchSettings(
        per_host_delay_seconds=0.0, attempts=4, backoff_base_seconds=0.01, backoff_cap_seconds=0.02,
        retry_statuses=(503,),
    )  # fmt: skip
    with Fetcher(settings) as f:
        for path in ("/500", "/503"):
            with pytest.raises(HttpStatusError):
                f.get_page(site.url(path))
    assert len(site.requests_to("/500")) == 1  # not in retry_statuses: given up at once
    assert len(site.requests_to("/503")) == 4  # attempts = 4
