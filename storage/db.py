"""Connections with a locking policy, and numbered schema migrations.

DuckDB lets one process hold a file for writing, and a reader in another
process blocks that writer. So the writer opens the file only for one short
transaction at a time, and waits with backoff when someone else holds it.
"""

from __future__ import annotations

import fcntl
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb

from saidwhat.core.errors import SaidwhatError
from saidwhat.core.notices import lock_wait_began

# The first bytes of a DuckDB file: 8 bytes of checksum, then this magic.
_DUCKDB_MAGIC = b"DUCK"


class StorageError(SaidwhatError):
    """The database file cannot be opened or is not a saidwhat database."""


class DatabaseLocked(StorageError):
    """Another process held the database longer than our patience."""


def _is_lock_error(exc: duckdb.Error) -> bool:
    message = str(exc).lower()
    return "lock" in message and ("conflicting" in message or "could not set" in message)


def _newer_file_message(path: Path) -> str:
    # The [lake] extra pins DuckDB to its extension packages' version, which cannot read files that a
    # newer DuckDB wrote; that newer DuckDB can write a copy in the older format.
    quoted = str(path).replace("'", "''")
    return (
        f"{path} was written by a newer DuckDB than this one ({duckdb.__version__}): with that newer DuckDB run"
        f" ATTACH '{quoted}' AS old (READ_ONLY); ATTACH '{quoted}.v14' AS new (STORAGE_VERSION 'v1.4.0');"
        f" COPY FROM DATABASE old TO new; and use {path}.v14"
    )


def views_sql() -> str:
    """The views, macros and comments (storage/views.sql), re-applied after every migration run."""
    return resources.files("saidwhat.storage").joinpath("views.sql").read_text(encoding="utf-8")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every file in storage/migrations, in order."""
    found = []
    for entry in resources.files("saidwhat.storage.migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), name[4:-4], entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    """A DuckDB file and the policy for opening it."""

    uses_spool = True  # a reader in another process can hold the file past our patience
    run_lock_per_feed = False  # one ingest run at a time, whatever its feeds

    def __init__(self, path: Path, lock_patience_seconds: float = 60.0) -> None:
        self.path = Path(path)
        self.lock_patience_seconds = lock_patience_seconds
        self._migrated = False

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the file, waiting with jittered exponential backoff while it is locked.

        A plain ``connect()`` is for reading: when another process holds the
        file open read-only (an analyst's session), it falls back at once to a
        read-only connection, which can share the file with that reader.
        Writes go through :meth:`transaction`, which needs the write lock.
        """
        self.check_file()
        if read_only and not self.path.exists():
            raise StorageError(f"database {self.path} does not exist yet: run `saidwhat run` or `saidwhat demo` first")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if read_only or not self.path.exists():
            con = self._open(read_only)
        else:
            try:
                con = self._open(False, patience=0.0)
            except DatabaseLocked:
                con = self._open(True)
                read_only = True
        with self._session(con, read_only) as session:
            yield session

    @contextmanager
    def _session(self, con: duckdb.DuckDBPyConnection, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        try:
            con.execute("SET TimeZone = 'UTC'")
            self._refuse_newer_schema(con)
            if not read_only and not self._migrated:
                self._migrate(con)
            yield con
        finally:
            con.close()

    def check_file(self) -> None:
        """Refuse, in one line, a path that is a folder or a file that is not a DuckDB database.

        Reads only the file's header, so it needs no lock and is safe while another process writes.
        """
        if self.path.is_dir():
            raise StorageError(
                f"{self.path} is a folder, not a database file: give a file path,"
                f" e.g. --db {self.path / 'saidwhat.duckdb'}"
            )
        if self.path.parent.exists() and not self.path.parent.is_dir():
            raise StorageError(f"{self.path.parent} is a file, not a folder: the database {self.path} cannot go there")
        try:
            with open(self.path, "rb") as handle:
                header = handle.read(12)
        except FileNotFoundError:
            return  # a new database
        except OSError as exc:
            raise StorageError(f"cannot read database {self.path} ({exc.strerror}): check its permissions") from None
        if header and header[8:12] != _DUCKDB_MAGIC:
            raise StorageError(
                f"{self.path} is not a DuckDB database (it holds something else): give a new file name or an"
                " existing saidwhat .duckdb file with --db or [storage] path"
            )

    def preflight(self) -> None:
        """Before a long command starts: the path is a database file, of a schema version this saidwhat knows.

        Never waits: if another process holds the file, the command itself will wait and say so.
        """
        self.check_file()
        if not self.path.exists():
            return
        try:
            con = self._open(True, patience=0.0)
        except DatabaseLocked:
            return
        try:
            self._refuse_newer_schema(con)
        finally:
            con.close()

    def _refuse_newer_schema(self, con: duckdb.DuckDBPyConnection) -> None:
        """A database migrated by a newer saidwhat has tables this version does not know how to keep right."""
        try:
            rows = con.execute("SELECT max(version) FROM schema_version").fetchall()  # all: leaves no open result
        except duckdb.CatalogException:
            return  # a new (or foreign, empty) database: the migrations create the table
        found, known = int(rows[0][0] or 0), max((v for v, _, _ in migrations()), default=0)
        if found > known:
            raise StorageError(
                f"{self.path} has schema version {found}, written by a newer saidwhat (this one knows up to"
                f" {known}): upgrade saidwhat (pip install -U saidwhat), or use another database"
            )

    @contextmanager
    def write_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection (waits for the write lock up to the patience)."""
        self.check_file()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._session(self._open(False), False) as con:
            yield con

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write connection inside one transaction: all of it lands, or none."""
        with self.write_connection() as con, atomic(con):
            yield con

    def _open(self, read_only: bool, patience: float | None = None) -> duckdb.DuckDBPyConnection:
        patience = self.lock_patience_seconds if patience is None else patience
        deadline = time.monotonic() + patience
        delay = 0.05
        announced = False
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                if "created with an newer version" in str(exc) or "created with a newer version" in str(exc):
                    raise StorageError(_newer_file_message(self.path)) from None
                if not _is_lock_error(exc):
                    raise StorageError(f"cannot open database {self.path}: {exc}") from None
                if not announced and patience > 0:
                    announced = True
                    lock_wait_began(self.path, patience, "read" if read_only else "write")
                if time.monotonic() + delay > deadline:
                    raise DatabaseLocked(
                        f"database {self.path} is locked by another process "
                        f"(waited {self.lock_patience_seconds:g}s): close other connections to it, "
                        "or have readers use `saidwhat snapshot`"
                    ) from None
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 2.0)
            except duckdb.Error as exc:
                raise StorageError(f"cannot open database {self.path}: {exc}") from None

    def _migrate(self, con: duckdb.DuckDBPyConnection) -> None:
        apply_migrations(con)
        self._migrated = True

    @contextmanager
    def run_lock(self, feed_urls: Sequence[str], patience: float) -> Iterator[None]:
        """Hold ``<db>.lock`` for a whole ingest run: one writer pipeline at a time, whatever its feeds.

        A second run waits up to ``patience`` seconds and then raises
        DatabaseLocked naming the holder. The kernel releases the lock when its
        holder dies, even by SIGKILL.
        """
        with file_run_lock(self.path.with_name(self.path.name + ".lock"), self.path, patience):
            yield

    def schema_version(self) -> int:
        with self.write_connection() as con:
            row = con.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def describe(self) -> str:
        return str(self.path)

    def exists(self) -> bool:
        return self.path.exists()

    def missing_message(self) -> str:
        return f"database {self.path} does not exist yet: run `saidwhat run` or `saidwhat demo` first"

    def close(self) -> None:
        """Nothing stays open between uses of a DuckDB file."""


