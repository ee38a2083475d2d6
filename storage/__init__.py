"""DuckDB storage: schema migrations, connections and every SQL statement.

Nothing outside this package writes SQL.
"""

from storage.db import Database, DatabaseLocked, StorageError
from storage.store import Store

__all__ = ["Database", "DatabaseLocked", "StorageError", "Store"]
