"""The ingest's Prefect tasks, each a call into one layer.

Network tasks declare their retries; the writes are tasks too, so each batch
written (or spooled) is visible in Prefect's UI with its outcome.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.tasks import exponential_backoff

from saidwhat.config import FetchSettings, NlpSettings, TopicSpec
from saidwhat.core.records import Article, FeedItem, FeedSpec, FetchErrorRecord
from saidwhat.extract import article_from_page
from saidwhat.feeds import FeedParseError, item_identity, parse_feed
from saidwhat.feeds.googlenews import google_news_resolver
from saidwhat.fetch import Fetcher, FetchError, PageDownload, TimedOut, download_pages
from saidwhat.nlp import pool
from saidwhat.storage import DrainReport, Outcome, SpoolingWriter
from saidwhat.storage.commands import WriteCommand
from saidwhat.storage.store import AnalysedArticle, FeedState


@dataclass(frozen=True, slots=True)
class FeedPoll:
    """What polling one feed gave."""

    spec: FeedSpec
    items: tuple[FeedItem, ...] = ()
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    not_modified: bool = False
    error: FetchErrorRecord | None = None


@dataclass(frozen=True, slots=True)
class FetchedArticles:
    articles: tuple[Article, ...]
    errors: tuple[FetchErrorRecord, ...] = field(default=())


# ------------------------------------------------------------------ writes
@task(cache_policy=NO_CACHE, task_run_name="drain the spool")
def drain_spool(writer: SpoolingWriter) -> DrainReport:
    """Write what earlier runs spooled while the database was held, before this run writes anything."""
    return writer.drain()


@task(cache_policy=NO_CACHE, task_run_name="write {command.kind}")
def write(writer: SpoolingWriter, command: WriteCommand) -> Outcome:
    """One write command, applied in one transaction or kept in the spool."""
    return writer.write(command)


# ------------------------------------------------------------------ feeds
def _worth_another_round(exc: FetchError) -> bool:
    """A feed briefly down may answer a little later; one that timed out on every attempt is slow,
    and another round would double the time a run can spend on it (README "Time limits")."""
    return exc.retryable and not isinstance(exc, TimedOut)


def _retry_only_transient(task, task_run, state) -> bool:
    """Retry connection errors, 429 and 5xx; never timeouts, other 4xx or bad content."""
    try:
        state.result()
    except FetchError as exc:
        return _worth_another_round(exc)
    except Exception:
        return False
    return False


# Backstops against a hang the fetch deadlines do not cover (a bug, a stuck library call).
# The network tasks get a budget from the [fetch] settings at the call (see ``network_timeout``).
NETWORK_TASK_TIMEOUT = 3600.0
# One NLP chunk that takes an hour is stuck, not slow.
NLP_TASK_TIMEOUT = 3600.0


class _QuietTimeoutCaveat(logging.Filter):
    """Drop Prefect's warning that a timeout cannot interrupt a blocking call in a worker thread.

    It is logged for every task run with a timeout. The fetch layer's own
    deadlines bound every blocking network call; these timeouts are backstops.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "Timeouts in worker threads cannot interrupt" not in record.getMessage()


logging.getLogger("prefect.task_runs").addFilter(_QuietTimeoutCaveat())


