"""From a feed item and its page (or not) to the Article record: identity, text hash, summary fallback."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from saidwhat.core.records import Article, ExtractedPage, FeedItem, FeedSpec, FetchErrorRecord, TextSource
from saidwhat.extract.html import ExtractionFailed, extract_page, summary_text


def article_id_for(identity: str) -> str:
    """The article's id: a hash of its identity (the canonical URL, see feeds.item_identity)."""
    return hashlib.sha1(identity.encode("utf-8")).hexdigest()[:16]


def text_hash(text: str) -> str:
    """A hash of the text with whitespace runs made one space: the same story at two URLs has the same hash."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def build_article(
    item: FeedItem, spec: FeedSpec, identity: str, url: str | None, page: ExtractedPage | None,
    error: FetchErrorRecord | None,
) -> Article | None:  # fmt: skip
    """The article for an item: the page text when extracted, else the feed's title and summary.

    ``identity`` is the story's identity (feeds.item_identity of ``url``); ``error``
    is why there is no page, recorded as the fallback reason. None when there is
    neither a page nor a summary.
    """
    if page is not None:
        text, source, reason = page.text, TextSource.PAGE, None
    else:
        text = summary_text(item.title, item.summary)
        source, reason = TextSource.FEED_SUMMARY, (error.message if error else "page not fetched")
        if not text:
            return None
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
        text_hash=text_hash(text),
        fallback_reason=reason,
    )


def article_from_page(
    item: FeedItem, spec: FeedSpec, identity: str, url: str | None, content: str | bytes | None,
    final_url: str | None, error: FetchErrorRecord | None,
) -> tuple[Article | None, FetchErrorRecord | None]:  # fmt: skip
    """Extract a downloaded page (``content``, None when the download failed with ``error``) into the article.

    Returns the article and the error that made it fall back to the feed summary, if any.
    """
    page = None
    if content is not None:
        try:
            page = extract_page(content, final_url)
        except ExtractionFailed as exc:
            error = FetchErrorRecord("extract", "ExtractionFailed", str(exc), spec.url, url)
        except Exception as exc:  # one hostile page must never take the batch down with it
            error = FetchErrorRecord("extract", type(exc).__name__, f"{url}: {exc}", spec.url, url)
    return build_article(item, spec, identity, url, page, error), error
