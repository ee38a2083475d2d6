"""The DuckLake backend: a catalog in PostgreSQL, the data as Parquet files in a folder.

Many processes, on many machines, attach the same lake. Readers get snapshot
isolation and never wait for anyone. Writers do not take a file lock either;
what DuckLake cannot do is merge two transactions that changed the same table
(an UPDATE is a delete plus an insert), so a commit racing another writer's
commit on ``runs`` or ``articles`` would fail. Instead of retrying whole
transactions, every write transaction here first takes one PostgreSQL
advisory lock (held by a separate connection until our commit is done):
writes from every process are serialised, each a few milliseconds long, while
reads go on untouched. PostgreSQL drops the lock when its holder dies.

The ingest run lock is per feed: a run holds one advisory lock per feed URL
it polls, so two runs on different feed groups proceed together and two runs
on the same feed queue (see :meth:`LakeDatabase.run_lock`).

What DuckLake lacks, and what replaces it:

* PRIMARY KEY and UNIQUE constraints: :func:`lake_ddl` drops them from the
  migrations; uniqueness is kept by the writes (``storage/store.py`` inserts
  with NOT EXISTS / MERGE, never relying on a constraint) and by the run
  lock per feed (an article is first written by the run that owns its feed).
* DEFAULT on list columns (``statements.topics``): dropped; writers always
  give the list.
* Comments on view columns: not stored by DuckLake; they are in
  docs/schema.md (generated from the file backend) and table/view comments
  are stored as usual.
* Macros are stored in the lake (DuckLake 0.4+), and ``saidwhat connect-sql``
  also prints them as TEMP macros for an analyst's own session.

A local metadata file (``catalog = "lake/metadata.ducklake"``) is for trials
on one machine: that file is itself a DuckDB database, so one process at a
time; the run lock then is a lock file next to it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from saidwhat.core.notices import lock_wait_began
from saidwhat.storage.db import (
    DatabaseLocked,
    StorageError,
    apply_migrations,
    atomic,
    file_run_lock,
    views_sql,
)

LAKE_NAME = "lake"
# The packages the `lake` extra installs; the pins in pyproject.toml match these.
EXTENSION_PACKAGES = {
    "ducklake": "duckdb-extension-ducklake",
    "postgres_scanner": "duckdb-extension-postgres-scanner",
}
INSTALL_HINT = 'pip install "saidwhat[lake]"'
# Advisory lock key namespaces (the first 32 bits), so our keys cannot meet another application's.
_WRITE_LOCK_KEY = ("saidwhat-write", "")
_POSTGRES_PREFIXES = ("postgres:", "postgresql:")


class LakeUnavailable(StorageError):
    """The DuckLake extensions are missing or do not match the installed DuckDB."""


def extension_file(name: str) -> Path:
    """The ``.duckdb_extension`` file of ``name`` shipped by its package, for this DuckDB version.

    Nothing is downloaded: a missing package or a version that does not match
    DuckDB's is one line saying what to install.
    """
    package = EXTENSION_PACKAGES[name]
    module = package.replace("-", "_")
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise LakeUnavailable(
            f"the ducklake backend needs the DuckDB {name} extension (package {package}), which is not installed:"
            f" {INSTALL_HINT}"
        )
    folder = Path(spec.origin).parent / "extensions"
    wanted = folder / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not wanted.is_file():
        found = ", ".join(sorted(p.name.lstrip("v") for p in folder.glob("v*"))) or "no version"
        raise LakeUnavailable(
            f"{package} has the {name} extension for DuckDB {found}, but DuckDB is {duckdb.__version__}:"
            f" {INSTALL_HINT} to get matching versions"
        )
    return wanted


@dataclass(frozen=True, slots=True)
class Catalog:
    """Where the lake's metadata lives: a PostgreSQL database or a local DuckLake file."""

    kind: str  # postgres | file
    target: str  # a libpq connection string, or a path

    @classmethod
    def parse(cls, text: str) -> Catalog:
        """``postgresql://…``, ``postgres:dbname=… host=…``, ``dbname=… host=…``, or a file path."""
        text = text.strip()
        if not text:
            raise StorageError("[storage] catalog is empty: give a PostgreSQL connection string or a .ducklake file")
        if text.startswith(("postgres://", "postgresql://")):
            return cls("postgres", text)
        for prefix in _POSTGRES_PREFIXES:
            if text.startswith(prefix):
                return cls("postgres", text[len(prefix) :])
        if "=" in text:
            return cls("postgres", text)
        return cls("file", str(Path(text).expanduser()))

    @property
    def attach_target(self) -> str:
        return f"ducklake:postgres:{self.target}" if self.kind == "postgres" else f"ducklake:{self.target}"

    def extensions(self) -> list[str]:
        return ["ducklake", "postgres_scanner"] if self.kind == "postgres" else ["ducklake"]

    def display(self) -> str:
        """The catalog without its password, for messages."""
        hidden = re.sub(r"(password\s*=\s*)\S+", r"\1***", self.target)
        return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", hidden)


