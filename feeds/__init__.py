"""Feed parsing and URL identity: bytes of a feed in, FeedItem records out."""

from feeds.parse import FeedParseError, ParsedFeed, parse_feed
from feeds.urls import canonical_url

__all__ = ["FeedParseError", "ParsedFeed", "canonical_url", "parse_feed"]
