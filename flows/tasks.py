"""Small Prefect tasks, each a call into one layer.

Network tasks declare their retries; the rest are pure functions of their
inputs or single storage calls.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.tasks import exponential_backoff
from saidwhat.extract import ExtractionFailed, extract_page, summary_text
from saidwhat.feeds import FeedParseError, canonical_url, parse_feed
from saidwhat.feeds.googlenews import NotDecoded, decode_google_news_link, is_google_news_link
from saidwhat.fetch import Fetcher, FetchError, Response, TimedOut
from saidwhat.nlp import EXTRACTOR_VERSION
from saidwhat.storage.store import AnalysedArticle, FeedState, FetchErrorRecord, article_id_for

from saidwhat.config import FetchSettings, NlpSettings, TopicSpec
from saidwhat.core.records import Article, FeedItem, FeedSpec, TextSource


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
    return FeedPoll(spec, error=FetchErrorRecord("feed", type(exc).__name__, str(exc), feed_url=spec.url))


@task(retries=1, retry_delay_seconds=5, cache_policy=NO_CACHE, timeout_seconds=NETWORK_TASK_TIMEOUT)
def fetch_articles(
    items: Sequence[tuple[FeedItem, FeedSpec]], fetcher: Fetcher, settings: FetchSettings
) -> FetchedArticles:
    """Fetch and extract each item's page; fall back to the feed summary, recording why."""
    outcomes = _articles_for(items, fetcher, settings)
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

    articles: tuple[tuple[str, Article], ...]
    failed: tuple[str, ...]
    errors: tuple[FetchErrorRecord, ...]


@task(cache_policy=NO_CACHE, timeout_seconds=NETWORK_TASK_TIMEOUT)
def refetch_pages(retries: Sequence[PageRetry], fetcher: Fetcher, settings: FetchSettings) -> RetriedPages:
    """Fetch the pages of summary-only articles again; each attempt is counted by the caller."""
    items = [
        (FeedItem(r.spec.url, r.article_id, r.url, title=None, summary=None, published_at=None), r.spec)
        for r in retries
    ]
    outcomes = [
        (retry, article if error is None else None, error)
        for retry, (article, error) in zip(retries, _articles_for(items, fetcher, settings), strict=True)
    ]
    return RetriedPages(
        articles=tuple((r.article_id, a) for r, a, _ in outcomes if a is not None),
        failed=tuple(r.article_id for r, a, _ in outcomes if a is None),
        errors=tuple(e for _, _, e in outcomes if e is not None),
    )


@dataclass(frozen=True, slots=True)
class _Download:
    """An item's page as fetched (or why not), before extraction."""

    item: FeedItem
    spec: FeedSpec
    url: str | None
    response: Response | None = None
    error: FetchErrorRecord | None = None


def _articles_for(
    items: Sequence[tuple[FeedItem, FeedSpec]], fetcher: Fetcher, settings: FetchSettings
) -> list[tuple[Article | None, FetchErrorRecord | None]]:
    """Each item's article (page text, else feed summary) and the error that made it fall back.

    Pages are downloaded in threads (waiting on the network) and extracted
    one after another in this thread, each as soon as its download completes,
    so a slow page never holds up the others: extraction is CPU work under
    the GIL, and running it in many threads only spreads its allocations over
    more malloc arenas, which grow the process for no speed. The results keep
    the order of ``items``.
    """
    outcomes: list[tuple[Article | None, FetchErrorRecord | None]] = [(None, None)] * len(items)
    pool = ThreadPoolExecutor(max_workers=max(1, settings.per_host_concurrency * 4))
    try:
        futures = {pool.submit(_download, item, spec, fetcher, settings): i for i, (item, spec) in enumerate(items)}
        for future in as_completed(futures):
            outcomes[futures[future]] = _extract(future.result())
    finally:
        # Every download has finished unless the run is being stopped: then the
        # queued ones are dropped and the ones in flight are not waited for.
        pool.shutdown(wait=False, cancel_futures=True)
    return outcomes


def _download(item: FeedItem, spec: FeedSpec, fetcher: Fetcher, settings: FetchSettings) -> _Download:
    url = item.url
    if not url:
        return _Download(item, spec, None, error=FetchErrorRecord("page", "NoLink", "feed item has no link", spec.url))
    if settings.resolve_google_news and is_google_news_link(url):
        try:
            url = decode_google_news_link(url, fetcher)
        except (NotDecoded, FetchError) as exc:
            message = f"Google News link not decoded: {exc}"
            error = FetchErrorRecord("resolve", type(exc).__name__, message, spec.url, url)
            return _Download(item, spec, item.url, error=error)
    try:
        return _Download(item, spec, url, response=fetcher.get_page(url))
    except FetchError as exc:
        return _Download(item, spec, url, error=FetchErrorRecord("page", type(exc).__name__, str(exc), spec.url, url))


def _extract(download: _Download) -> tuple[Article | None, FetchErrorRecord | None]:
    item, spec, url, response, error = download.item, download.spec, download.url, download.response, download.error
    page = None
    if response is not None:
        try:
            page = extract_page(response.text_or_bytes(), response.final_url)
        except ExtractionFailed as exc:
            error = FetchErrorRecord("extract", "ExtractionFailed", str(exc), spec.url, url)
        except Exception as exc:  # one hostile page must never take the batch down with it
            error = FetchErrorRecord("extract", type(exc).__name__, f"{url}: {exc}", spec.url, url)
    return build_article(item, spec, url, page, error), error


def build_article(item, spec, url, page, error) -> Article | None:
    """The article record for an item: page text when extracted, else the feed's title and summary."""
    if page is not None:
        text, source, reason = page.text, TextSource.PAGE, None
    else:
        text = summary_text(item.title, item.summary)
        source, reason = TextSource.FEED_SUMMARY, (error.message if error else "page not fetched")
        if not text:
            return None
    identity = canonical_url(url) if url else f"urn:item:{item.feed_url}#{item.guid}"
    return Article(
        article_id=article_id_for(identity),
        url=url or identity,
        canonical_url=identity,
        feed_url=spec.url,
        guid=item.guid,
        title=(page.title if page and page.title else item.title),
        authors=(page.authors if page and page.authors else item.authors),
        publisher=spec.publisher,
        published_at=item.published_at or (page.published_at if page else None),
        fetched_at=datetime.now(UTC),
        text=text,
        text_source=source,
        text_hash=hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest(),
        fallback_reason=reason,
    )


@task(cache_policy=NO_CACHE, timeout_seconds=NLP_TASK_TIMEOUT)
def analyze_articles(
    rows: Sequence[tuple[str, str, str | None]], settings: NlpSettings, topics: Sequence[TopicSpec]
) -> list[AnalysedArticle]:
    """Run the spaCy pipeline over (article_id, text, title) rows and tag topics.

    With ``n_process`` >= 2 the rows go to a persistent pool of worker
    processes (see ``flows.runners``); otherwise the model runs here.
    """
    if settings.n_process > 1:
        from saidwhat.flows.runners import analyze_in_pool

        analysed = analyze_in_pool(rows, settings, topics)
    else:
        from saidwhat.nlp.worker import analyze_rows

        analysed = analyze_rows(rows, settings.model, settings.parse, settings.batch_size, topics)
    return [AnalysedArticle(article_id, analysis, tags, evidence) for article_id, analysis, tags, evidence in analysed]


__all__ = [
    "EXTRACTOR_VERSION",
    "FeedPoll",
    "FetchedArticles",
    "PageRetry",
    "RetriedPages",
    "analyze_articles",
    "fetch_articles",
    "network_timeout",
    "poll_feed",
    "refetch_pages",
]