def lake_ddl(sql: str) -> str:
    """A migration with what DuckLake cannot store removed: key constraints (keeping NOT NULL), list defaults."""
    sql = re.sub(r",\s*\n\s*PRIMARY KEY\s*\([^)]*\)", "", sql)  # table-level PRIMARY KEY (a, b)
    sql = re.sub(r"\s+PRIMARY KEY(?=[\s,)])", " NOT NULL", sql)  # a key column still may not be NULL
    sql = re.sub(r"\s+UNIQUE(?=[\s,)])", "", sql)
    return re.sub(r"\s+DEFAULT\s+\[\]", "", sql)


def lake_views_sql() -> str:
    """storage/views.sql without the comments DuckLake cannot store (on view columns and on macros).

    docs/schema.md, generated from the file backend, has them all.
    """
    text = views_sql()
    views = set(re.findall(r"CREATE OR REPLACE VIEW (\w+)", text))
    kept = []
    for statement in _statements(text):
        body = re.sub(r"^\s*(?:--[^\n]*\n\s*)*", "", statement)
        target = re.match(r"COMMENT ON COLUMN (\w+)\.", body)
        if (target and target.group(1) in views) or body.startswith("COMMENT ON MACRO"):
            continue
        kept.append(statement)
    return ";\n".join(kept) + ";\n"


def _statements(text: str) -> list[str]:
    con = duckdb.connect()
    try:
        return [s.query for s in con.extract_statements(text)]
    finally:
        con.close()


def advisory_key(namespace: str, name: str) -> int:
    """A signed 64-bit PostgreSQL advisory lock key for ``name`` within ``namespace``."""
    digest = hashlib.sha1(f"{namespace}\0{name}".encode()).digest()
    return struct.unpack(">q", digest[:8])[0]


