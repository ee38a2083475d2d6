"""The hourly ingest flow: feeds -> articles -> statements in DuckDB.

Read top to bottom, `ingest_once` is the pipeline's story: drain the spool,
poll feeds, select new items, fetch pages (and extract them), store, analyse,
store. Each step is a Prefect task (flows/tasks.py) that calls one layer; every
write is a typed command (storage/commands.py) sent through the `write` task,
so it shows in Prefect's UI as applied or spooled. Storage calls are short
transactions, so an analyst's read connection is never blocked for long and
a crash loses at most the batch in flight, which the next run redoes.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TypeVar

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import deployment as prefect_deployment
from prefect.settings import PREFECT_API_URL
from prefect.states import Completed, Failed

from saidwhat.config import Config, config_for, open_store
from saidwhat.core.errors import NothingProcessed
from saidwhat.core.lifetime import exit_with_parent, signal_name, stop_signal_of
from saidwhat.core.records import FeedItem, FeedSpec, FetchErrorRecord
from saidwhat.feeds import feed_backoff, is_due, item_identity
from saidwhat.fetch import Fetcher
from saidwhat.flows.progress import report
from saidwhat.flows.runners import NlpStream, chunk_size, max_in_flight, nlp_submitter
from saidwhat.flows.tasks import (
    FeedPoll,
    PageRetry,
    analyze_articles,
    drain_spool,
    fetch_articles,
    network_timeout,
    poll_failed,
    poll_feed,
    refetch_pages,
    write,
)
from saidwhat.nlp import EXTRACTOR_VERSION
from saidwhat.nlp.errors import ModelNotInstalled
from saidwhat.storage import Applied, DatabaseLocked, Outcome, SpoolingWriter, StorageError, Store, Writer
from saidwhat.storage.commands import (
    AddArticles,
    CancelRun,
    FinishRun,
    ItemKey,
    LinkKnownSources,
    MarkFeedsPolled,
    RecordErrors,
    RecordFeedFailure,
    RecordPageRetries,
    SaveAnalyses,
    SetConfigAliases,
    StartRun,
    SyncFeeds,
    WriteCommand,
)
from saidwhat.storage.store import AnalysedArticle, FeedCheck, RunSummary

T = TypeVar("T")

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
    drained: int = 0  # commands of earlier runs written by this one
    spooled: int = 0  # commands of this run kept in the spool (the database was held)
    # (feed name, next attempt) of the feeds this run skipped because they are backed off after failures
    backed_off: list[tuple[str, datetime]] = field(default_factory=list)

    @property
    def anything_done(self) -> bool:
        return bool(self.feeds_polled or self.new_articles or self.pages_recovered or self.articles_analysed)


class Run:
    """One ingest run's writes: each command through the `write` task, outcomes tallied."""

    def __init__(self, writer: SpoolingWriter, run_id: str) -> None:
        self.writer, self.run_id, self.tally = writer, run_id, Tally()

    def write(self, command: WriteCommand) -> Outcome:
        outcome = write(self.writer, command)
        if not isinstance(outcome, Applied):
            self.tally.spooled += 1
        return outcome

    def record(self, errors: Sequence[FetchErrorRecord]) -> None:
        if errors:
            self.write(RecordErrors(self.run_id, tuple(errors)))
            self.tally.errors += len(errors)


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
    config = config_for(config_path, db_path, feed_urls=feed_urls, feeds=feeds, fetch_overrides=fetch_overrides)
    store = open_store(config.storage)  # a DuckDB file or a DuckLake ([storage] backend)
    with ExitStack() as held:
        try:
            held.enter_context(one_ingest_at_a_time(store, [feed.url for feed in config.feeds]))
            return ingest_once(store, config)
        except StorageError as exc:  # locked, not a database, newer schema: the state's message, not a traceback
            return Failed(message=str(exc), data=exc)


