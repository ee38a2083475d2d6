"""Writers: apply write commands and say what happened.

``Writer`` applies each command (storage/commands.py) in one transaction and
returns ``Applied(command, result)``; when another process holds the database
past the lock patience it raises DatabaseLocked, a one-line error. The
maintenance commands (`retag`, `reprocess`) use it: they refuse before
writing anything rather than leave half their work in the spool.

``SpoolingWriter`` wraps a Writer in plain sight for the ingest run: a command
that cannot get the lock is kept in the spool (storage/spool.py) and the
answer is ``Spooled(command, file, reason)`` -- never a made-up result. A caller
that needs a result (which articles were new, how many statements were saved)
gets it only from ``Applied``; what was spooled is counted and analysed by the
run that writes it (the next run's drain, then its NLP step for articles
without statements).

Order is kept: once a command has been spooled, every later command of the
same writer goes through the spool first (draining it if the lock is free,
else joining it), so nothing is written before what was spooled ahead of it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saidwhat.storage.commands import WriteCommand
from saidwhat.storage.db import DatabaseLocked
from saidwhat.storage.spool import DrainReport, Spool
from saidwhat.storage.store import Store

log = logging.getLogger("saidwhat.writer")

# After the lock has outlasted the patience once, later commands of the same
# run try only this long before spooling, so a reader that stays for an hour
# costs one full wait per run, not one per batch.
RETRY_PATIENCE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Applied:
    """The command is in the database; ``result`` is what it returned (new article ids, statement count, ...)."""

    command: WriteCommand
    result: Any = None


@dataclass(frozen=True, slots=True)
class Spooled:
    """The database was held: the command waits in ``path`` for the next drain."""

    command: WriteCommand
    path: Path
    reason: str


Outcome = Applied | Spooled


class Writer:
    """Applies commands to the database directly; DatabaseLocked when it is held past the patience."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def write(self, command: WriteCommand) -> Applied:
        return Applied(command, command.apply(self.store))

    def check_free(self, what: str) -> None:
        """Refuse in one line, before anything is written, when another process holds the database."""
        try:
            with self.store.db.write_connection():
                pass
        except DatabaseLocked as exc:
            raise DatabaseLocked(f"{what} wrote nothing: {exc}") from None


class SpoolingWriter:
    """A Writer that keeps commands in the spool while the database is held."""

    def __init__(self, writer: Writer, spool: Spool) -> None:
        self.writer = writer
        self.spool = spool
        self._lock_seen = False
        self._backlog = False  # this writer spooled something that is not written yet

    @classmethod
    def for_store(cls, store: Store, spool_dir: Path | None) -> SpoolingWriter:
        """The writer of an ingest run; the spool is ``spool_dir``, by default ``spool`` beside the database."""
        return cls(Writer(store), Spool(spool_dir, store.path) if spool_dir else Spool.beside(store.path))

    def drain(self) -> DrainReport:
        """Write what earlier runs (or this one) spooled, oldest first; a held database leaves it waiting."""
        try:
            with self._patience():
                report = self.spool.drain(self.writer.write)
        except DatabaseLocked as exc:
            self._lock_seen = self._backlog = True
            waiting = len(self.spool.pending())
            log.warning("%d spooled command(s) wait: %s", waiting, exc)
            return DrainReport(waiting=waiting)
        self._lock_seen = False
        self._backlog = report.waiting > 0
        return report

    def write(self, command: WriteCommand) -> Outcome:
        if self._backlog:
            self.drain()
        if not self._backlog:
            try:
                with self._patience():
                    outcome = self.writer.write(command)
            except DatabaseLocked as exc:
                self._lock_seen = True
                return self._keep(command, str(exc))
            self._lock_seen = False
            return outcome
        return self._keep(command, "commands spooled before it are not written yet")

    def _keep(self, command: WriteCommand, reason: str) -> Spooled:
        path = self.spool.append(command)
        self._backlog = True
        log.warning("%s: %s; kept in %s for the next run", command.kind, reason, path)
        return Spooled(command, path, reason)

    def _patience(self) -> _ShortPatience:
        return _ShortPatience(self.writer.store, RETRY_PATIENCE_SECONDS if self._lock_seen else None)


class _ShortPatience:
    """Within the block, the store waits at most ``seconds`` for the lock (None: its own patience)."""

    def __init__(self, store: Store, seconds: float | None) -> None:
        self.db, self.seconds = store.db, seconds

    def __enter__(self) -> None:
        self.saved = self.db.lock_patience_seconds
        if self.seconds is not None:
            self.db.lock_patience_seconds = min(self.saved, self.seconds)

    def __exit__(self, *exc: object) -> None:
        self.db.lock_patience_seconds = self.saved
