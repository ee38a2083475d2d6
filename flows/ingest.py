"""The hourly ingest flow: feeds -> articles -> statements in DuckDB.

Read top to bottom, `ingest` is the pipeline's story. Each step is a task
that calls one layer; storage calls are short transactions, so an analyst's
read connection is never blocked for long and a crash loses at most the
batch in flight, which the next run redoes.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from prefect import flow, get_run_logger
from prefect.runtime import deployment as prefect_deployment
from prefect.settings import PREFECT_API_URL
from prefect.states import Completed, Failed
from saidwhat.feeds import canonical_url
from saidwhat.fetch import Fetcher
from saidwhat.flows.progress import report
from saidwhat.flows.runners import NlpStream, chunk_size, max_in_flight, nlp_submitter
from saidwhat.flows.tasks import (
    FeedPoll,
    PageRetry,
    analyze_articles,
    fetch_articles,
    network_timeout,
    poll_failed,
    poll_feed,
    refetch_pages,
)
from saidwhat.nlp import EXTRACTOR_VERSION
from saidwhat.nlp.errors import ModelNotInstalled
from saidwhat.storage import DatabaseLocked, StorageError, Store
from saidwhat.storage.store import AnalysedArticle, FeedCheck, FetchErrorRecord, RunSummary

from saidwhat.config import Config, load_config, open_store
from saidwhat.core.errors import NothingProcessed
from saidwhat.core.lifetime import exit_with_parent, signal_name, stop_signal_of
from saidwhat.core.records import FeedItem, FeedSpec

T = TypeVar("T")
ItemKey = tuple[str, str, str, str]  # (feed_url, guid, url, canonical_url)

FETCH_BATCH = 50
# The name of the Prefect global concurrency limit that queues overlapping ingest runs.
INGEST_CONCURRENCY_LIMIT = "saidwhat-ingest"


@dataclass
class Tally:
    feeds_polled: int = 0
    feeds_failed: int = 0
    new_articles: int = 0
    pages_recovered: int = 0
    new_statements: int = 0
    articles_analysed: int = 0
    errors: int = 0
    # (feed name, next attempt) of the feeds this run skipped because they are backed off after failures
    backed_off: list[tuple[str, datetime]] = field(default_factory=list)

    @property
    def anything_done(self) -> bool:
        return bool(self.feeds_polled or self.new_articles or self.pages_recovered or self.articles_analysed)


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
        config = replace(config, storage=replace(config.storage, backend="duckdb", path=Path(db_path)))
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
    if prefect_deployment.id:
        # A deployment's run, in a process that `saidwhat serve` (or a Prefect worker) started:
        # if that process is killed, this run ends too instead of running on without it.
        exit_with_parent(os.getppid())
    config = settings_for(config_path, db_path, feed_urls, feeds, fetch_overrides)
    store = open_store(config.storage)
    with ExitStack() as held:
        try:
            held.enter_context(one_ingest_at_a_time(store, [feed.url for feed in config.feeds]))
            return ingest_once(store, config)
        except StorageError as exc:  # locked, not a database, newer schema: the state's message, not a traceback
            return Failed(message=str(exc), data=exc)


def ingest_once(store: Store, config: Config) -> Any:
    logger = get_run_logger()
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
    store.start_run(run_id, [feed.url for feed in config.feeds])
    store.sync_feeds(config.feeds)
    store.set_config_aliases(config.speaker_aliases)
    tally = Tally()

    with Fetcher(config.fetch) as fetcher, nlp_submitter(config) as submit, cancelled_on_stop(store, run_id):
        # The NLP of each fetched batch runs (in worker threads/processes) while the next batch is fetched.
        stream = nlp_stream(store, config, run_id, tally, submit)
        polls = poll_all_feeds(store, config, fetcher, tally, run_id)
        new_items, item_keys = select_new_items(store, polls)
        logger.info("%d new items from %d feeds", len(new_items), tally.feeds_polled)
        added: set[str] = set()
        for batch_number, batch in enumerate(batched(new_items, FETCH_BATCH)):
            report("fetch", batch_number * FETCH_BATCH, len(new_items))
            timeout = network_timeout(config.fetch, len(batch))
            fetched = fetch_articles.with_options(timeout_seconds=timeout)(batch, fetcher, config.fetch)
            new_ids = set(store.add_articles(fetched.articles))
            added.update(new_ids)
            stream.add([(a.article_id, a.text, a.title) for a in fetched.articles if a.article_id in new_ids])
            record(store, run_id, fetched.errors, tally)
        tally.new_articles = len(added)
        report("fetch", len(new_items), len(new_items))
        store.link_known_sources(item_keys)
        # Only now that their items are stored: a crash before this point re-polls the feeds.
        remember_polled_feeds(store, polls)
        retry_summary_pages(store, config, fetcher, run_id, tally, skip=added)
        analyze_pending(store, config, run_id, tally, stream)
    return finish(store, run_id, config, tally)


def poll_all_feeds(store: Store, config: Config, fetcher: Fetcher, tally: Tally, run_id: str) -> list[FeedPoll]:
    """Poll the feeds that are due; a failing feed is recorded and backed off, never fatal."""
    logger = get_run_logger()
    states = store.feed_states()
    now = datetime.now(UTC)
    due = [s for s in config.feeds if _is_due(states.get(s.url), now)]
    for spec in config.feeds:
        if spec not in due:
            state = states[spec.url]
            tally.backed_off.append((spec.name, state.next_poll_after))
            logger.info("feed %s: backed off until %s after %d failures", spec.name, state.next_poll_after,
                        state.consecutive_failures)  # fmt: skip
    max_items = config.fetch.max_items_per_feed
    poll_task = poll_feed.with_options(timeout_seconds=network_timeout(config.fetch))
    futures = [(spec, poll_task.submit(spec, states.get(spec.url), fetcher, max_items)) for spec in due]
    polls = []
    for spec, future in futures:
        try:
            poll = future.result()
        except Exception as exc:  # a failed feed never fails the run
            poll = poll_failed(spec, exc)
        polls.append(poll)
        if poll.error is None:
            tally.feeds_polled += 1
            logger.info("feed %s: %s", spec.name, "unchanged" if poll.not_modified else f"{len(poll.items)} items")
        else:
            tally.feeds_failed += 1
            state = states.get(spec.url)
            failures = (state.consecutive_failures if state else 0) + 1
            store.record_feed_failure(
                spec.url, poll.error.message, config.fetch.unhealthy_after_failures, now + feed_backoff(failures)
            )
            record(store, run_id, [poll.error], tally)
            unhealthy = failures >= config.fetch.unhealthy_after_failures
            logger.warning("feed %s failed (%d in a row%s): %s", spec.name, failures,
                           ", unhealthy" if unhealthy else "", poll.error.message)  # fmt: skip
    return polls


def feed_backoff(consecutive_failures: int) -> timedelta:
    """Pause after the n-th failure in a row: 2, 4, 8 ... minutes, at most a day."""
    return timedelta(minutes=min(24 * 60, 2 ** min(consecutive_failures, 11)))


def _is_due(state: Any, now: datetime) -> bool:
    """A failing feed is backed off; it is polled again once its pause has passed."""
    return state is None or state.next_poll_after is None or state.next_poll_after <= now


def remember_polled_feeds(store: Store, polls: Sequence[FeedPoll]) -> None:
    """Mark polled feeds healthy and keep their ETag, Last-Modified and body hash for next time."""
    store.record_feed_successes(
        [FeedCheck(p.spec.url, p.etag, p.last_modified, p.body_hash) for p in polls if p.error is None]
    )


def select_new_items(store: Store, polls: Sequence[FeedPoll]) -> tuple[list[tuple[FeedItem, FeedSpec]], list[ItemKey]]:
    """Items not seen before, by feed GUID or by canonical URL; the first feed wins a shared story.

    Also returns every item's key, so that the items that reached a stored
    story by another feed or URL variant can be linked to it afterwards.
    """
    candidates: dict[str, tuple[FeedItem, FeedSpec]] = {}
    keys: list[ItemKey] = []
    for poll in polls:
        for item in poll.items:
            identity = canonical_url(item.url) if item.url else f"urn:item:{item.feed_url}#{item.guid}"
            keys.append((item.feed_url, item.guid, item.url or "", identity))
            candidates.setdefault(identity, (item, poll.spec))
    unseen = store.unseen([(feed, guid, identity) for feed, guid, _, identity in keys])
    fresh = {identity for feed, guid, _, identity in keys if (feed, guid) in unseen}
    return [pair for identity, pair in candidates.items() if identity in fresh], keys


def retry_summary_pages(
    store: Store, config: Config, fetcher: Fetcher, run_id: str, tally: Tally, skip: set[str] = frozenset()
) -> None:
    """Articles stored from a feed summary in earlier runs get their page tried again, a bounded number of times."""
    specs = {s.url: s for s in config.feeds}
    retries = [
        PageRetry(article_id, url, specs.get(feed_url) or FeedSpec(feed_url, feed_url, ""))
        for article_id, url, feed_url in store.articles_for_page_retry(config.fetch.page_attempts)
        if article_id not in skip and url.startswith(("http://", "https://"))  # no link: no page to retry
    ]
    if not retries:
        return
    timeout = network_timeout(config.fetch, len(retries))
    outcome = refetch_pages.with_options(timeout_seconds=timeout)(retries, fetcher, config.fetch)
    for article_id, article in outcome.articles:
        store.record_page_retry(article_id, article)
    for article_id in outcome.failed:
        store.record_page_retry(article_id, None)
    tally.pages_recovered += len(outcome.articles)
    record(store, run_id, outcome.errors, tally)
    get_run_logger().info("%d of %d summary-only articles now have their page", len(outcome.articles), len(retries))


def nlp_stream(store: Store, config: Config, run_id: str, tally: Tally, submit: Any) -> NlpStream:
    """Bounded NLP in flight; each finished chunk is saved here, by the flow (the only writer)."""

    def save(rows: list[tuple[str, str, str | None]], results: list[AnalysedArticle]) -> None:
        tally.new_statements += store.save_analyses(results, EXTRACTOR_VERSION)
        tally.articles_analysed += len(results)
        report("nlp", tally.articles_analysed, max(tally.articles_analysed, tally.new_articles))

    def fallback(rows: list[tuple[str, str, str | None]]) -> list[AnalysedArticle]:
        return analyse_or_skip(rows, config, run_id, store, tally, stream.skipped)

    # Without the model nothing can be analysed: the run says so instead of blaming every article.
    fatal = (ModelNotInstalled, ImportError)
    stream = NlpStream(submit, save, fallback, chunk_size(config), max_in_flight(config), fatal)
    return stream


def analyze_pending(store: Store, config: Config, run_id: str, tally: Tally, stream: NlpStream) -> None:
    """Attribute statements in every article not yet analysed by this extractor version.

    The articles of this run are already in ``stream``; articles stored by a
    run that was killed before this step are picked up here too. A chunk
    that fails is analysed article by article, so one hostile document is
    recorded and skipped (until the next run) alone.
    """
    stream.drain()
    while True:
        pending = store.articles_to_process(EXTRACTOR_VERSION, stream.chunk * stream.depth + len(stream.skipped))
        rows = [row for row in pending if row[0] not in stream.skipped and row[0] not in stream.ids]
        if not rows:
            break
        stream.add(rows, flush=True)
        stream.drain()


def analyse_or_skip(
    rows: list[tuple[str, str, str | None]], config: Config, run_id: str, store: Store, tally: Tally, skipped: set[str]
) -> list[AnalysedArticle]:
    """The batch's analyses; when the batch fails, each article alone, recording the ones that fail."""
    try:
        return analyze_articles(rows, config.nlp, config.topics)
    except (ModelNotInstalled, ImportError):
        raise  # nothing can be analysed: the run says so instead of blaming every article
    except Exception:
        results = []
        for row in rows:
            try:
                results += analyze_articles([row], config.nlp, config.topics)
            except Exception as exc:
                skipped.add(row[0])
                record(store, run_id, [FetchErrorRecord("nlp", type(exc).__name__, f"article {row[0]}: {exc}")], tally)
        return results