def ingest_once(store: Store, config: Config) -> Any:
    logger = get_run_logger()
    writer = SpoolingWriter.for_store(store, config.storage.spool_dir)
    run = Run(writer, datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8])
    # First, what earlier runs could not write: everything this run writes comes after it.
    run.tally.drained = drain_spool(writer).written
    run.write(StartRun(run.run_id, tuple(feed.url for feed in config.feeds)))
    run.write(SyncFeeds(config.feeds))
    run.write(SetConfigAliases(config.speaker_aliases))

    with Fetcher(config.fetch) as fetcher, nlp_submitter(config) as submit, cancelled_on_stop(store, run.run_id):
        # The NLP of each fetched batch runs (in worker threads/processes) while the next batch is fetched.
        stream = nlp_stream(run, config, submit)
        polls = poll_all_feeds(store, run, config, fetcher)
        new_items, item_keys = select_new_items(store, polls)
        logger.info("%d new items from %d feeds", len(new_items), run.tally.feeds_polled)
        added: set[str] = set()
        for batch_number, batch in enumerate(batched(new_items, FETCH_BATCH)):
            report("fetch", batch_number * FETCH_BATCH, len(new_items))
            timeout = network_timeout(config.fetch, len(batch))
            fetched = fetch_articles.with_options(timeout_seconds=timeout)(batch, fetcher, config.fetch)
            stored = run.write(AddArticles(fetched.articles))
            # Only articles known to be new are analysed now; spooled ones are analysed by the run that writes them.
            new_ids = set(stored.result) if isinstance(stored, Applied) else set()
            added.update(new_ids)
            stream.add([(a.article_id, a.text, a.title) for a in fetched.articles if a.article_id in new_ids])
            run.record(fetched.errors)
        run.tally.new_articles = len(added)
        report("fetch", len(new_items), len(new_items))
        run.write(LinkKnownSources(tuple(item_keys)))
        # Only now that their items are stored: a crash before this point re-polls the feeds.
        run.write(MarkFeedsPolled(tuple(FeedCheck(p.spec.url, p.etag, p.last_modified, p.body_hash)
                                        for p in polls if p.error is None)))  # fmt: skip
        retry_summary_pages(store, run, config, fetcher, skip=added)
        analyze_pending(store, stream)
    return finish(run, config, store.describe())


def poll_all_feeds(store: Store, run: Run, config: Config, fetcher: Fetcher) -> list[FeedPoll]:
    """Poll the feeds that are due; a failing feed is recorded and backed off, never fatal."""
    logger = get_run_logger()
    states = store.feed_states()
    now = datetime.now(UTC)
    due = [s for s in config.feeds if s.url not in states or is_due(states[s.url].next_poll_after, now)]
    for spec in config.feeds:
        if spec not in due:
            state = states[spec.url]
            run.tally.backed_off.append((spec.name, state.next_poll_after))
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
            run.tally.feeds_polled += 1
            logger.info("feed %s: %s", spec.name, "unchanged" if poll.not_modified else f"{len(poll.items)} items")
        else:
            run.tally.feeds_failed += 1
            state = states.get(spec.url)
            failures = (state.consecutive_failures if state else 0) + 1
            unhealthy_after = config.fetch.unhealthy_after_failures
            run.write(RecordFeedFailure(spec.url, poll.error.message, unhealthy_after, now + feed_backoff(failures)))
            run.record([poll.error])
            logger.warning("feed %s failed (%d in a row%s): %s", spec.name, failures,
                           ", unhealthy" if failures >= unhealthy_after else "", poll.error.message)  # fmt: skip
    return polls


@task(cache_policy=NO_CACHE)
def select_new_items(store: Store, polls: Sequence[FeedPoll]) -> tuple[list[tuple[FeedItem, FeedSpec]], list[ItemKey]]:
    """Items not seen before, by feed GUID or by canonical URL; the first feed wins a shared story.

    Also returns every item's key, so that the items that reached a stored
    story by another feed or URL variant can be linked to it afterwards.
    """
    candidates: dict[str, tuple[FeedItem, FeedSpec]] = {}
    keys: list[ItemKey] = []
    for poll in polls:
        for item in poll.items:
            identity = item_identity(item.feed_url, item.guid, item.url)
            keys.append((item.feed_url, item.guid, item.url or "", identity))
            candidates.setdefault(identity, (item, poll.spec))
    unseen = store.unseen([(feed, guid, identity) for feed, guid, _, identity in keys])
    fresh = {identity for feed, guid, _, identity in keys if (feed, guid) in unseen}
    return [pair for identity, pair in candidates.items() if identity in fresh], keys


