"""When to try a request again: transient failures only, with backoff, jitter and Retry-After."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from saidwhat.fetch.errors import FetchError, HttpStatusError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry connection errors, timeouts, truncated bodies, 429 and 5xx; nothing else.

    The n-th retry waits ``base_delay * 2**(n-1)`` seconds (at most ``max_delay``),
    spread by +/- ``jitter``; a ``Retry-After`` answer is waited for as asked, unless
    it exceeds ``max_retry_after``: then the request is given up for this run
    rather than hammering a server that asked for a long pause.
    """

    attempts: int = 3
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 60.0
    jitter: float = 0.5
    # HTTP statuses worth another try: 429 and every 5xx unless the config narrows it.
    retry_statuses: frozenset[int] = frozenset({429, *range(500, 600)})

    @classmethod
    def from_settings(cls, settings: Any) -> RetryPolicy:
        """The policy of ``[fetch]`` attempts, backoff_base_seconds, backoff_cap_seconds, retry_statuses."""
        defaults = cls()
        statuses = getattr(settings, "retry_statuses", None)
        return cls(
            attempts=max(1, int(getattr(settings, "attempts", defaults.attempts))),
            base_delay=float(getattr(settings, "backoff_base_seconds", defaults.base_delay)),
            max_delay=float(getattr(settings, "backoff_cap_seconds", defaults.max_delay)),
            retry_statuses=defaults.retry_statuses if statuses is None else expand_statuses(statuses),
        )

    def retries_status(self, status: int) -> bool:
        return status in self.retry_statuses

    def delay_before_retry(self, attempt: int, error: FetchError) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None when not to retry."""
        if not error.retryable or attempt >= self.attempts:
            return None
        retry_after = error.retry_after if isinstance(error, HttpStatusError) else None
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            return retry_after + random.uniform(0, self.jitter * 0.1)
        backoff = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return max(0.0, backoff * (1 + random.uniform(-self.jitter, self.jitter)))


def expand_statuses(entries: Any) -> frozenset[int]:
    """HTTP statuses from config entries: numbers (429) and classes ("5xx")."""
    statuses: set[int] = set()
    for entry in entries:
        if isinstance(entry, str) and len(entry) == 3 and entry[0] in "12345" and entry[1:].lower() == "xx":
            first = int(entry[0]) * 100
            statuses.update(range(first, first + 100))
        elif isinstance(entry, int) and not isinstance(entry, bool) and 100 <= entry <= 599:
            statuses.add(entry)
        else:
            raise ValueError(f'{entry!r} is not an HTTP status (e.g. 429) or class (e.g. "5xx")')
    return frozenset(statuses)


def policy_for(settings: Any) -> RetryPolicy:
    """The retry policy a ``Fetcher`` uses for these ``[fetch]`` settings."""
    return RetryPolicy.from_settings(settings)


DEFAULT_POLICY = RetryPolicy()
NO_RETRY = RetryPolicy(attempts=1)


def with_retries(
    call: Callable[[], T],
    policy: RetryPolicy,
    on_wait: Callable[[float, FetchError], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``call()`` until it succeeds or the policy says stop; the last error is raised."""
    attempt = 1
    while True:
        try:
            return call()
        except FetchError as exc:
            wait = policy.delay_before_retry(attempt, exc)
            if wait is None:
                if attempt > 1:
                    exc.attempts = attempt
                raise
            if on_wait is not None:
                on_wait(wait, exc)
            sleep(wait)
            attempt += 1
