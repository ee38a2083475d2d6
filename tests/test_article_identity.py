"""The domain rules the ingest flow relies on, as pure functions in their layers:
story identity (feeds), article id, text hash and the feed-summary fallback (extract), feed back-off (feeds)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from saidwhat.core.records import ExtractedPage, FeedItem, FeedSpec, FetchErrorRecord, TextSource
from saidwhat.extract import article_from_page, article_id_for, build_article, text_hash
from saidwhat.feeds import feed_backoff, is_due, item_identity

SPEC = FeedSpec("Wire", "https://wire.example/feed.xml", "Wire One")
ITEM = FeedItem(
    SPEC.url, "g1", "https://www.wire.example/story/?utm_source=rss", "Feed title",
    "Feed title. The summary of the story.", datetime(2026, 1, 3, tzinfo=UTC), ("Feed Author",),
)  # fmt: skip


def test_a_story_is_its_canonical_url_or_its_feed_and_guid() -> None:
    assert item_identity(SPEC.url, "g1", ITEM.url) == "https://wire.example/story"
    assert item_identity(SPEC.url, "g1", None) == "urn:item:https://wire.example/feed.xml#g1"
    assert article_id_for("https://wire.example/story") == article_id_for("https://wire.example/story")
    assert len(article_id_for("https://wire.example/story")) == 16
    assert article_id_for("https://wire.example/story") != article_id_for("https://wire.example/other")


def test_the_text_hash_ignores_whitespace_runs_only() -> None:
    assert text_hash("He said  it.\n\nThen left.") == text_hash("He said it. Then left.")
    assert text_hash("He said it.") != text_hash("She said it.")


def test_a_page_gives_its_text_and_metadata_the_feed_fills_the_gaps() -> None:
    page = ExtractedPage("The page text.", "Page title", (), None)
    article = build_article(ITEM, SPEC, "https://wire.example/story", ITEM.url, page, None)
    assert article.text_source is TextSource.PAGE and article.text == "The page text."
    assert article.title == "Page title" and article.authors == ("Feed Author",)
    assert article.published_at == ITEM.published_at and article.fallback_reason is None
    assert article.article_id == article_id_for("https://wire.example/story")
    assert article.canonical_url == "https://wire.example/story" and article.publisher == "Wire One"


def test_without_a_page_the_feed_summary_is_the_text_and_the_reason_is_kept() -> None:
    error = FetchErrorRecord("page", "TimedOut", "the page took too long", SPEC.url, ITEM.url)
    article = build_article(ITEM, SPEC, "https://wire.example/story", ITEM.url, None, error)
    assert article.text_source is TextSource.FEED_SUMMARY
    assert article.text == "Feed title. The summary of the story."  # the title is not repeated
    assert article.fallback_reason == "the page took too long"
    assert build_article(ITEM, SPEC, "x", None, None, None).fallback_reason == "page not fetched"
    empty = FeedItem(SPEC.url, "g2", None, None, None, None)
    assert build_article(empty, SPEC, "x", None, None, None) is None  # nothing to store


def test_a_page_that_is_not_an_article_falls_back_with_the_extraction_error() -> None:
    article, error = article_from_page(ITEM, SPEC, "https://wire.example/story", ITEM.url, b"\x00\x01binary",
                                       ITEM.url, None)  # fmt: skip
    assert error is not None and error.stage == "extract"
    assert article.text_source is TextSource.FEED_SUMMARY and article.fallback_reason == error.message


def test_a_failing_feed_backs_off_exponentially_up_to_a_day() -> None:
    assert [feed_backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8)]
    assert feed_backoff(40) == timedelta(days=1)
    now = datetime(2026, 1, 3, 12, tzinfo=UTC)
    assert is_due(None, now) and is_due(now, now) and not is_due(now + timedelta(seconds=1), now)
