"""Article text, title, authors and date from HTML, with trafilatura."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import trafilatura
from trafilatura.settings import use_config

from saidwhat.core.records import ExtractedPage

# Below this many words a page is a stub (paywall, consent wall, error page)
# and the feed's own summary says more.
MIN_WORDS = 40

# trafilatura's default aborts extraction on a SIGALRM-based timeout, which
# only works in the main thread; the flow extracts in worker threads.
_CONFIG = use_config()
_CONFIG.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")

_AUTHOR_SPLIT = re.compile(r"\s*(?:;|\band\b|&)\s*")


class ExtractionFailed(Exception):
    """The page has no article text worth keeping."""


def extract_page(body: bytes | str, url: str | None = None) -> ExtractedPage:
    """Extract the main text and metadata; raise ExtractionFailed for stubs and non-articles."""
    if isinstance(body, bytes) and b"\x00" in body[:2048]:
        raise ExtractionFailed("binary content, not HTML")
    try:
        document = trafilatura.bare_extraction(
            body,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            favor_precision=True,
            config=_CONFIG,
        )
    except Exception as exc:  # trafilatura raises assorted lxml/parser errors on hostile HTML
        raise ExtractionFailed(f"extraction error: {type(exc).__name__}: {exc}") from None
    text = (getattr(document, "text", None) or "").strip() if document is not None else ""
    words = len(text.split())
    if words < MIN_WORDS:
        raise ExtractionFailed(f"page has {words} words of article text (fewer than {MIN_WORDS})")
    return ExtractedPage(
        text=text,
        title=(document.title or None),
        authors=_authors(document.author),
        published_at=_date(document.date),
        language=getattr(document, "language", None),
    )


def summary_text(title: str | None, summary: str | None) -> str:
    """The text used when the page is unusable: the feed's title and summary."""
    parts = [p.strip() for p in (title, summary) if p and p.strip()]
    if len(parts) == 2 and parts[1].startswith(parts[0]):
        parts = parts[1:]
    return "\n".join(parts)


def _authors(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(a.strip() for a in _AUTHOR_SPLIT.split(value) if a.strip())


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
