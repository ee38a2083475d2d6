"""Canonical URLs: one identity for the variants of a story's address."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import courlan


def canonical_url(url: str) -> str:
    """The identity of an article URL.

    courlan drops tracking parameters and fragments and normalises case and
    ports; on top of that the scheme, a leading ``www.`` and a trailing slash
    are treated as the same story. The result is a key, not an address to
    fetch: ``https`` is assumed even for ``http`` links.
    """
    try:
        normalized = courlan.normalize_url(url.strip(), strict=True, trailing_slash=False)
    except (ValueError, AttributeError):
        normalized = url.strip()
    parts = urlsplit(normalized)
    host = parts.netloc.lower().removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("https", host, path, parts.query, ""))


def item_identity(feed_url: str, guid: str, url: str | None) -> str:
    """The identity of a feed item's story: its canonical URL, or the feed and GUID when it has no link."""
    return canonical_url(url) if url else f"urn:item:{feed_url}#{guid}"
