"""robots.txt, fetched once per host and run, with the RFC 9309 status conventions.

- 2xx: the rules apply (with their Crawl-delay);
- 4xx (no robots.txt): everything is allowed;
- 5xx: the site is treated as fully disallowed for this run;
- a network failure fetching robots.txt: allowed (the page fetch will fail
  on its own if the host is really down).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from fetch.errors import FetchError

MAX_ROBOTS_BYTES = 512_000

# (status, body) of GET <host>/robots.txt; raises FetchError when there is no answer.
RobotsGetter = Callable[[str], tuple[int, bytes]]


@dataclass(frozen=True, slots=True)
class RobotsRules:
    parser: RobotFileParser | None  # None: a blanket rule, see allow_all
    allow_all: bool = True
    reason: str = ""

    def allows(self, user_agent: str, url: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return self.parser.can_fetch(user_agent, url)

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        try:
            return float(delay) if delay is not None else None
        except (TypeError, ValueError):
            return None


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


def parse_robots(status: int, body: bytes) -> RobotsRules:
    if 200 <= status < 300:
        parser = RobotFileParser()
        parser.parse(body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace").splitlines())
        return RobotsRules(parser)
    if 400 <= status < 500:
        return RobotsRules(None, allow_all=True, reason=f"robots.txt answered {status}: all allowed")
    return RobotsRules(None, allow_all=False, reason=f"robots.txt answered {status}: site unavailable, nothing fetched")


class RobotsCache:
    """The rules of each host, fetched at most once per cache (one cache per run)."""

    def __init__(self, get: RobotsGetter) -> None:
        self._get = get
        self._rules: dict[str, RobotsRules] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def rules_for(self, url: str) -> RobotsRules:
        key = robots_url(url)
        with self._lock:
            if key in self._rules:
                return self._rules[key]
            host_lock = self._locks.setdefault(key, threading.Lock())
        with host_lock:  # one fetch per host even when many threads ask at once
            with self._lock:
                if key in self._rules:
                    return self._rules[key]
            try:
                status, body = self._get(key)
                rules = parse_robots(status, body)
            except FetchError as exc:
                rules = RobotsRules(None, allow_all=True, reason=f"robots.txt not fetched ({exc}): all allowed")
            with self._lock:
                self._rules[key] = rules
            return rules
