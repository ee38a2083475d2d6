"""Storage commands: `saidwhat migrate --to ducklake` and `saidwhat connect-sql`.

`migrate` copies a DuckDB file into the DuckLake named by ``[storage] catalog``
and ``data_path`` (or --catalog / --data-path), and compares the counts of
every table at the end. `connect-sql` prints the SQL an analyst runs in their
own DuckDB to attach the configured database read-only, with the macros.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from saidwhat.cli.output import OutputFormat, write_rows
from saidwhat.core.errors import SaidwhatError

err = Console(stderr=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="config.toml to use (default: $SAIDWHAT_CONFIG or ./config.toml)")
]
MIGRATE_COLUMNS = ["table", "file_rows", "lake_rows", "copied", "check"]


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate)
    app.command("connect-sql")(connect_sql)


def migrate(
    to: Annotated[str, typer.Option("--to", help="Target backend: ducklake")],
    db: Annotated[
        Path | None, typer.Option("--db", help="DuckDB file to copy (default: \\[storage] path in the config)")
    ] = None,
    catalog: Annotated[
        str | None, typer.Option("--catalog", help="Lake catalog (default: \\[storage] catalog in the config)")
    ] = None,
    data_path: Annotated[
        str | None, typer.Option("--data-path", help="Lake data folder (default: \\[storage] data_path)")
    ] = None,
    config: ConfigOption = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table, csv or jsonl")] = OutputFormat.table,
) -> None:
    """Copy a DuckDB file into a DuckLake (safe to repeat); compares every table's counts at the end."""
    if to != "ducklake":
        raise SaidwhatError(f"--to {to!r}: the only target is ducklake")
    from saidwhat.config import config_for
    from saidwhat.storage.lake import LakeDatabase, copy_file_to_lake

    settings = config_for(config, None).storage
    source = db or settings.path
    catalog = catalog or settings.catalog
    data_path = data_path or settings.data_path
    if not catalog or not data_path:
        raise SaidwhatError(
            "no lake to copy into: set [storage] catalog and data_path in the config, or pass --catalog and --data-path"
        )
    lake = LakeDatabase(catalog, data_path, settings.lock_patience_seconds)
    try:
        copies = copy_file_to_lake(Path(source), lake)
    finally:
        lake.close()
    rows = []
    for copy in copies:
        if copy.lake_rows == copy.file_rows:
            check = "equal"
        elif copy.lake_rows > copy.file_rows:
            check = f"lake has {copy.lake_rows - copy.file_rows} more (written to the lake directly)"
        else:
            check = f"MISSING {copy.file_rows - copy.lake_rows}"
        rows.append({"table": copy.table, "file_rows": copy.file_rows, "lake_rows": copy.lake_rows,
                     "copied": copy.copied, "check": check})  # fmt: skip
    write_rows(rows, MIGRATE_COLUMNS, fmt, title=f"{source} -> {lake.describe()}")
    missing = [r["table"] for r in rows if r["check"].startswith("MISSING")]
    if missing:
        raise SaidwhatError(f"the lake has fewer rows than {source} in {', '.join(missing)}: run the command again")


def connect_sql(
    db: Annotated[Path | None, typer.Option("--db", help="DuckDB file (default: the storage in the config)")] = None,
    config: ConfigOption = None,
) -> None:
    """Print the SQL that attaches the database read-only in your own DuckDB session, with the macros.

    Save it and run it: duckdb -cmd ".read attach.sql"
    """
    from saidwhat.config import store_to_read
    from saidwhat.storage.lake import LakeDatabase, attach_sql

    store, _ = store_to_read(config, db)
    if isinstance(store.db, LakeDatabase):
        if not store.exists():
            raise SaidwhatError(store.db.missing_message())
        sys.stdout.write(attach_sql(store.db, store.db.table_macros()))
        return
    path = str(store.db.path.resolve()).replace("'", "''")
    sys.stdout.write(
        "-- saidwhat: attach the DuckDB file read-only. While this session is open the ingest cannot write\n"
        "-- (its results wait in the spool); for long analyses use `saidwhat snapshot` or the ducklake backend.\n"
        f"ATTACH '{path}' AS saidwhat (READ_ONLY);\nUSE saidwhat;\n"
    )