class LakeDatabase:
    """A DuckLake attached once per process; each use gets its own connection (a cursor) on it."""

    uses_spool = False  # nobody holds a lake the way a reader holds a DuckDB file
    run_lock_per_feed = True  # runs on different feeds go on together (run_lock)

    def __init__(self, catalog: str, data_path: str | Path, lock_patience_seconds: float = 60.0) -> None:
        self.catalog = Catalog.parse(catalog)
        self.data_path = str(data_path)  # a folder, or an object store URL (s3://…) that DuckDB's httpfs reads
        self.lock_patience_seconds = lock_patience_seconds
        self._base: duckdb.DuckDBPyConnection | None = None
        self._locks: duckdb.DuckDBPyConnection | None = None
        self._opening = threading.Lock()
        self._writing = threading.Lock()  # one write transaction per process at a time, as across processes
        self._migrated = False
        self._schema_seen = False

    # -------------------------------------------------------------- identity
    @property
    def path(self) -> Path:
        """The data folder (what a file-backend caller would treat as the database's place)."""
        return Path(self.data_path)

    def describe(self) -> str:
        return f"the lake {self.catalog.display()} (data in {self.data_path})"

    def exists(self) -> bool:
        """True once a writer has created the schema in this lake."""
        if self.catalog.kind == "file" and not Path(self.catalog.target).exists():
            return False
        con = self._cursor()
        try:
            row = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = 'schema_version'",
                [LAKE_NAME],
            ).fetchone()
        finally:
            con.close()
        return bool(row[0])

    def missing_message(self) -> str:
        return f"{self.describe()} has no saidwhat tables yet: run `saidwhat run` or `saidwhat migrate --to ducklake`"

    # ----------------------------------------------------------- connections
    def _attached(self) -> duckdb.DuckDBPyConnection:
        with self._opening:
            if self._base is None:
                self._base = self._open_base()
            return self._base

    def _open_base(self) -> duckdb.DuckDBPyConnection:
        files = [extension_file(name) for name in self.catalog.extensions()]
        if self.catalog.kind == "file":
            Path(self.catalog.target).parent.mkdir(parents=True, exist_ok=True)
        if "://" not in self.data_path:
            Path(self.data_path).mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(":memory:")
        try:
            for file in files:
                con.execute(f"LOAD '{_sql_string(str(file))}'")
            con.execute(
                f"ATTACH '{_sql_string(self.catalog.attach_target)}' AS {LAKE_NAME}"
                f" (DATA_PATH '{_sql_string(self.data_path)}')"
            )
        except duckdb.Error as exc:
            con.close()
            raise StorageError(f"cannot attach {self.describe()}: {_first_line(exc)}") from None
        return con

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        con = self._attached().cursor()
        con.execute(f"USE {LAKE_NAME}")
        con.execute("SET TimeZone = 'UTC'")
        return con

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the lake; reads see the last committed snapshot and wait for no one."""
        if not read_only and not self._migrated:
            self.migrate()
        if read_only and not self._migrated and not self._schema_seen:
            if not self.exists():
                raise StorageError(self.missing_message())
            self._schema_seen = True
        con = self._cursor()
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def write_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.connect() as con:
            yield con

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction, after every earlier writer's (see the module docstring)."""
        if not self._migrated:
            self.migrate()
        with self._write_lock(), self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            try:
                con.execute("COMMIT")
            except duckdb.Error as exc:
                raise StorageError(f"could not commit to {self.describe()}: {_first_line(exc)}") from None

    # ----------------------------------------------------------------- locks
    def _lock_connection(self) -> duckdb.DuckDBPyConnection:
        """A second DuckDB connection attached to the catalog's PostgreSQL, for advisory locks."""
        with self._opening:
            if self._locks is None:
                con = duckdb.connect(":memory:")
                con.execute(f"LOAD '{_sql_string(str(extension_file('postgres_scanner')))}'")
                con.execute(f"ATTACH '{_sql_string(self.catalog.target)}' AS saidwhat_locks (TYPE postgres)")
                self._locks = con
            return self._locks

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        with self._writing:
            if self.catalog.kind != "postgres":
                yield
                return
            locks = self._lock_connection().cursor()
            key = advisory_key(*_WRITE_LOCK_KEY)
            # The lock is transaction-scoped in PostgreSQL: COMMIT (or the connection dying) releases it.
            locks.execute("BEGIN TRANSACTION")
            try:
                timeout_ms = max(1, int(self.lock_patience_seconds * 1000))
                locks.execute(
                    f"CALL postgres_execute('saidwhat_locks',"
                    f" 'SET LOCAL lock_timeout = {timeout_ms}; SELECT pg_advisory_xact_lock({key})')"
                )
            except duckdb.Error as exc:
                locks.execute("ROLLBACK")
                locks.close()
                raise DatabaseLocked(
                    f"another writer held {self.describe()} for {self.lock_patience_seconds:g}s"
                    f" ({_first_line(exc)}): try again, or raise [storage] lock_patience_seconds"
                ) from None
            try:
                yield
            finally:
                locks.execute("COMMIT")
                locks.close()

    @contextmanager
    def run_lock(self, feed_urls: Sequence[str], patience: float) -> Iterator[None]:
        """Hold one lock per feed for a whole ingest run: runs on other feeds go on, runs on these queue."""
        if self.catalog.kind != "postgres":
            catalog = Path(self.catalog.target)
            with file_run_lock(catalog.with_name(catalog.name + ".lock"), catalog, patience, self.describe()):
                yield
            return
        keys = sorted({advisory_key("saidwhat-run", url) for url in feed_urls} or {advisory_key("saidwhat-run", "")})
        locks = self._lock_connection().cursor()
        deadline = time.monotonic() + patience
        announced = False
        try:
            while True:
                locks.execute("BEGIN TRANSACTION")
                held = locks.execute(
                    "SELECT ok FROM postgres_query('saidwhat_locks', 'SELECT "
                    + " AND ".join(f"pg_try_advisory_xact_lock({k})" for k in keys)
                    + " AS ok')"
                ).fetchone()[0]
                if held:
                    break
                locks.execute("ROLLBACK")  # give back the feeds we did get, so two runs cannot deadlock
                if not announced and patience > 0:
                    announced = True
                    lock_wait_began(self.path, patience, "run")
                if time.monotonic() >= deadline:
                    raise DatabaseLocked(
                        f"another ingest is running on some of these {len(feed_urls)} feeds against"
                        f" {self.describe()}; waited {patience:g}s: try again when it has finished,"
                        " or give each run its own feeds (--feed)"
                    )
                time.sleep(0.2)
            try:
                yield
            finally:
                locks.execute("COMMIT")
        finally:
            locks.close()

    # ------------------------------------------------------------ migrations
    def migrate(self) -> None:
        with self._write_lock():
            con = self._cursor()
            try:
                apply_migrations(con, adapt=lake_ddl, views=lake_views_sql())
            except duckdb.Error as exc:
                raise StorageError(
                    f"cannot create the saidwhat tables in {self.describe()}: {_first_line(exc)}"
                ) from None
            finally:
                con.close()
        self._migrated = True

    def schema_version(self) -> int:
        self.migrate()
        with self.connect(read_only=True) as con:
            row = con.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def table_macros(self) -> list[tuple[str, list[str], str]]:
        """(name, parameters, body) of the table macros stored in the lake (said_about, said_by)."""
        with self.connect(read_only=True) as con:
            return con.execute(
                "SELECT function_name, parameters, macro_definition FROM duckdb_functions()"
                " WHERE function_type = 'table_macro' AND database_name = ? AND NOT internal ORDER BY function_name",
                [LAKE_NAME],
            ).fetchall()

    def close(self) -> None:
        for con in (self._base, self._locks):
            if con is not None:
                con.close()
        self._base = self._locks = None


