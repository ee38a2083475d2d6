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


def demo_fetch_settings(site: LocalSite) -> dict[str, object]:
    """The [fetch] settings a run over the demo site needs: no politeness delay, and the site's
    server as the proxy that answers for its host name."""
    return {"per_host_delay_seconds": 0.0, "proxy": site.proxy_url}
