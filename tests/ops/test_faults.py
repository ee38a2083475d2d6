"""Fault injection through `saidwhat run`: a local server misbehaving in every way we know of.

The run must complete, store every good item exactly once, record every bad
one in fetch_errors, and fall back to the feed summary for pages it could not get.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saidwhat.demo.server import Route

from .conftest import counts, query
from .publishers import (
    ARTICLES,
    Item,
    Raw,
    article_html,
    feed_route,
    flaky,
    last_modified_feed,
    page_route,
    rss,
    slow,
    write_config,
)
from .test_hostile_feeds import billion_laughs, quadratic_blowup, shared_feed_files

GOOD = ("harbour", "rail", "library")
# path -> the error class recorded for it
BAD_PAGES = {
    "/bad/500": "HttpStatusError",
    "/bad/slow": "TimedOut",
    "/bad/truncated": "TruncatedBody",
    "/bad/loop": "TooManyRedirects",
    "/bad/pdf": "WrongContentType",
    "/bad/huge": "BodyTooLarge",
    "/bad/huge-unannounced": "BodyTooLarge",
    "/private/secret": "RobotsDisallowed",
    "/bad/empty": "ExtractionFailed",
    "/bad/binary": "ExtractionFailed",
    "/bad/stub-latin1": "ExtractionFailed",
    "/bad/missing": "HttpStatusError",
}
BAD_FEEDS = {
    "/feeds/down.xml": "HttpStatusError",
    "/feeds/gone.xml": "HttpStatusError",
    "/feeds/loop.xml": "TooManyRedirects",
    "/feeds/not-a-feed.xml": "FeedParseError",
    "/feeds/slow.xml": "TimedOut",
}


def install_faults(site) -> list[tuple[str, str]]:
    """Routes for good and bad pages and feeds; returns the (name, url) feeds to configure."""
    big = b"<html><body>" + b"<p>filler words here</p>" * 20_000 + b"</body></html>"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
    routes = {
        **{f"/a/{slug}": page_route(slug) for slug in GOOD},
        # Good in the end: a 429 with Retry-After first, and a redirect to the real address.
        "/a/orchard": flaky([Route(b"busy", status=429, headers=(("Retry-After", "1"),))], page_route("orchard")),
        "/a/bridge": Route(b"", status=301, headers=(("Location", "/a/bridge-2025"),)),
        "/a/bridge-2025": page_route("bridge"),
        "/bad/500": Route(b"<h1>Internal error</h1>", status=500),
        "/bad/slow": slow(page_route("rail"), 2.0),
        "/bad/truncated": Raw(head + b"Content-Length: 40000\r\n\r\n" + article_html("library")[:400]),
        "/bad/loop": Route(b"", status=302, headers=(("Location", "/bad/loop"),)),
        "/bad/pdf": Route(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", "application/pdf"),
        "/bad/huge": Route(big),
        "/bad/huge-unannounced": Raw(head + b"Connection: close\r\n\r\n" + big),
        "/private/secret": page_route("rail"),
        "/bad/empty": Route(b""),
        "/bad/binary": Route(bytes(range(256)) * 64, "text/html"),
        "/bad/stub-latin1": Route("<p>Caf\u00e9 ferm\u00e9.</p>".encode("latin-1"), "text/html; charset=latin-1"),
        "/feeds/down.xml": Route(b"down", status=503),
        "/feeds/gone.xml": Route(b"gone", status=404),
        "/feeds/loop.xml": Route(b"", status=307, headers=(("Location", "/feeds/loop.xml"),)),
        "/feeds/not-a-feed.xml": Route(b"<html><body>Welcome to our homepage</body></html>", "text/html"),
        "/feeds/slow.xml": slow(feed_route([Item("s", site.url("/a/rail"))]), 2.0),
        "/feeds/bomb.xml": Route(billion_laughs(), "application/rss+xml"),
        "/feeds/quadratic.xml": Route(quadratic_blowup(), "application/rss+xml"),
    }
    items = [Item(f"good-{slug}", site.url(f"/a/{slug}"), title=ARTICLES[slug][0]) for slug in (*GOOD, "orchard")]
    items += [
        Item("good-bridge", site.url("/a/bridge"), title=ARTICLES["bridge"][0]),
        # The same story again: a tracking parameter, and a duplicate GUID.
        Item("tracked-harbour", site.url("/a/harbour?utm_source=rss&utm_medium=feed"), title="Harbour again"),
        Item("good-rail", site.url("/a/other-story"), title="Same GUID, first one wins"),
        *[
            Item(f"bad-{path}", site.url(path), title=f"Bad page {path}", summary=f"Summary of {path}.")
            for path in BAD_PAGES
        ],
        Item(None, None, title="An item with no link", summary="It only has this summary text."),
        Item("empty-item", None, title=None, summary=None, published=None),
        Item("future", site.url("/bad/missing-future"), published="Fri, 01 Jan 2100 10:00:00 GMT"),
        Item("garbled-date", site.url("/bad/missing-date"), published="yesterday-ish"),
    ]
    routes["/feeds/main.xml"] = feed_route(items, "Main")
    for i, path in enumerate(shared_feed_files()):
        routes[f"/shared/{i}.xml"] = Route(path.read_bytes(), "application/xml")
    site.routes.update(routes)
    feeds = [("main", site.url("/feeds/main.xml"))]
    feeds += [(path.strip("/"), site.url(path)) for path in (*BAD_FEEDS, "/feeds/bomb.xml", "/feeds/quadratic.xml")]
    feeds += [(f"shared-{i}", site.url(f"/shared/{i}.xml")) for i in range(len(shared_feed_files()))]
    return feeds


def test_faults_never_fail_the_run_and_every_failure_is_recorded(cli, site, tmp_path, no_internet):
    feeds = install_faults(site)
    config = write_config(tmp_path, feeds, max_items_per_feed=40)
    db = tmp_path / "ops.duckdb"

    result = cli.run(config)

    assert result.exit_code == 0, result.output + repr(result.exception)
    # Every good item exactly once, with its page text.
    for slug in (*GOOD, "orchard", "bridge"):
        rows = query(db, "SELECT text_source, text FROM articles WHERE title = ?", [ARTICLES[slug][0]])
        assert len(rows) == 1, slug
        assert rows[0][0] == "page" and ARTICLES[slug][1][0][:40] in rows[0][1]
    assert query(db, "SELECT count(*) FROM articles WHERE url LIKE '%/a/harbour%'")[0][0] == 1
    sources = query(db, "SELECT count(*) FROM article_sources WHERE guid = 'tracked-harbour'")[0][0]
    assert sources == 1  # recorded as another source of the stored story
    # Every bad page recorded with its precise error class, and kept from the feed summary.
    errors = query(db, "SELECT url, feed_url, stage, error_class, message, run_id FROM fetch_errors")
    assert all(run_id for *_, run_id in errors)
    by_url = {}
    for url, _, _, error_class, _, _ in errors:
        by_url.setdefault(url, set()).add(error_class)
    for path, error_class in BAD_PAGES.items():
        assert error_class in by_url.get(site.url(path), set()), (path, by_url.get(site.url(path)))
        text_source = query(db, "SELECT text_source FROM articles WHERE url = ?", [site.url(path)])
        assert text_source == [("feed_summary",)], path
    # Every bad feed recorded at the feed stage.
    feed_errors = {feed: cls for _, feed, stage, cls, _, _ in errors if stage == "feed"}
    for path, error_class in BAD_FEEDS.items():
        assert feed_errors.get(site.url(path)) == error_class, path
    # Items without a link: the one with text is kept from its summary, the empty one recorded.
    assert query(db, "SELECT text FROM articles WHERE title = 'An item with no link'") == [
        ("An item with no link\nIt only has this summary text.",)
    ]
    main = site.url("/feeds/main.xml")
    assert query(db, "SELECT count(*) FROM fetch_errors WHERE error_class = 'NoLink' AND feed_url = ?", [main]) == [
        (2,)
    ]
    # Dates: in the far future or unparseable become unknown, never wrong.
    for path in ("/bad/missing-future", "/bad/missing-date"):
        assert query(db, "SELECT published_at FROM articles WHERE url = ?", [site.url(path)]) == [(None,)]
    # Entity bombs: a defused result (or a recorded error), never an expansion.
    longest = query(db, "SELECT max(length(text)) FROM articles")[0][0]
    assert longest < 200_000
    # Every shared edge-case feed gave items, a recorded error, or (a valid feed with no items) a success.
    for i in range(len(shared_feed_files())):
        url = site.url(f"/shared/{i}.xml")
        known = query(db, "SELECT count(*) FROM article_sources WHERE feed_url = ?", [url])[0][0]
        failed = query(db, "SELECT count(*) FROM fetch_errors WHERE feed_url = ?", [url])[0][0]
        quiet = query(db, "SELECT last_ok_at IS NOT NULL FROM feeds WHERE feed_url = ?", [url]) == [(True,)]
        assert known or failed or quiet, url
    # The run is complete, with errors, and its summary counts them.
    (status, errors_counted), = query(db, "SELECT status, errors FROM runs")  # fmt: skip
    assert status == "completed_with_errors" and errors_counted == len(errors)
    health = dict(query(db, "SELECT feed_url, consecutive_failures FROM feeds"))
    assert health[site.url("/feeds/main.xml")] == 0 and health[site.url("/feeds/down.xml")] == 1


def test_second_run_on_unchanged_feeds_makes_only_conditional_requests_and_writes_nothing(cli, site, tmp_path):
    site.routes["/etag.xml"] = feed_route([Item("e1", site.url("/a/harbour")), Item("e2", site.url("/a/rail"))])
    site.routes["/dated.xml"] = last_modified_feed(
        rss([Item("d1", site.url("/a/library"))]), datetime.now(UTC) - timedelta(hours=3)
    )
    for slug in ("harbour", "rail", "library"):
        site.routes[f"/a/{slug}"] = page_route(slug)
    config = write_config(tmp_path, [("etag", site.url("/etag.xml")), ("dated", site.url("/dated.xml"))])
    db = tmp_path / "ops.duckdb"

    first = cli.run(config)
    assert first.exit_code == 0, first.output
    before = counts(db)
    assert before["articles"] == 3 and before["fetch_errors"] == 0
    site.log.clear()

    second = cli.run(config)

    assert second.exit_code == 0, second.output
    requests = site.log.entries
    assert sorted(path for _, path, _ in requests) == ["/dated.xml", "/etag.xml"]
    etag_request = next(h for _, p, h in requests if p == "/etag.xml")
    dated_request = next(h for _, p, h in requests if p == "/dated.xml")
    assert "if-none-match" in etag_request and "if-modified-since" in dated_request
    assert counts(db) == before
    latest = query(db, "SELECT status, new_articles, new_statements, errors FROM runs ORDER BY started_at DESC")
    assert latest[0] == ("completed", 0, 0, 0)


def test_unchanged_body_is_not_processed_again_when_the_server_ignores_validators(cli, site, tmp_path):
    import time

    body = rss([Item("h1", site.url("/a/harbour"))])
    # A fresh ETag on every answer and no 304s: only the body hash can tell nothing changed.
    site.routes["/plain.xml"] = lambda handler: Route(
        body, "application/rss+xml", headers=(("ETag", f'"v{time.time_ns()}"'),)
    )
    site.routes["/a/harbour"] = page_route("harbour")
    config = write_config(tmp_path, [("plain", site.url("/plain.xml"))])
    db = tmp_path / "ops.duckdb"
    assert cli.run(config).exit_code == 0
    before = counts(db)
    assert cli.run(config).exit_code == 0
    assert counts(db) == before
    assert len(site.requests_to("/plain.xml")) == 2 and len(site.requests_to("/a/harbour")) == 1


def test_pages_that_failed_are_retried_in_later_runs_a_bounded_number_of_times(cli, site, tmp_path):
    site.routes["/a/rail"] = Route(b"maintenance", status=503)
    site.routes["/a/library"] = Route(b"not here", status=404)
    site.routes["/feed.xml"] = feed_route(
        [Item("r", site.url("/a/rail"), title="Rail title"), Item("l", site.url("/a/library"), title="Library title")]
    )
    config = write_config(tmp_path, [("f", site.url("/feed.xml"))], page_attempts=2)
    db = tmp_path / "ops.duckdb"

    assert cli.run(config).exit_code == 0
    assert dict(query(db, "SELECT title, text_source FROM articles")) == {
        "Rail title": "feed_summary",
        "Library title": "feed_summary",
    }
    site.routes["/a/rail"] = page_route("rail")  # the publisher is back
    library_requests = len(site.requests_to("/a/library"))

    assert cli.run(config).exit_code == 0
    rows = dict(query(db, "SELECT url, text_source FROM articles"))
    assert rows[site.url("/a/rail")] == "page"
    assert rows[site.url("/a/library")] == "feed_summary"
    statements = query(db, "SELECT count(*) FROM statements s JOIN articles a USING (article_id) WHERE a.url = ?",
                       [site.url("/a/rail")])[0][0]  # fmt: skip
    assert statements > 0  # the page text was analysed again
    assert len(site.requests_to("/a/library")) == library_requests + 1

    assert cli.run(config).exit_code == 0  # page_attempts = 2: the library page is not asked for again
    assert len(site.requests_to("/a/library")) == library_requests + 1
    assert query(db, "SELECT count(*) FROM articles")[0][0] == 2


def test_failing_feed_is_backed_off_marked_unhealthy_and_recovers(cli, site, tmp_path):
    site.routes["/a/harbour"] = page_route("harbour")
    site.routes["/good.xml"] = feed_route([Item("g", site.url("/a/harbour"))])
    site.routes["/flaky.xml"] = Route(b"", status=404)
    config = write_config(
        tmp_path, [("good", site.url("/good.xml")), ("flaky", site.url("/flaky.xml"))], unhealthy_after_failures=2
    )
    db = tmp_path / "ops.duckdb"
    flaky_url = site.url("/flaky.xml")

    def state():
        return query(db, "SELECT consecutive_failures, healthy, next_poll_after FROM feeds WHERE feed_url = ?",
                     [flaky_url])[0]  # fmt: skip

    def pause_over():
        import duckdb

        with duckdb.connect(str(db)) as con:  # as if the back-off time had passed
            con.execute("UPDATE feeds SET next_poll_after = now() - INTERVAL 1 MINUTE WHERE feed_url = ?", [flaky_url])

    assert cli.run(config).exit_code == 0
    failures, healthy, pause_until = state()
    assert (failures, healthy) == (1, True) and pause_until > datetime.now(UTC)

    requests = len(site.requests_to("/flaky.xml"))
    assert cli.run(config).exit_code == 0  # backed off: not even asked
    assert len(site.requests_to("/flaky.xml")) == requests

    pause_over()
    assert cli.run(config).exit_code == 0
    assert state()[:2] == (2, False)  # unhealthy after 2 failures in a row

    site.routes["/flaky.xml"] = feed_route([Item("f", site.url("/a/rail"))])
    site.routes["/a/rail"] = page_route("rail")
    pause_over()
    assert cli.run(config).exit_code == 0
    assert state() == (0, True, None)  # recovered by itself
    assert query(db, "SELECT count(*) FROM articles WHERE url = ?", [site.url("/a/rail")])[0][0] == 1


@pytest.mark.parametrize("feed_count", [1, 2])
def test_run_fails_only_when_nothing_could_be_processed(cli, site, tmp_path, feed_count):
    site.routes["/down.xml"] = Route(b"", status=404)
    site.routes["/ok.xml"] = feed_route([Item("g", site.url("/a/harbour"))])
    site.routes["/a/harbour"] = page_route("harbour")
    feeds = [("down", site.url("/down.xml")), ("ok", site.url("/ok.xml"))][:feed_count]
    config = write_config(tmp_path, feeds)
    result = cli.run(config)
    db = tmp_path / "ops.duckdb"
    status = query(db, "SELECT status FROM runs")[0][0]
    if feed_count == 1:
        assert result.exit_code != 0 and "nothing could be processed" in str(result.exception)
        assert status == "failed"
    else:
        assert result.exit_code == 0 and status == "completed_with_errors"
