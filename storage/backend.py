"""Which storage backend a configuration names: a DuckDB file or a DuckLake."""

from __future__ import annotations

from pathlib import Path

from saidwhat.storage.db import Database, StorageError
from saidwhat.storage.lake import LakeDatabase

BACKENDS = ("duckdb", "ducklake")


def open_database(
    backend: str,
    path: Path,
    catalog: str = "",
    data_path: str | Path | None = None,
    lock_patience_seconds: float = 60.0,
) -> Database | LakeDatabase:
    """``[storage] backend``: "duckdb" is the file at ``path``; "ducklake" is ``catalog`` + ``data_path``."""
    if backend == "duckdb":
        return Database(path, lock_patience_seconds)
    if backend == "ducklake":
        if not catalog or not data_path:
            raise StorageError(
                '[storage] backend = "ducklake" needs catalog (a PostgreSQL connection string or a .ducklake file)'
                " and data_path (a folder for the Parquet files)"
            )
        return LakeDatabase(catalog, data_path, lock_patience_seconds)
    raise StorageError(f"[storage] backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