def _sql_string(text: str) -> str:
    return text.replace("'", "''")


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@dataclass(frozen=True, slots=True)
class TableCopy:
    """One table of `saidwhat migrate --to ducklake`: rows in the file, in the lake, and copied this time."""

    table: str
    file_rows: int
    lake_rows: int
    copied: int


def copy_file_to_lake(source: Path, lake: LakeDatabase) -> list[TableCopy]:
    """Copy every table of a DuckDB file into the lake, rows whose key the lake lacks; safe to repeat.

    The file is first brought to the current schema (so both have the same
    columns), then read through a read-only ATTACH. Keyed tables are copied by
    key (a row already in the lake, maybe newer, is kept); a table without a
    key (fetch_errors) by whole rows, as a multiset difference. One
    transaction: a copy that fails leaves the lake as it was.
    """
    from saidwhat.storage.db import Database

    source = Path(source)
    if not source.is_file():
        raise StorageError(f"database {source} does not exist: give the DuckDB file to copy with --db")
    Database(source, lake.lock_patience_seconds).schema_version()  # migrations first: the same columns both sides
    lake.migrate()
    con = lake._cursor()
    try:
        try:
            con.execute(f"ATTACH '{_sql_string(str(source))}' AS saidwhat_source (READ_ONLY)")
        except duckdb.Error as exc:
            raise StorageError(f"cannot read {source}: {_first_line(exc)} (close other programs using it)") from None
        try:
            tables = [
                row[0]
                for row in con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = 'saidwhat_source'"
                    " AND schema_name = 'main' AND table_name <> 'schema_version' ORDER BY table_name"
                ).fetchall()
            ]
            keys = {
                table: columns
                for table, columns in con.execute(
                    "SELECT table_name, constraint_column_names FROM duckdb_constraints()"
                    " WHERE database_name = 'saidwhat_source' AND constraint_type = 'PRIMARY KEY'"
                ).fetchall()
            }
            _check_same_tables(con, tables, source)
            copies = []
            with lake._write_lock(), atomic(con):
                for table in tables:
                    copies.append(_copy_table(con, table, keys.get(table)))
        finally:
            con.execute(f"USE {LAKE_NAME}")
            con.execute("DETACH saidwhat_source")
    finally:
        con.close()
    return copies


