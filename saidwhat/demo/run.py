"""What the demo feeds are: every route under /feeds/ in the sample corpus."""

from __future__ import annotations

import feedparser

from saidwhat.core.records import FeedSpec
from saidwhat.demo.server import LocalSite, Route


def demo_feeds(site: LocalSite) -> list[FeedSpec]:
    feeds = []
    for path, route in sorted(site.routes.items()):
        if not path.startswith("/feeds/") or not isinstance(route, Route):
            continue
        title = feedparser.parse(route.body).feed.get("title") or path.rsplit("/", 1)[-1]
        feeds.append(FeedSpec(name=path.rsplit("/", 1)[-1].rsplit(".", 1)[0], url=site.url(path), publisher=title))
    return feeds
