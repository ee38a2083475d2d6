"""Google News item links are redirect pages; decode them to the publisher's URL.

Decoding takes two requests: the article's ``/rss/articles/{id}`` page, which
carries a signature and a timestamp, then a ``batchexecute`` POST that
answers with the publisher's URL. googlenewsdecoder knows the formats; its
parsing is used here, but the two requests go through the caller's HTTP
session (the project's ``Fetcher``), so that decoding respects the per-host
limit, robots.txt, the total deadline and the retry policy like every other
request, instead of the decoder's own HTTP client.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

from saidwhat.core.errors import LinkNotResolved


class NotDecoded(Exception):
    """The Google News link could not be turned into the publisher's URL."""


class HttpSession(Protocol):
    """The two requests decoding needs; ``saidwhat.fetch.Fetcher`` provides them.

    Both raise an exception (a ``FetchError``) when there is no usable answer.
    """

    def get_text(self, url: str) -> str: ...

    def post_form(self, url: str, body: str) -> str: ...


GOOGLE_NEWS = "https://news.google.com"


def is_google_news_link(url: str) -> bool:
    return urlsplit(url).netloc.lower() == "news.google.com"


def decode_google_news_link(url: str, session: HttpSession, base_url: str = GOOGLE_NEWS) -> str:
    """The publisher's URL behind a Google News article link.

    A failed request raises the session's own error (a ``FetchError``, recorded
    as such); an answer that cannot be understood raises ``NotDecoded``.
    ``base_url`` is where Google News answers (the tests serve it on 127.0.0.1).
    """
    try:
        from googlenewsdecoder._parse import (
            BATCHEXECUTE_URL,
            article_id,
            build_batchexecute_body,
            params_page_url,
            parse_batchexecute,
            parse_signature,
        )
    except ImportError as exc:  # its parsing module moved: say which version works instead of failing the batch
        raise NotDecoded(
            f"googlenewsdecoder cannot be used ({exc}): pip install 'googlenewsdecoder>=0.2.1,<0.3'"
        ) from None

    art_id = article_id(url)
    if not art_id:
        raise NotDecoded("not a Google News article link (no /articles/ or /read/ id)")
    page = session.get_text(_at(base_url, params_page_url(art_id, url)))
    signature = parse_signature(page)
    if signature is None:
        raise NotDecoded("the article page has no decoding signature (Google changed its format?)")
    sig, timestamp = signature
    answer = session.post_form(
        _at(base_url, BATCHEXECUTE_URL), build_batchexecute_body([("0", art_id, timestamp, sig)])
    )
    try:
        pairs = parse_batchexecute(answer)
    except (json.JSONDecodeError, IndexError, TypeError, KeyError, ValueError) as exc:
        raise NotDecoded(f"batchexecute answer not understood ({type(exc).__name__}: {exc})") from None
    urls = [decoded for request_id, decoded in pairs if request_id in (None, "0") and decoded]
    if not urls or not str(urls[0]).startswith(("http://", "https://")):
        raise NotDecoded("no decoded URL in the batchexecute answer")
    return str(urls[0])


def _at(base_url: str, google_url: str) -> str:
    """``google_url`` (on news.google.com) with its scheme and host replaced by ``base_url``'s."""
    parts = urlsplit(google_url)
    return base_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


def google_news_resolver(session: HttpSession) -> Callable[[str], str]:
    """A resolver for fetch.download_pages: Google News links become the publisher's URL, others stay."""

    def resolve(url: str) -> str:
        if not is_google_news_link(url):
            return url
        try:
            return decode_google_news_link(url, session)
        except Exception as exc:  # NotDecoded, or the session's own error (a FetchError): recorded, never fatal
            raise LinkNotResolved(type(exc).__name__, f"Google News link not decoded: {exc}") from None

    return resolve