def network_timeout(settings: FetchSettings, requests: int = 1) -> float:
    """Seconds a network task may take for ``requests`` pages (or one feed), everything slow but in time.

    One request: every attempt's total deadline, the backoff between attempts
    and the host's politeness delay. Requests to one host run
    ``per_host_concurrency`` at a time, so in the worst case the pages of a
    batch queue behind each other. Twice that (robots.txt, redirect hops, a
    Retry-After), plus two minutes: a backstop that only a hang reaches.
    With the defaults: 7 minutes for a feed, about 2 hours for a batch of 50 pages.
    """
    attempts = max(1, settings.attempts)
    one = attempts * settings.total_timeout_seconds + (attempts - 1) * settings.backoff_cap_seconds
    one += settings.per_host_delay_seconds
    waves = -(-max(1, requests) // max(1, settings.per_host_concurrency))
    return 2 * waves * one + 120.0


def _task_has_retries_left() -> bool:
    context = TaskRunContext.get()
    return context is not None and context.task_run.run_count <= context.task.retries


@task(
    # The fetcher already retried transient errors (honouring Retry-After); the
    # task tries once more a little later for a server that was briefly down.
    retries=1,
    retry_delay_seconds=exponential_backoff(backoff_factor=5),
    retry_jitter_factor=0.5,
    retry_condition_fn=_retry_only_transient,
    cache_policy=NO_CACHE,
    task_run_name="poll {spec.name}",
    timeout_seconds=NETWORK_TASK_TIMEOUT,
)
def poll_feed(spec: FeedSpec, state: FeedState | None, fetcher: Fetcher, max_items: int | None = None) -> FeedPoll:
    """Conditional GET of a feed; parse it unless it is unchanged.

    A transient failure raises while the task has retries left, so that
    Prefect tries again later; the last one, like any other failure, is
    returned as this poll's error, to be recorded (no traceback in the logs).
    """
    try:
        response = fetcher.get_feed(
            spec.url, etag=state.etag if state else None, last_modified=state.last_modified if state else None
        )
    except FetchError as exc:
        if _worth_another_round(exc) and _task_has_retries_left():
            raise
        return poll_failed(spec, exc)
    if response.not_modified:
        return FeedPoll(spec, not_modified=True)
    body_hash = hashlib.sha256(response.body).hexdigest()
    cache = {"etag": response.etag, "last_modified": response.last_modified, "body_hash": body_hash}
    if state is not None and state.body_hash == body_hash:
        return FeedPoll(spec, not_modified=True, **cache)
    try:
        parsed = parse_feed(spec.url, response.body, response.content_type, max_items=max_items or None)
    except FeedParseError as exc:
        return FeedPoll(spec, error=FetchErrorRecord("feed", "FeedParseError", str(exc), feed_url=spec.url))
    return FeedPoll(spec, items=parsed.items, **cache)


def poll_failed(spec: FeedSpec, exc: BaseException) -> FeedPoll:
    # Some exceptions (a task timeout, a cancelled future) carry no message: their class is the message then.
    message = str(exc) or f"{type(exc).__name__} while polling {spec.url}"
    return FeedPoll(spec, error=FetchErrorRecord("feed", type(exc).__name__, message, feed_url=spec.url))


# ------------------------------------------------------------------ pages
@task(retries=1, retry_delay_seconds=5, cache_policy=NO_CACHE, timeout_seconds=NETWORK_TASK_TIMEOUT)
def fetch_articles(
    items: Sequence[tuple[FeedItem, FeedSpec]], fetcher: Fetcher, settings: FetchSettings
) -> FetchedArticles:
    """Fetch and extract each item's page; fall back to the feed summary, recording why."""
    outcomes = articles_for(items, fetcher, settings)
    articles = tuple(a for a, _ in outcomes if a is not None)
    errors = tuple(e for _, e in outcomes if e is not None)
    return FetchedArticles(articles, errors)


@dataclass(frozen=True, slots=True)
class PageRetry:
    """An article stored from its feed summary whose page is tried again."""

    article_id: str
    url: str
    spec: FeedSpec


@dataclass(frozen=True, slots=True)
class RetriedPages:
    """Page texts that replace feed summaries, and the ids whose page failed again."""

    articles: tuple[Article, ...]  # each with the article_id of the stored article it replaces
    failed: tuple[str, ...]
    errors: tuple[FetchErrorRecord, ...]


@task(cache_policy=NO_CACHE, timeout_seconds=NETWORK_TASK_TIMEOUT)
def refetch_pages(retries: Sequence[PageRetry], fetcher: Fetcher, settings: FetchSettings) -> RetriedPages:
    """Fetch the pages of summary-only articles again; each attempt is counted when written."""
    items = [
        (FeedItem(r.spec.url, r.article_id, r.url, title=None, summary=None, published_at=None), r.spec)
        for r in retries
    ]
    outcomes = [
        (retry, article if error is None else None, error)
        for retry, (article, error) in zip(retries, articles_for(items, fetcher, settings), strict=True)
    ]
    return RetriedPages(
        articles=tuple(replace(a, article_id=r.article_id) for r, a, _ in outcomes if a is not None),
        failed=tuple(r.article_id for r, a, _ in outcomes if a is None),
        errors=tuple(e for _, _, e in outcomes if e is not None),
    )


def articles_for(
    items: Sequence[tuple[FeedItem, FeedSpec]], fetcher: Fetcher, settings: FetchSettings
) -> list[tuple[Article | None, FetchErrorRecord | None]]:
    """Each item's article (page text, else feed summary) and the error that made it fall back, in item order.

    Pages are downloaded in threads (fetch.download_pages) and extracted one
    after another in this thread as each download completes: extraction is
    CPU work under the GIL, and running it in many threads only spreads its
    allocations over more malloc arenas, which grow the process for no speed.
    """
    resolve = google_news_resolver(fetcher) if settings.resolve_google_news else None
    threads = settings.per_host_concurrency * 4
    outcomes: list[tuple[Article | None, FetchErrorRecord | None]] = [(None, None)] * len(items)
    for download in download_pages(items, fetcher, threads, resolve):
        outcomes[download.index] = _article_from(download)
    return outcomes


def _article_from(download: PageDownload) -> tuple[Article | None, FetchErrorRecord | None]:
    item, spec, url, response = download.item, download.spec, download.url, download.response
    identity = item_identity(item.feed_url, item.guid, url)
    content, final_url = (response.text_or_bytes(), response.final_url) if response is not None else (None, None)
    return article_from_page(item, spec, identity, url, content, final_url, download.error)


# ------------------------------------------------------------------ NLP
@task(cache_policy=NO_CACHE, timeout_seconds=NLP_TASK_TIMEOUT)
def analyze_articles(
    rows: Sequence[tuple[str, str, str | None]], settings: NlpSettings, topics: Sequence[TopicSpec]
) -> list[AnalysedArticle]:
    """Run the spaCy pipeline over (article_id, text, title) rows and tag topics (nlp.pool: here or on workers)."""
    analysed = pool.analyze(rows, settings, topics)
    return [AnalysedArticle(article_id, analysis, tags, evidence) for article_id, analysis, tags, evidence in analysed]