def apply_migrations(
    con: duckdb.DuckDBPyConnection, adapt: Callable[[str], str] = lambda sql: sql, views: str | None = None
) -> None:
    """Apply pending migrations, then (re-)apply the views, macros and comments.

    ``adapt`` rewrites each migration for a backend that lacks a feature (storage/lake.py drops key
    constraints); ``views`` replaces storage/views.sql for such a backend.
    """
    con.execute(
        adapt(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        )
    )
    applied = {row[0] for row in con.execute("SELECT version FROM schema_version").fetchall()}
    for version, name, sql in migrations():
        if version in applied:
            continue
        with atomic(con):
            con.execute(adapt(sql))
            con.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, now())", [version, name])
    # Views and comments are definitions, not history: one file, applied whole each time, so a
    # view is never defined in two places and an upgraded database gets exactly today's views.
    with atomic(con):
        con.execute(views_sql() if views is None else views)


@contextmanager
def atomic(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction on an open connection: everything in the block lands, or nothing does."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


@contextmanager
def file_run_lock(lock_path: Path, database: Path, patience: float, what: str | None = None) -> Iterator[None]:
    """An exclusive lock file held for a whole run; the kernel releases it when the holder dies."""
    what = what or str(database)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+", encoding="utf-8") as handle:
        deadline = time.monotonic() + patience
        announced = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not announced and patience > 0:
                    announced = True
                    lock_wait_began(database, patience, "run")
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise DatabaseLocked(
                        f"another ingest is writing to {what} ({holder}); waited {patience:g}s for"
                        f" {lock_path.name}: try again when it has finished"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