def record(store: Store, run_id: str, errors: Sequence[FetchErrorRecord], tally: Tally) -> None:
    store.record_errors(run_id, errors)
    tally.errors += len(errors)


def finish(store: Store, run_id: str, config: Config, tally: Tally) -> Any:
    """Completed (with a warning when errors were recorded), or Failed when nothing could be done."""
    logger = get_run_logger()
    nothing_done = tally.feeds_failed > 0 and not tally.anything_done
    status = "failed" if nothing_done else ("completed_with_errors" if tally.errors else "completed")
    message = f"every feed polled failed ({tally.feeds_failed})" if nothing_done else ""
    if tally.backed_off:
        message = "; ".join(filter(None, [message, backed_off_note(tally.backed_off)]))
    summary = RunSummary(
        run_id, tally.feeds_polled, tally.new_articles, tally.new_statements, tally.errors, status, message
    )
    store.finish_run(summary)
    result = {
        "run_id": run_id, "status": status, "feeds_polled": tally.feeds_polled, "feeds_failed": tally.feeds_failed,
        "new_articles": tally.new_articles, "pages_recovered": tally.pages_recovered,
        "new_statements": tally.new_statements, "errors": tally.errors, "database": store.describe(),
        "feeds_backed_off": [{"name": name, "next_attempt": when.isoformat()} for name, when in tally.backed_off],
    }  # fmt: skip
    if nothing_done:
        # The state's data is an exception, as Prefect expects of a failed run; the CLI prints it in one line.
        recorded = f"{tally.errors} error{'' if tally.errors == 1 else 's'}"
        reason = (
            f"nothing could be processed: {message} ({recorded} recorded in fetch_errors:"
            f" saidwhat status --errors --run {run_id})"
        )
        return Failed(message=reason, data=NothingProcessed(reason))
    if tally.errors:
        logger.warning(
            "run %s finished with %d recorded error%s (saidwhat status --errors --run %s lists them)",
            run_id, tally.errors, "" if tally.errors == 1 else "s", run_id,
        )  # fmt: skip
    return Completed(message=status, data=result)


