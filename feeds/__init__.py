"""Feed parsing and URL identity: bytes of a feed in, FeedItem records out."""

from saidwhat.feeds.parse import FeedParseError, ParsedFeed, parse_feed
from saidwhat.feeds.urls import canonical_url

__all__ = ["FeedParseError", "ParsedFeed", "canonical_url", "parse_feed"]
