"""Turn feed bytes into FeedItem records with feedparser."""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import feedparser

from saidwhat.core.records import FeedItem
from saidwhat.feeds.guard import EntityDeclarations, defuse

# feedparser warns on every entry read that falls back from published to updated: not ours to fix.
warnings.filterwarnings("ignore", message="To avoid breaking existing software", category=DeprecationWarning)

_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
# Clock skew is normal; a date further ahead than this is a publisher's error.
_MAX_FUTURE = timedelta(days=2)


class FeedParseError(Exception):
    """The body is not a usable feed: not RSS/Atom, or malformed with no entries left."""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    items: tuple[FeedItem, ...]
    bozo_reason: str | None  # feedparser's complaint, for a feed kept despite it


def parse_feed(
    feed_url: str, body: bytes, content_type: str = "", now: datetime | None = None, max_items: int | None = None
) -> ParsedFeed:
    """Parse ``body``; a malformed feed is kept when it still yields entries.

    At most ``max_items`` distinct items are returned, in feed order.
    """
    if not body.strip():
        raise FeedParseError("not a usable feed (empty body)")
    try:
        body, defused = defuse(body)
    except EntityDeclarations as exc:
        raise FeedParseError(f"not a usable feed ({exc})") from None
    headers = {"content-type": content_type} if content_type else {}
    # A stream, never bytes: feedparser opens bytes that look like a file name as a local file.
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    bozo_reason = f"{type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}" if parsed.bozo else None
    if defused:
        bozo_reason = f"{defused}; {bozo_reason}" if bozo_reason else defused
    title = parsed.feed.get("title") if hasattr(parsed, "feed") else None
    if not parsed.entries:
        # A well-formed RSS/Atom document with no items is a quiet feed, not a broken one.
        if parsed.get("version") and not parsed.bozo and not defused:
            return ParsedFeed(title=_clean(title), items=(), bozo_reason=None)
        reason = bozo_reason or "no entries, and not a recognised RSS/Atom document"
        raise FeedParseError(f"not a usable feed ({reason})")
    now = now or datetime.now(UTC)
    items: dict[str, FeedItem] = {}
    for entry in parsed.entries:
        item = _item(feed_url, entry, now)
        # Duplicate GUIDs inside one feed: the first entry wins.
        items.setdefault(item.guid, item)
        if max_items is not None and len(items) >= max_items:
            break
    return ParsedFeed(title=_clean(title), items=tuple(items.values()), bozo_reason=bozo_reason)


def _item(feed_url: str, entry: feedparser.FeedParserDict, now: datetime) -> FeedItem:
    link = entry.get("link") or _first_alternate(entry)
    link = link.strip() if isinstance(link, str) and link.strip().startswith(("http://", "https://")) else None
    title = _clean(entry.get("title"))
    summary = _clean(entry.get("summary") or _content(entry))
    guid = entry.get("id") or link or _digest(f"{title}|{summary}")
    authors = tuple(a.get("name", "").strip() for a in entry.get("authors", []) if a.get("name", "").strip())
    if not authors and entry.get("author"):
        authors = (_clean(entry.get("author")) or "",)
    return FeedItem(
        feed_url=feed_url,
        guid=str(guid).strip(),
        url=link,
        title=title,
        summary=summary,
        published_at=_date(entry, now),
        authors=tuple(a for a in authors if a),
    )


def _first_alternate(entry: feedparser.FeedParserDict) -> str | None:
    for link in entry.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link["href"]
    return None


def _content(entry: feedparser.FeedParserDict) -> str | None:
    for content in entry.get("content", []):
        if content.get("value"):
            return content["value"]
    return None


def _date(entry: feedparser.FeedParserDict, now: datetime) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                when = datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, TypeError):
                continue
            return None if when > now + _MAX_FUTURE else when
    return None


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = html.unescape(_TAGS.sub(" ", value))
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text or None


def _digest(value: str) -> str:
    return "sha1:" + hashlib.sha1(value.encode("utf-8")).hexdigest()