def backed_off_note(feeds: Sequence[tuple[str, datetime]]) -> str:
    """One line naming the skipped feeds and when each is tried again."""
    named = ", ".join(f"{name} (next attempt {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC)" for name, when in feeds)
    return f"skipped {len(feeds)} feed{'s' if len(feeds) != 1 else ''} backed off after failures: {named}"


@contextmanager
def cancelled_on_stop(store: Store, run_id: str) -> Iterator[None]:
    """A run stopped by SIGTERM or SIGINT is recorded as ``cancelled``, with the signal as its message.

    Recorded first, before the fetcher and the NLP workers are shut down, so
    the record is there even if that shutdown is cut short. The work in flight
    is abandoned: the next run redoes it (see `analyze_pending`).
    """
    try:
        yield
    except BaseException as exc:
        signum = stop_signal_of(exc)
        if signum is not None:
            try:
                store.cancel_run(run_id, f"stopped by {signal_name(signum)}")
            except Exception as failure:  # the stop goes on: the next run marks this one interrupted
                get_run_logger().warning("run %s could not be recorded as cancelled: %s", run_id, failure)
        raise


@contextmanager
def one_ingest_at_a_time(store: Store, feed_urls: Sequence[str] = ()) -> Iterator[None]:
    """Overlapping runs queue, then give up in one clear line after the lock patience.

    A deployment's run (`saidwhat serve`, or a worker) takes the Prefect
    global concurrency limit ``saidwhat-ingest`` that `serve` creates, so
    runs queue across workers; an exclusive lock file next to the database
    always does so on this machine, with or without Prefect.

    On the DuckLake backend the lock is per feed (PostgreSQL advisory locks,
    across machines): runs on different feed groups go on together, so the
    global Prefect limit is not taken there.
    """
    patience = store.db.lock_patience_seconds
    with ExitStack() as stack:
        per_feed = store.db.run_lock_per_feed
        if PREFECT_API_URL.value() and prefect_deployment.id and not per_feed:  # a run of `saidwhat serve`
            from prefect.concurrency.sync import concurrency

            try:
                stack.enter_context(
                    concurrency(INGEST_CONCURRENCY_LIMIT, occupy=1, timeout_seconds=patience, strict=False)
                )
            except TimeoutError:
                raise DatabaseLocked(
                    f"another ingest run holds the Prefect concurrency limit {INGEST_CONCURRENCY_LIMIT!r};"
                    f" waited {patience:g}s: try again when it has finished"
                ) from None
        stack.enter_context(store.exclusive_run(patience, feed_urls))
        yield


def batched(items: Sequence[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
