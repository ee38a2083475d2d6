"""Deadlines through `saidwhat run`: servers that trickle or never answer cost a bounded time.

httpx's timeouts are per read; a server sending a few bytes every half second
never trips them. The total deadline per exchange ([fetch] total_timeout_seconds)
and the per-run skip of a host that keeps timing out bound the whole run by
about total_timeout_seconds x attempts per phase (feeds, then pages), as the
README states, however many pages trickle.
"""

from __future__ import annotations

import time

import pytest

from saidwhat.config import FetchSettings
from saidwhat.fetch import Fetcher, TimedOut

from .conftest import query
from .publishers import ARTICLES, FaultySite, Item, Silent, Trickle, feed_route, page_route, write_config

TOTAL = 2.0  # total_timeout_seconds in these tests
ATTEMPTS = 3
GOOD = ("harbour", "rail", "library")
SLOW = ("/slow/trickle-1", "/slow/trickle-2", "/slow/silent")


def run_bound(phases: int = 2) -> float:
    """The README's bound: about total_timeout_seconds x attempts (plus the backoff between) per phase."""
    return phases * (TOTAL * ATTEMPTS + (ATTEMPTS - 1) * 0.2)


def test_trickling_and_silent_pages_cost_a_bounded_time_and_good_pages_are_stored_once(cli, site, tmp_path):
    site.routes.update({f"/a/{slug}": page_route(slug) for slug in GOOD})
    site.routes.update({"/slow/trickle-1": Trickle(), "/slow/trickle-2": Trickle(), "/slow/silent": Silent()})
    items = [Item(f"slow-{path}", site.url(path), title=f"Slow {path}") for path in SLOW]
    items += [Item(f"good-{slug}", site.url(f"/a/{slug}"), title=ARTICLES[slug][0]) for slug in GOOD]
    site.routes["/feed.xml"] = feed_route(items)
    # A feed that trickles too, from another host (so that host is the one given up).
    with FaultySite({"/feed.xml": Trickle(content_type="application/rss+xml")}).start() as other:
        trickling_feed = other.url("/feed.xml")
        feeds = [("mixed", site.url("/feed.xml")), ("trickling-feed", trickling_feed)]
        config = write_config(
            tmp_path, feeds, total_timeout_seconds=TOTAL, read_timeout=1.0, attempts=ATTEMPTS,
            backoff_base_seconds=0.05, backoff_cap_seconds=0.2,
        )  # fmt: skip
        started = time.monotonic()
        result = cli.run(config)
        elapsed = time.monotonic() - started
    db = tmp_path / "ops.duckdb"

    assert result.exit_code == 0, result.output + repr(result.exception)
    # The servers trickle for ten minutes; the run is over within the bound (plus Prefect and the NLP of 6 articles).
    print(f"run took {elapsed:.1f}s; network bound {run_bound():.1f}s")
    assert elapsed < run_bound() + 30, elapsed
    for slug in GOOD:
        rows = query(db, "SELECT text_source FROM articles WHERE title = ?", [ARTICLES[slug][0]])
        assert rows == [("page",)], slug
    errors = {url: cls for url, cls in query(db, "SELECT url, error_class FROM fetch_errors WHERE stage = 'page'")}
    for path in SLOW:
        assert errors.get(site.url(path)) == "TimedOut", (path, errors)
        assert query(db, "SELECT text_source FROM articles WHERE url = ?", [site.url(path)]) == [("feed_summary",)]
    feed_errors = query(db, "SELECT error_class FROM fetch_errors WHERE stage = 'feed' AND feed_url = ?",
                        [trickling_feed])  # fmt: skip
    assert feed_errors == [("TimedOut",)]


def test_one_exchange_never_outlasts_the_total_deadline(site):
    """A trickling body, a silent server and trickling robots.txt: each gives up at the deadline, not later."""
    site.routes.update({"/trickle": Trickle(), "/silent": Silent()})
    settings = FetchSettings(
        total_timeout_seconds=1.5, read_timeout=1.0, per_host_delay_seconds=0.0, attempts=1,
        skip_host_after_timeouts=99,
    )  # fmt: skip
    with Fetcher(settings) as fetcher:
        for path in ("/trickle", "/silent"):
            started = time.monotonic()
            try:
                fetcher.get_page(site.url(path))
            except TimedOut as exc:
                assert "timed out" in str(exc) or "within 1.5s" in str(exc)
            else:
                raise AssertionError(f"{path} was fetched")
            # The body trickles for 10 minutes: ending within seconds of the deadline is the point;
            # the slack is for a loaded CI machine.
            assert time.monotonic() - started < 1.5 + 2.0, path


def test_a_host_whose_urls_keep_timing_out_is_skipped_for_the_rest_of_the_run(site):
    for i in range(8):
        site.routes[f"/t{i}"] = Trickle()
    site.routes["/good"] = page_route("harbour")
    settings = FetchSettings(
        total_timeout_seconds=1.0, read_timeout=0.8, per_host_delay_seconds=0.0, attempts=2,
        backoff_base_seconds=0.05, backoff_cap_seconds=0.1, skip_host_after_timeouts=3,
    )  # fmt: skip
    site.routes["/slow-one"] = Trickle()
    with Fetcher(settings) as fetcher:  # one slow URL, however often retried, never stops the host
        for _ in range(3):
            with pytest.raises(TimedOut, match="within 1s"):
                fetcher.get_page(site.url("/slow-one"))
        assert fetcher.get_page(site.url("/good")).status == 200
    started = time.monotonic()
    outcomes = []
    with Fetcher(settings) as fetcher:
        assert fetcher.get_page(site.url("/good")).status == 200
        for i in range(8):
            try:
                fetcher.get_page(site.url(f"/t{i}"))
            except TimedOut as exc:
                outcomes.append(str(exc))
    # Two attempts on the first two pages, one on the third: then the host is skipped without a request.
    assert time.monotonic() - started < 5 * 1.0 + 1.5
    assert sum("skipped" in o for o in outcomes) == 6, outcomes
    assert len(site.requests_to("/t2")) == 1 and len(site.requests_to("/t3")) == 0


def test_tasks_that_touch_the_network_or_run_the_nlp_declare_timeouts():
    from saidwhat.flows.tasks import analyze_articles, fetch_articles, network_timeout, poll_feed, refetch_pages

    for task in (poll_feed, fetch_articles, refetch_pages, analyze_articles):
        assert task.timeout_seconds, task.name
    settings = FetchSettings()
    # A backstop above what a feed can legitimately take (attempts x deadline + backoff), growing with pages per host.
    assert (
        network_timeout(settings)
        > settings.attempts * settings.total_timeout_seconds + 2 * settings.backoff_cap_seconds
    )
    assert network_timeout(settings, 50) > network_timeout(settings, 2) == network_timeout(settings, 1)  # 2 per host
