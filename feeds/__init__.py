"""Feed parsing, URL identity and the feed back-off policy: bytes of a feed in, FeedItem records out."""

from saidwhat.feeds.backoff import feed_backoff, is_due
from saidwhat.feeds.parse import FeedParseError, ParsedFeed, parse_feed
from saidwhat.feeds.urls import canonical_url, item_identity

__all__ = ["FeedParseError", "ParsedFeed", "canonical_url", "feed_backoff", "is_due", "item_identity", "parse_feed"]
