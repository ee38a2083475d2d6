"""Page downloading: many items' pages fetched in threads, handed back as each download completes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from saidwhat.core.errors import LinkNotResolved
from saidwhat.core.records import FeedItem, FeedSpec, FetchErrorRecord
from saidwhat.fetch.client import Fetcher, Response
from saidwhat.fetch.errors import FetchError

# A link that must be turned into the publisher's address first (a Google News link);
# returns the address to fetch, raises with a message to record when it cannot.
Resolver = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class PageDownload:
    """An item's page as fetched (or why not), before extraction."""

    index: int  # the item's position in the list given to download_pages
    item: FeedItem
    spec: FeedSpec
    url: str | None  # the address fetched (after resolving), None when the item has no link
    response: Response | None = None
    error: FetchErrorRecord | None = None


def download_pages(
    items: Sequence[tuple[FeedItem, FeedSpec]], fetcher: Fetcher, threads: int, resolve: Resolver | None = None
) -> Iterator[PageDownload]:
    """Download each item's page in ``threads`` threads; yield each download as it completes.

    Downloads wait on the network, so they run in threads; the caller handles
    (extracts) each one in its own thread as soon as it is there, so a slow page
    never holds up the others. Failures are downloads with an ``error``.
    """
    pool = ThreadPoolExecutor(max_workers=max(1, threads))
    try:
        futures = [
            pool.submit(download_page, index, item, spec, fetcher, resolve) for index, (item, spec) in enumerate(items)
        ]
        for future in as_completed(futures):
            yield future.result()
    finally:
        # Every download has finished unless the caller stopped early (the run is being stopped):
        # then the queued ones are dropped and the ones in flight are not waited for.
        pool.shutdown(wait=False, cancel_futures=True)


def download_page(
    index: int, item: FeedItem, spec: FeedSpec, fetcher: Fetcher, resolve: Resolver | None = None
) -> PageDownload:
    """One item's page, or the error that prevented it (never raises for a network failure)."""
    url = item.url
    if not url:
        error = FetchErrorRecord("page", "NoLink", "feed item has no link", spec.url)
        return PageDownload(index, item, spec, None, error=error)
    if resolve is not None:
        try:
            url = resolve(url)
        except LinkNotResolved as exc:
            error = FetchErrorRecord("resolve", exc.error_class, str(exc), spec.url, url)
            return PageDownload(index, item, spec, item.url, error=error)
        except Exception as exc:  # one hostile link must never take the batch down with it
            error = FetchErrorRecord("resolve", type(exc).__name__, str(exc), spec.url, url)
            return PageDownload(index, item, spec, item.url, error=error)
    try:
        return PageDownload(index, item, spec, url, response=fetcher.get_page(url))
    except FetchError as exc:
        error = FetchErrorRecord("page", type(exc).__name__, str(exc), spec.url, url)
        return PageDownload(index, item, spec, url, error=error)
