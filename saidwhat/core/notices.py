"""Things a long operation says while it waits, for whoever presents them (the CLI).

The storage layer knows nothing of terminals; it announces here that it has
started waiting for the database, and the CLI prints one line about it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

# (database path, seconds it will wait at most, what waits: "read", "write" or "run" (another ingest's run lock))
LockWaitListener = Callable[[Path, float, str], None]

_listeners: list[LockWaitListener] = []
_lock = threading.Lock()


def on_lock_wait(listener: LockWaitListener) -> Callable[[], None]:
    """Call ``listener`` whenever a wait for the database lock begins; returns a function that stops it."""
    with _lock:
        _listeners.append(listener)

    def remove() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return remove


def lock_wait_began(path: Path, patience_seconds: float, kind: str) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(path, patience_seconds, kind)
