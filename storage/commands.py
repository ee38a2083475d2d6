"""Typed write commands: everything the pipeline and the maintenance commands write.

A run does not call the Store's write methods; it builds one of these small
frozen records and hands it to a writer (``storage/writer.py``), which applies
it in one transaction and says what happened. A command is plain data, so it
can also wait in the spool (``storage/spool.py``) when another process holds
the database, and be applied later exactly as it would have been now.

Each command has a ``kind``: the stable name it has in a spool file. The
Python class may be renamed; the kind may not (``tests/analyst/test_spool.py``
pins every kind and field against a stored example). Every command is safe
to apply twice -- articles are deduplicated by canonical URL, analyses
replace an article's statements, runs and feeds are keyed -- so a crash
between applying a spooled command and deleting its file loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from saidwhat.core.records import Article, FeedSpec, TopicEvidence
from saidwhat.storage.store import AnalysedArticle, FeedCheck, FetchErrorRecord, RunSummary, Store

# (feed_url, guid, url, canonical_url) of a feed item
ItemKey = tuple[str, str, str, str]


@dataclass(frozen=True, slots=True)
class StartRun:
    """A new run begins; runs still marked running were killed."""

    kind: ClassVar[str] = "start_run"
    run_id: str
    # The feeds this run polls: on a DuckLake, runs on other feeds may be running at the same time.
    feed_urls: tuple[str, ...] = ()

    def apply(self, store: Store) -> None:
        store.start_run(self.run_id, self.feed_urls)


@dataclass(frozen=True, slots=True)
class FinishRun:
    kind: ClassVar[str] = "finish_run"
    summary: RunSummary

    def apply(self, store: Store) -> None:
        store.finish_run(self.summary)


@dataclass(frozen=True, slots=True)
class CancelRun:
    """A run stopped by a signal: recorded as ``cancelled`` with ``message``; the next run redoes its work."""

    kind: ClassVar[str] = "cancel_run"
    run_id: str
    message: str

    def apply(self, store: Store) -> None:
        store.cancel_run(self.run_id, self.message)


@dataclass(frozen=True, slots=True)
class RecordErrors:
    """Failures of one run (feeds, pages, extraction, NLP), for `fetch_errors`."""

    kind: ClassVar[str] = "record_errors"
    run_id: str
    errors: tuple[FetchErrorRecord, ...]

    def apply(self, store: Store) -> None:
        store.record_errors(self.run_id, self.errors)


@dataclass(frozen=True, slots=True)
class SyncFeeds:
    """The configured feeds: names and publishers are upserted by feed URL."""

    kind: ClassVar[str] = "sync_feeds"
    feeds: tuple[FeedSpec, ...]

    def apply(self, store: Store) -> None:
        store.sync_feeds(self.feeds)


@dataclass(frozen=True, slots=True)
class SetConfigAliases:
    """The 'config' rows of speaker_aliases become exactly these ([speakers.aliases])."""

    kind: ClassVar[str] = "set_config_aliases"
    aliases: dict[str, str]

    def apply(self, store: Store) -> None:
        store.set_config_aliases(self.aliases)


@dataclass(frozen=True, slots=True)
class MarkFeedsPolled:
    """Feeds polled without error: healthy again, with the validators to send next time."""

    kind: ClassVar[str] = "mark_feeds_polled"
    checks: tuple[FeedCheck, ...]

    def apply(self, store: Store) -> None:
        store.record_feed_successes(self.checks)


@dataclass(frozen=True, slots=True)
class RecordFeedFailure:
    kind: ClassVar[str] = "record_feed_failure"
    feed_url: str
    message: str
    unhealthy_after: int
    next_poll_after: datetime | None

    def apply(self, store: Store) -> None:
        store.record_feed_failure(self.feed_url, self.message, self.unhealthy_after, self.next_poll_after)


@dataclass(frozen=True, slots=True)
class AddArticles:
    """New articles; one whose URL or page text is already stored becomes another source of it.

    Applied, its result is the ids actually added.
    """

    kind: ClassVar[str] = "add_articles"
    articles: tuple[Article, ...]

    def apply(self, store: Store) -> list[str]:
        return store.add_articles(self.articles)


@dataclass(frozen=True, slots=True)
class LinkKnownSources:
    """Feed items whose story is already stored (by another feed or URL variant) become its sources."""

    kind: ClassVar[str] = "link_known_sources"
    items: tuple[ItemKey, ...]

    def apply(self, store: Store) -> None:
        store.link_known_sources(self.items)


@dataclass(frozen=True, slots=True)
class RecordPageRetries:
    """Summary-only articles whose page was tried again: ``recovered`` now have the page text."""

    kind: ClassVar[str] = "record_page_retries"
    recovered: tuple[Article, ...]
    failed: tuple[str, ...]

    def apply(self, store: Store) -> None:
        store.record_page_retries(self.recovered, self.failed)


@dataclass(frozen=True, slots=True)
class SaveAnalyses:
    """Replace these articles' statements and mentions. Applied, its result is the number of statements."""

    kind: ClassVar[str] = "save_analyses"
    results: tuple[AnalysedArticle, ...]
    extractor_version: str

    def apply(self, store: Store) -> int:
        return store.save_analyses(self.results, self.extractor_version)


@dataclass(frozen=True, slots=True)
class ReplaceTopics:
    """(statement_id, topics, topic evidence) from `retag`. Applied, its result is how many statements changed."""

    kind: ClassVar[str] = "replace_topics"
    topics: tuple[tuple[str, tuple[str, ...], tuple[TopicEvidence, ...]], ...]

    def apply(self, store: Store) -> int:
        return store.replace_topics(self.topics)


@dataclass(frozen=True, slots=True)
class RebuildClusters:
    """Cluster every statement again (`retag`: alias edits change who is one speaker). Applied: statements clustered."""

    kind: ClassVar[str] = "rebuild_clusters"

    def apply(self, store: Store) -> int:
        return store.rebuild_clusters()


WriteCommand = (
    StartRun | FinishRun | CancelRun | RecordErrors | SyncFeeds | SetConfigAliases | MarkFeedsPolled | RecordFeedFailure
    | AddArticles | LinkKnownSources | RecordPageRetries | SaveAnalyses | ReplaceTopics | RebuildClusters
)  # fmt: skip

# Every command by the name it has in a spool file.
COMMANDS: dict[str, Any] = {
    cls.kind: cls
    for cls in (
        StartRun, FinishRun, CancelRun, RecordErrors, SyncFeeds, SetConfigAliases, MarkFeedsPolled, RecordFeedFailure,
        AddArticles, LinkKnownSources, RecordPageRetries, SaveAnalyses, ReplaceTopics, RebuildClusters,
    )
}  # fmt: skip
