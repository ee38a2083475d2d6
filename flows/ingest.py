"""The hourly ingest flow: feeds -> articles -> statements in DuckDB.

Read top to bottom, `ingest` is the pipeline's story. Each step is a task
that calls one layer; storage calls are short transactions, so an analyst's
read connection is never blocked for long and a crash loses at most the
batch in flight, which the next run redoes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from prefect import flow, get_run_logger
from prefect.states import Completed, Failed

from feeds import canonical_url
from fetch import Fetcher
from flows.progress import report
from flows.tasks import FeedPoll, analyze_articles, fetch_articles, poll_failed, poll_feed
from nlp import EXTRACTOR_VERSION
from saidwhat.config import Config, load_config
from saidwhat.records import FeedItem, FeedSpec
from storage import Store
from storage.store import FetchErrorRecord, RunSummary

T = TypeVar("T")

FETCH_BATCH = 50
NLP_BATCH = 64


@dataclass
class Tally:
    feeds_polled: int = 0
    feeds_failed: int = 0
    new_articles: int = 0
    new_statements: int = 0
    errors: int = 0


def settings_for(
    config_path: str | None,
    db_path: str | None = None,
    feed_urls: Sequence[str] | None = None,
    feeds: Sequence[FeedSpec] | None = None,
    fetch_overrides: dict[str, Any] | None = None,
) -> Config:
    """The config with this run's overrides: --db replaces the path, --feed the feed list."""
    config = load_config(Path(config_path) if config_path else None)
    if db_path:
        config = replace(config, storage=replace(config.storage, path=Path(db_path)))
    if feed_urls:
        config = replace(config, feeds=tuple(_adhoc_feed(url, config.feeds) for url in feed_urls))
    if feeds:
        config = replace(config, feeds=tuple(feeds))
    if fetch_overrides:
        config = replace(config, fetch=replace(config.fetch, **fetch_overrides))
    return config


def _adhoc_feed(url: str, configured: Sequence[FeedSpec]) -> FeedSpec:
    for spec in configured:
        if spec.url == url:
            return spec
    from urllib.parse import urlsplit

    host = urlsplit(url).netloc or url
    return FeedSpec(name=host, url=url, publisher=host)


