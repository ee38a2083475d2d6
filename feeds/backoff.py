"""When a failing feed is polled again: the feed back-off policy."""

from __future__ import annotations

from datetime import datetime, timedelta


def feed_backoff(consecutive_failures: int) -> timedelta:
    """Pause after the n-th failure in a row: 2, 4, 8 ... minutes, at most a day."""
    return timedelta(minutes=min(24 * 60, 2 ** min(max(consecutive_failures, 0), 11)))


def is_due(next_poll_after: datetime | None, now: datetime) -> bool:
    """A feed never polled or not backed off is due; a backed-off one once its pause has passed."""
    return next_poll_after is None or next_poll_after <= now
