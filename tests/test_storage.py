"""Storage on real DuckDB files: migrations, identity, idempotent writes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from saidwhat.core.records import Analysis, Article, Statement, StatementKind, TextSource
from saidwhat.extract import article_id_for
from saidwhat.storage import Store
from saidwhat.storage.db import migrations
from saidwhat.storage.store import AnalysedArticle

TEXT = "“We are ready to receive him in Moscow,” Peskov said on Monday, adding that no date had been set."


def _article(url: str, text: str = TEXT, source: TextSource = TextSource.PAGE, guid: str = "g1") -> Article:
    return Article(
        article_id=article_id_for(url), url=url, canonical_url=url, feed_url="https://example.com/feed", guid=guid,
        title="Kremlin ready", authors=("A. Writer",), publisher="Example Wire",
        published_at=datetime(2026, 1, 12, 9, tzinfo=UTC), fetched_at=datetime(2026, 1, 12, 10, tzinfo=UTC),
        text=text, text_source=source, text_hash=hashlib.sha256(text.encode()).hexdigest(),
    )  # fmt: skip


def _analysis() -> Analysis:
    statement = Statement(
        quote="“We are ready to receive him in Moscow,”", quote_start=0, quote_end=41,
        kind=StatementKind.DIRECT, sentence=TEXT, sentence_start=0, sentence_end=len(TEXT),
        speaker="Dmitry Peskov", speaker_mention="Peskov", speaker_start=42, speaker_end=48,
        cue="said", cue_lemma="say", cue_start=49, cue_end=53,
    )  # fmt: skip
    return Analysis(statements=(statement,), mentions=(), speaker_aliases={"Dmitry Peskov": frozenset({"Peskov"})})


def test_migrations_are_numbered_and_recorded(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    versions = [version for version, _, _ in migrations()]
    assert versions == sorted(versions) and versions[0] == 1
    assert store.migrate() == versions[-1]
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(versions)


def test_same_story_by_url_or_by_text_is_stored_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    assert store.add_articles([_article("https://example.com/a")]) == [article_id_for("https://example.com/a")]
    assert store.add_articles([_article("https://example.com/a", guid="g2")]) == []
    # Another address, the same page text: a second source of the first article.
    assert store.add_articles([_article("https://mirror.example.org/a", guid="g3")]) == []
    counts = store.counts()
    assert counts["articles"] == 1
    assert counts["article_sources"] == 3


def test_feed_summaries_with_equal_text_are_not_merged(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    short = "Kremlin says door open."
    store.add_articles([_article("https://example.com/a", short, TextSource.FEED_SUMMARY)])
    store.add_articles([_article("https://example.com/b", short, TextSource.FEED_SUMMARY, guid="g2")])
    assert store.counts()["articles"] == 2


def test_saving_an_analysis_twice_replaces_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    [article_id] = store.add_articles([_article("https://example.com/a")])
    assert store.articles_to_process("v1", 10)[0][0] == article_id
    result = AnalysedArticle(article_id, _analysis(), (("moscow-meeting",),))
    store.save_analyses([result], "v1")
    store.save_analyses([result], "v1")
    assert store.counts()["statements"] == 1
    assert store.articles_to_process("v1", 10) == []
    assert store.articles_to_process("v2", 10)[0][0] == article_id
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        speaker, topics = con.execute("SELECT speaker, topics FROM v_statements").fetchone()
        alias = con.execute("SELECT canonical FROM speaker_aliases WHERE alias = 'Peskov'").fetchone()
    assert speaker == "Dmitry Peskov" and topics == ["moscow-meeting"]
    assert alias == ("Dmitry Peskov",)


def test_a_failed_batch_leaves_nothing_behind(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    good = _article("https://example.com/a")
    broken = _article("https://example.com/b", guid="g2")
    object.__setattr__(broken, "text_hash", "another page")
    object.__setattr__(broken, "text", None)  # violates NOT NULL inside the transaction
    with pytest.raises(duckdb.ConstraintException):
        store.add_articles([good, broken])
    assert store.counts()["articles"] == 0


def test_polled_feeds_are_recorded_in_one_write_keeping_old_validators(tmp_path: Path) -> None:
    from saidwhat.core.records import FeedSpec
    from saidwhat.storage.store import FeedCheck

    store = Store(tmp_path / "db.duckdb")
    feeds = [FeedSpec(f"feed-{k}", f"https://example.com/{k}.xml", "Example") for k in range(3)]
    store.sync_feeds([*feeds, feeds[0]])  # a feed listed twice is one feed
    store.record_feed_failure(feeds[2].url, "HTTP 503", unhealthy_after=1, next_poll_after=None)
    store.record_feed_successes([FeedCheck(feeds[0].url, etag='"v1"', body_hash="h1"), FeedCheck(feeds[2].url)])
    store.record_feed_successes([FeedCheck(feeds[0].url, last_modified="Mon, 02 Nov 2026 10:00:00 GMT")])

    states = store.feed_states()
    assert len(states) == 3
    first = states[feeds[0].url]
    assert (first.etag, first.last_modified, first.body_hash) == ('"v1"', "Mon, 02 Nov 2026 10:00:00 GMT", "h1")
    assert states[feeds[2].url].healthy and states[feeds[2].url].consecutive_failures == 0
    assert states[feeds[1].url].etag is None  # not polled: untouched