@flow(name="ingest", log_prints=False)
def ingest(
    config_path: str | None = None,
    db_path: str | None = None,
    feed_urls: list[str] | None = None,
    feeds: list[FeedSpec] | None = None,
    fetch_overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Poll every feed, store new articles once, attribute their statements."""
    logger = get_run_logger()
    config = settings_for(config_path, db_path, feed_urls, feeds, fetch_overrides)
    store = Store(config.storage.path, config.storage.lock_patience_seconds)
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
    store.start_run(run_id)
    store.sync_feeds(config.feeds)
    store.set_config_aliases(config.speaker_aliases)
    tally = Tally()

    with Fetcher(config.fetch) as fetcher:
        polls = poll_all_feeds(store, config, fetcher, tally, run_id)
        new_items = select_new_items(store, polls)
        logger.info("%d new items from %d feeds", len(new_items), tally.feeds_polled)
        for batch_number, batch in enumerate(batched(new_items, FETCH_BATCH)):
            report("fetch", batch_number * FETCH_BATCH, len(new_items))
            fetched = fetch_articles(batch, fetcher, config.fetch)
            tally.new_articles += len(store.add_articles(fetched.articles))
            record(store, run_id, fetched.errors, tally)
        report("fetch", len(new_items), len(new_items))
        retry_summary_pages(store, config, fetcher, run_id, tally)

    analyze_pending(store, config, tally)
    return finish(store, run_id, config, tally)


def poll_all_feeds(store: Store, config: Config, fetcher: Fetcher, tally: Tally, run_id: str) -> list[FeedPoll]:
    logger = get_run_logger()
    states = store.feed_states()
    now = datetime.now(UTC)
    due = [s for s in config.feeds if _is_due(states.get(s.url), now)]
    futures = [(spec, poll_feed.submit(spec, states.get(spec.url), fetcher)) for spec in due]
    polls = []
    for spec, future in futures:
        try:
            poll = future.result()
        except Exception as exc:  # a failed feed never fails the run
            poll = poll_failed(spec, exc)
        polls.append(poll)
        if poll.error is None:
            tally.feeds_polled += 1
            store.record_feed_success(spec.url, poll.etag, poll.last_modified, poll.body_hash)
            logger.info("feed %s: %s", spec.name, "unchanged" if poll.not_modified else f"{len(poll.items)} items")
        else:
            tally.feeds_failed += 1
            failures = (states[spec.url].consecutive_failures if spec.url in states else 0) + 1
            backoff = timedelta(minutes=min(24 * 60, 2 ** min(failures, 11)))
            store.record_feed_failure(
                spec.url, poll.error.message, config.fetch.unhealthy_after_failures, now + backoff
            )
            record(store, run_id, [poll.error], tally)
            logger.warning("feed %s failed: %s", spec.name, poll.error.message)
    return polls


def _is_due(state: Any, now: datetime) -> bool:
    """A failing feed is backed off; it is polled again once its pause has passed."""
    return state is None or state.next_poll_after is None or state.next_poll_after <= now


def select_new_items(store: Store, polls: Sequence[FeedPoll]) -> list[tuple[FeedItem, FeedSpec]]:
    """Items not seen before, by feed GUID or by canonical URL; first feed wins a shared story."""
    candidates: dict[str, tuple[FeedItem, FeedSpec]] = {}
    keys = []
    for poll in polls:
        for item in poll.items[:]:
            identity = canonical_url(item.url) if item.url else f"urn:item:{item.feed_url}#{item.guid}"
            keys.append((item.feed_url, item.guid, identity, item.url or ""))
            candidates.setdefault(identity, (item, poll.spec))
    unseen = store.unseen([(f, g, c) for f, g, c, _ in keys])
    known = [k for k in keys if (k[0], k[1]) not in unseen]
    store.link_known_sources([(f, g, u, c) for f, g, c, u in known])
    fresh_identities = {c for f, g, c, _ in keys if (f, g) in unseen}
    return [pair for identity, pair in candidates.items() if identity in fresh_identities]


def retry_summary_pages(store: Store, config: Config, fetcher: Fetcher, run_id: str, tally: Tally) -> None:
    """Articles stored from a feed summary get their page tried again, a bounded number of times."""
    from flows.tasks import _article_for

    for article_id, url, feed_url in store.articles_for_page_retry(config.fetch.page_attempts):
        spec = next((s for s in config.feeds if s.url == feed_url), FeedSpec(feed_url, feed_url, ""))
        item = FeedItem(feed_url=feed_url, guid=article_id, url=url, title=None, summary=None, published_at=None)
        article, error = _article_for(item, spec, fetcher, config.fetch)
        store.record_page_retry(article_id, article if error is None else None)


def analyze_pending(store: Store, config: Config, tally: Tally) -> None:
    """Attribute statements in every article not yet analysed by this extractor version."""
    total = store.count_articles_to_process(EXTRACTOR_VERSION)
    done = 0
    while rows := store.articles_to_process(EXTRACTOR_VERSION, NLP_BATCH):
        report("nlp", done, total)
        results = analyze_articles(rows, config.nlp, config.topics)
        tally.new_statements += store.save_analyses(results, EXTRACTOR_VERSION)
        done += len(rows)
    report("nlp", total, total)


def record(store: Store, run_id: str, errors: Sequence[FetchErrorRecord], tally: Tally) -> None:
    store.record_errors(run_id, errors)
    tally.errors += len(errors)


def finish(store: Store, run_id: str, config: Config, tally: Tally) -> Any:
    logger = get_run_logger()
    nothing_done = bool(config.feeds) and tally.feeds_polled == 0
    status = "failed" if nothing_done else ("completed_with_errors" if tally.errors else "completed")
    message = "no feed could be polled" if nothing_done else ""
    summary = RunSummary(
        run_id, tally.feeds_polled, tally.new_articles, tally.new_statements, tally.errors, status, message
    )
    store.finish_run(summary)
    result = {
        "run_id": run_id, "status": status, "feeds_polled": tally.feeds_polled, "feeds_failed": tally.feeds_failed,
        "new_articles": tally.new_articles, "new_statements": tally.new_statements, "errors": tally.errors,
        "database": str(config.storage.path),
    }  # fmt: skip
    if nothing_done:
        return Failed(message=f"nothing could be processed: {message}", data=result)
    if tally.errors:
        logger.warning("run %s finished with %d recorded errors (see fetch_errors)", run_id, tally.errors)
    return Completed(message=status, data=result)


def batched(items: Sequence[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