def _check_same_tables(con: duckdb.DuckDBPyConnection, tables: list[str], source: Path) -> None:
    """Every table and column of the file must exist in the lake, or rows would be dropped silently."""
    columns = con.execute(
        "SELECT database_name, table_name, list(column_name) FROM duckdb_columns()"
        " WHERE database_name IN ('saidwhat_source', ?) AND schema_name = 'main' GROUP BY ALL",
        [LAKE_NAME],
    ).fetchall()
    lake_columns = {table: set(names) for db, table, names in columns if db == LAKE_NAME}
    for db, table, names in columns:
        if db != "saidwhat_source" or table not in tables:
            continue
        missing = sorted(set(names) - lake_columns.get(table, set()))
        if table not in lake_columns or missing:
            what = f"table {table}" if table not in lake_columns else f"{table}.{', '.join(missing)}"
            raise StorageError(
                f"{source} has {what}, which this saidwhat's schema lacks (written by another version?):"
                " copy it with the saidwhat version that wrote it"
            )


def _copy_table(con: duckdb.DuckDBPyConnection, table: str, key: list[str] | None) -> TableCopy:
    columns = [
        row[0]
        for row in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND table_name = ? ORDER BY column_index",
            [LAKE_NAME, table],
        ).fetchall()
    ]
    listed = ", ".join(f'"{c}"' for c in columns)
    source = f"saidwhat_source.main.{table}"
    target = f"{LAKE_NAME}.main.{table}"
    if key:
        match = " AND ".join(f'l."{k}" IS NOT DISTINCT FROM s."{k}"' for k in key)
        picked = ", ".join(f's."{c}"' for c in columns)
        rows = f"SELECT {picked} FROM {source} s WHERE NOT EXISTS (SELECT 1 FROM {target} l WHERE {match})"
    else:
        rows = f"SELECT {listed} FROM {source} EXCEPT ALL SELECT {listed} FROM {target}"
    copied = int(con.execute(f"INSERT INTO {target} ({listed}) {rows}").fetchone()[0])
    file_rows = int(con.execute(f"SELECT count(*) FROM {source}").fetchone()[0])
    lake_rows = int(con.execute(f"SELECT count(*) FROM {target}").fetchone()[0])
    return TableCopy(table, file_rows, lake_rows, copied)


def attach_sql(lake: LakeDatabase, macros: Sequence[tuple[str, list[str], str]]) -> str:
    """Statements that attach the lake read-only in an analyst's own DuckDB, with the table macros.

    The extensions are loaded from the files this installation uses (the
    analyst's DuckDB must be the same version, see the first line); on a
    machine with internet, ``INSTALL ducklake; INSTALL postgres;`` does instead.
    """
    lines = [
        f"-- saidwhat: attach {lake.describe()} read-only.",
        f"-- Needs DuckDB {duckdb.__version__}, the version of the extension files below.",
        *(f"LOAD '{_sql_string(str(extension_file(name)))}';" for name in lake.catalog.extensions()),
        f"ATTACH '{_sql_string(lake.catalog.attach_target)}' AS {LAKE_NAME}"
        f" (DATA_PATH '{_sql_string(lake.data_path)}', READ_ONLY);",
        f"USE {LAKE_NAME};",
        "-- The table macros, also in your session (TEMP), whatever the lake stores:",
    ]
    lines += [
        f"CREATE OR REPLACE TEMP MACRO {name}({', '.join(params)}) AS TABLE {definition};"
        for name, params, definition in macros
    ]
    return "\n".join(lines) + "\n"
