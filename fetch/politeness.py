"""Per-host politeness: a concurrency limit and a minimum delay between requests.

The flow fetches pages from a thread pool, so every method here is thread-safe.
A host's delay grows with its robots.txt ``Crawl-delay`` and is pushed back by a
``Retry-After`` answer, for every thread at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# A robots.txt asking for more than this between requests is capped: an hourly
# job would otherwise never get through a feed's pages.
MAX_CRAWL_DELAY = 30.0


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


@dataclass
class _Host:
    slots: threading.Semaphore
    delay: float
    next_start: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class HostGate:
    """At most ``concurrency`` requests in flight per host, starts at least ``min_delay`` apart."""

    def __init__(
        self,
        concurrency: int,
        min_delay: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.concurrency = max(1, concurrency)
        self.min_delay = max(0.0, min_delay)
        self._clock = clock
        self._sleep = sleep
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    def _host(self, url: str) -> _Host:
        key = host_of(url)
        with self._lock:
            host = self._hosts.get(key)
            if host is None:
                host = self._hosts[key] = _Host(threading.Semaphore(self.concurrency), self.min_delay)
            return host

    def set_crawl_delay(self, url: str, seconds: float) -> None:
        """Honour a robots.txt Crawl-delay (capped) for the host of ``url``."""
        host = self._host(url)
        with host.lock:
            host.delay = max(self.min_delay, min(seconds, MAX_CRAWL_DELAY))

    def defer(self, url: str, seconds: float) -> None:
        """No request to this host for ``seconds`` (a Retry-After answer)."""
        host = self._host(url)
        with host.lock:
            host.next_start = max(host.next_start, self._clock() + seconds)

    def delay_of(self, url: str) -> float:
        return self._host(url).delay

    @contextmanager
    def slot(self, url: str) -> Iterator[None]:
        """Hold one of the host's slots, starting no sooner than its delay allows."""
        host = self._host(url)
        host.slots.acquire()
        try:
            with host.lock:
                now = self._clock()
                start = max(now, host.next_start)
                host.next_start = start + host.delay
            if start > now:
                self._sleep(start - now)
            yield
        finally:
            host.slots.release()
