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

from saidwhat.fetch.errors import FetchError

MAX_ROBOTS_BYTES = 512_000

# (status, body) of GET <host>/robots.txt; raises FetchError when there is no answer.
RobotsGetter = Callable[[str], tuple[int, bytes]]


@dataclass(frozen=True, slots=True)
class RobotsRules:
    parser: RobotFileParser | None  # None: a blanket rule, see allow_all
    allow_all: bool = True
    reason: str = ""
    delays: tuple[tuple[str, float], ...] = ()  # (user-agent token, Crawl-delay); "*" for everyone

    def allows(self, user_agent: str, url: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return self.parser.can_fetch(user_agent, url)

    def crawl_delay(self, user_agent: str) -> float | None:
        """The Crawl-delay of the group naming our agent, else of ``*`` (fractions allowed)."""
        token = user_agent.split("/")[0].lower()
        default = None
        for agent, delay in self.delays:
            if agent == "*":
                default = delay if default is None else default
            elif agent in token:
                return delay
        return default


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


def parse_robots(status: int, body: bytes) -> RobotsRules:
    if 200 <= status < 300:
        lines = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace").splitlines()
        parser = RobotFileParser()
        parser.parse(lines)
        return RobotsRules(parser, delays=_crawl_delays(lines))
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


def _crawl_delays(lines: list[str]) -> tuple[tuple[str, float], ...]:
    """Crawl-delay per user-agent group; urllib.robotparser only understands whole seconds."""
    delays: list[tuple[str, float]] = []
    agents: list[str] = []
    in_rules = False
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (part.strip() for part in line.split(":", 1))
        key = key.lower()
        if key == "user-agent":
            if in_rules:
                agents, in_rules = [], False
            agents.append(value.lower())
        else:
            in_rules = True
            if key == "crawl-delay":
                try:
                    seconds = float(value)
                except ValueError:
                    continue
                if seconds >= 0:
                    delays += [(agent, seconds) for agent in agents]
    return tuple(delays)
