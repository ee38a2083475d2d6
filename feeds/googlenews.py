"""Google News item links are redirect pages; decode them to the publisher's URL."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit


class NotDecoded(Exception):
    """The Google News link could not be turned into the publisher's URL."""


def is_google_news_link(url: str) -> bool:
    return urlsplit(url).netloc.lower() == "news.google.com"


def decode_google_news_link(url: str, timeout: float = 10.0) -> str:
    """The publisher's URL behind a Google News article link (needs the network)."""
    from googlenewsdecoder import gnewsdecoder

    try:
        result = gnewsdecoder(url, timeout=timeout)
    except Exception as exc:  # the decoder wraps several HTTP and parsing libraries
        raise NotDecoded(f"{type(exc).__name__}: {exc}") from None
    if not isinstance(result, dict) or not result.get("status") or not result.get("decoded_url"):
        message = result.get("message", "no URL returned") if isinstance(result, dict) else "no URL returned"
        raise NotDecoded(str(message))
    return str(result["decoded_url"])


def google_news_resolver(timeout: float) -> Callable[[str], str]:
    """A resolver for fetch.download_pages: Google News links become the publisher's URL, others stay."""

    def resolve(url: str) -> str:
        if not is_google_news_link(url):
            return url
        try:
            return decode_google_news_link(url, timeout=timeout)
        except NotDecoded as exc:
            raise NotDecoded(f"Google News link not decoded: {exc}") from None

    return resolve
