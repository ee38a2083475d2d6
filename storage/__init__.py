"""DuckDB storage: schema migrations, connections and every SQL statement.

Nothing outside this package writes SQL.
"""

from saidwhat.storage.db import Database, DatabaseLocked, StorageError
from saidwhat.storage.spool import install as _install_spool
from saidwhat.storage.store import Store

# Writes that outlast the lock patience go to the durable spool (storage/spool.py).
_install_spool(Store)

__all__ = ["Database", "DatabaseLocked", "StorageError", "Store"]
