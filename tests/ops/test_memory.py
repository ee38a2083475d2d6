"""Memory stays bounded on hostile input: measured as the peak RSS of a child process that
fetches, parses and extracts decompression bombs, oversized bodies and entity bombs."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from saidwhat.demo.server import Route

from .publishers import FaultySite, Raw
from .test_hostile_feeds import billion_laughs, quadratic_blowup

ROOT = Path(__file__).resolve().parents[2]
MAX_BODY = 1_000_000
# Peak RSS growth allowed while processing everything below, on top of the imports.
LIMIT_MB = 150

CHILD = r"""
import json, resource, sys
from dataclasses import replace
from saidwhat.flows.tasks import articles_for, poll_feed
from saidwhat.fetch import Fetcher, RetryPolicy
from saidwhat.config import FetchSettings
from saidwhat.core.records import FeedItem, FeedSpec
import extract, feeds, trafilatura  # everything imported before the baseline

base, paths = sys.argv[1], sys.argv[2:]
settings = replace(FetchSettings(), max_body_bytes=MAX_BODY, per_host_delay_seconds=0.0, read_timeout=5.0,
                   resolve_google_news=False)
def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
baseline = peak_mb()
outcomes = {}
with Fetcher(settings, retry=RetryPolicy(attempts=1)) as fetcher:
    for path in paths:
        spec = FeedSpec(path, base + path, "p")
        if path.endswith(".xml"):
            poll = poll_feed.fn(spec, None, fetcher, 100)
            outcomes[path] = poll.error.error_class if poll.error else f"{len(poll.items)} items"
            if not poll.error:
                outcomes[path] += f", longest summary {max(len(i.summary or '') for i in poll.items)}"
        else:
            item = FeedItem(spec.url, path, base + path, "t", "s", None)
            ((article, error),) = articles_for([(item, spec)], fetcher, settings)
            outcomes[path] = error.error_class if error else article.text_source.value
print(json.dumps({"baseline_mb": baseline, "peak_mb": peak_mb(), "outcomes": outcomes}))
""".replace("MAX_BODY", str(MAX_BODY))


def test_peak_memory_stays_bounded_on_hostile_input():
    bomb = gzip.compress(b"\0" * 200_000_000, compresslevel=9)  # 200 MB of zeros in ~200 kB
    paragraph = b"<p>" + b"The council met again to discuss the harbour wall and its cost. " * 20 + b"</p>"
    routes = {
        "/gzip-bomb": Raw(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n" + bomb
        ),
        "/endless": Raw(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n" + b"<p>a</p>" * 4_000_000
        ),
        "/declared-huge": Route(b"<p>x</p>" * 1_000_000),
        "/largest-allowed": Route(b"<html><body><article>" + paragraph * 650 + b"</article></body></html>"),
        "/deep": Route(b"<html><body>" + b"<div>" * 60_000 + b"deep" + b"</div>" * 60_000 + b"</body></html>"),
        "/laughs.xml": Route(billion_laughs(), "application/rss+xml"),
        "/quadratic.xml": Route(quadratic_blowup(60_000), "application/rss+xml"),
    }
    assert len(routes["/largest-allowed"].body) < MAX_BODY and len(routes["/deep"].body) < MAX_BODY
    with FaultySite(routes).start() as site:
        child = subprocess.run(
            [sys.executable, "-c", CHILD, site.base_url, *routes],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert child.returncode == 0, child.stderr[-3000:]
    report = json.loads(child.stdout.strip().splitlines()[-1])
    outcomes = report["outcomes"]
    assert outcomes["/gzip-bomb"] == "BodyTooLarge"
    assert outcomes["/endless"] == "BodyTooLarge"
    assert outcomes["/declared-huge"] == "BodyTooLarge"
    assert outcomes["/largest-allowed"] == "page"
    assert outcomes["/deep"] in ("ExtractionFailed", "page")
    for feed in ("/laughs.xml", "/quadratic.xml"):
        assert "items" in outcomes[feed] and int(outcomes[feed].rsplit(" ", 1)[1]) < 300_000, outcomes[feed]
    growth = report["peak_mb"] - report["baseline_mb"]
    print(f"peak RSS {report['peak_mb']:.0f} MB, growth over imports {growth:.0f} MB (limit {LIMIT_MB} MB)")
    assert growth < LIMIT_MB, report
