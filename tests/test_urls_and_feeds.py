"""Canonical URLs and feed parsing, on small inputs and the shared real feeds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from saidwhat.feeds import FeedParseError, canonical_url, parse_feed
from tests.conftest import shared_path


@pytest.mark.parametrize(
    "variant",
    [
        "https://example.com/world/2026/01/12/story.html",
        "http://example.com/world/2026/01/12/story.html",
        "https://www.example.com/world/2026/01/12/story.html",
        "https://example.com/world/2026/01/12/story.html/",
        "https://example.com/world/2026/01/12/story.html?utm_source=rss&utm_medium=feed",
        "https://EXAMPLE.com/world/2026/01/12/story.html#comments",
    ],
)
def test_url_variants_share_one_identity(variant: str) -> None:
    assert canonical_url(variant) == "https://example.com/world/2026/01/12/story.html"


def test_meaningful_query_parameters_are_kept() -> None:
    assert canonical_url("https://example.com/story?id=42") != canonical_url("https://example.com/story?id=43")


RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Wire</title>
<item><title>Kremlin says door open</title><link>https://example.com/a</link><guid>a</guid>
<pubDate>Mon, 12 Jan 2026 09:00:00 GMT</pubDate>
<description><![CDATA[<p>&ldquo;The door is open,&rdquo; Peskov said.</p>]]></description></item>
<item><title>Duplicate guid</title><link>https://example.com/b</link><guid>a</guid></item>
<item><title>No link, no date</title><description>Summary only.</description></item>
<item><title>From the future</title><link>https://example.com/c</link>
<pubDate>Mon, 12 Jan 2099 09:00:00 GMT</pubDate></item>
</channel></rss>"""


def test_items_are_parsed_with_clean_summaries_and_dates() -> None:
    feed = parse_feed("https://example.com/feed", RSS, now=datetime(2026, 1, 20, tzinfo=UTC))
    first = feed.items[0]
    assert first.title == "Kremlin says door open"
    assert first.summary == "\u201cThe door is open,\u201d Peskov said."
    assert first.published_at == datetime(2026, 1, 12, 9, tzinfo=UTC)


def test_duplicate_guids_keep_the_first_and_odd_items_survive() -> None:
    feed = parse_feed("https://example.com/feed", RSS, now=datetime(2026, 1, 20, tzinfo=UTC))
    by_title = {item.title: item for item in feed.items}
    assert "Duplicate guid" not in by_title
    assert by_title["No link, no date"].url is None
    assert by_title["No link, no date"].guid.startswith("sha1:")
    assert by_title["From the future"].published_at is None


def test_a_body_without_entries_is_an_error() -> None:
    with pytest.raises(FeedParseError):
        parse_feed("https://example.com/feed", b"<html><body>Not a feed</body></html>")


@pytest.mark.parametrize(
    ("name", "items"),
    [("guardian.rss", 55), ("heise.atom", 15), ("encoding.rss", 40), ("uolNoticias.rss", 15)],
)
def test_real_feeds_parse(name: str, items: int) -> None:
    feed = parse_feed("https://example.com/feed", shared_path("corpus", "rss-parser-feeds", "input", name).read_bytes())
    assert len(feed.items) == items
    assert all(item.title for item in feed.items)


def test_undeclared_latin1_feed_is_kept_despite_the_bozo_bit() -> None:
    body = shared_path("corpus", "rss-parser-feeds", "input", "uolNoticias.rss").read_bytes()
    feed = parse_feed("https://example.com/feed", body)
    assert feed.bozo_reason is not None
    assert any("ç" in (item.title or "") + (item.summary or "") for item in feed.items)