def retry_summary_pages(store: Store, run: Run, config: Config, fetcher: Fetcher, skip: set[str]) -> None:
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
    run.write(RecordPageRetries(outcome.articles, outcome.failed))
    run.tally.pages_recovered += len(outcome.articles)
    run.record(outcome.errors)
    get_run_logger().info("%d of %d summary-only articles now have their page", len(outcome.articles), len(retries))


def nlp_stream(run: Run, config: Config, submit: Any) -> NlpStream:
    """Bounded NLP in flight; each finished chunk is saved here, by the flow (the only writer)."""
    tally = run.tally

    def save(rows: list[tuple[str, str, str | None]], results: list[AnalysedArticle]) -> None:
        saved = run.write(SaveAnalyses(tuple(results), EXTRACTOR_VERSION))
        tally.new_statements += saved.result if isinstance(saved, Applied) else 0
        tally.articles_analysed += len(results)
        report("nlp", tally.articles_analysed, max(tally.articles_analysed, tally.new_articles))

    def fallback(rows: list[tuple[str, str, str | None]]) -> list[AnalysedArticle]:
        return analyse_or_skip(rows, config, run, stream.skipped)

    # Without the model nothing can be analysed: the run says so instead of blaming every article.
    fatal = (ModelNotInstalled, ImportError)
    stream = NlpStream(submit, save, fallback, chunk_size(config), max_in_flight(config), fatal)
    return stream


def analyze_pending(store: Store, stream: NlpStream) -> None:
    """Attribute statements in every article not yet analysed by this extractor version.

    The articles of this run are already in ``stream``; articles stored by a
    run that was killed before this step, or from the spool, are picked up
    here too. A chunk that fails is analysed article by article, so one
    hostile document is recorded and skipped (until the next run) alone.
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
    rows: list[tuple[str, str, str | None]], config: Config, run: Run, skipped: set[str]
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
                run.record([FetchErrorRecord("nlp", type(exc).__name__, f"article {row[0]}: {exc}")])
        return results


def finish(run: Run, config: Config, database: str) -> Any:
    """Completed (with a warning when errors were recorded), or Failed when nothing could be done."""
    logger = get_run_logger()
    tally = run.tally
    nothing_done = tally.feeds_failed > 0 and not tally.anything_done
    status = "failed" if nothing_done else ("completed_with_errors" if tally.errors else "completed")
    message = f"every feed polled failed ({tally.feeds_failed})" if nothing_done else ""
    if tally.backed_off:
        message = "; ".join(filter(None, [message, backed_off_note(tally.backed_off)]))
    summary = RunSummary(
        run.run_id, tally.feeds_polled, tally.new_articles, tally.new_statements, tally.errors, status, message
    )
    run.write(FinishRun(summary))
    result = {
        "run_id": run.run_id, "status": status, "feeds_polled": tally.feeds_polled,
        "feeds_failed": tally.feeds_failed, "new_articles": tally.new_articles,
        "pages_recovered": tally.pages_recovered, "new_statements": tally.new_statements, "errors": tally.errors,
        "drained": tally.drained, "spooled": tally.spooled, "database": database,
        "feeds_backed_off": [{"name": name, "next_attempt": when.isoformat()} for name, when in tally.backed_off],
    }  # fmt: skip
    if tally.spooled:
        logger.warning("run %s: the database was held; %d writes wait in %s for the next run",
                       run.run_id, tally.spooled, config.storage.spool_dir)  # fmt: skip
    if nothing_done:
        # The state's data is an exception, as Prefect expects of a failed run; the CLI prints it in one line.
        recorded = f"{tally.errors} error{'' if tally.errors == 1 else 's'}"
        reason = (
            f"nothing could be processed: {message} ({recorded} recorded in fetch_errors:"
            f" saidwhat status --errors --run {run.run_id})"
        )
        return Failed(message=reason, data=NothingProcessed(reason))
    if tally.errors:
        logger.warning(
            "run %s finished with %d recorded error%s (saidwhat status --errors --run %s lists them)",
            run.run_id, tally.errors, "" if tally.errors == 1 else "s", run.run_id,
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
    the record is there even if that shutdown is cut short; written directly
    (not spooled: the process is going). The work in flight is abandoned: the
    next run redoes it (see `analyze_pending`).
    """
    try:
        yield
    except BaseException as exc:
        signum = stop_signal_of(exc)
        if signum is not None:
            try:
                Writer(store).write(CancelRun(run_id, f"stopped by {signal_name(signum)}"))
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
