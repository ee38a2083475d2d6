"""DuckDB storage: schema migrations, connections, every SQL statement, and the write path.

Nothing outside this package writes SQL. Writes are typed commands
(storage/commands.py) applied by a writer (storage/writer.py), which keeps
them in the spool (storage/spool.py) while another process holds the file.
"""

from saidwhat.storage.db import Database, DatabaseLocked, StorageError
from saidwhat.storage.spool import DrainReport, Spool
from saidwhat.storage.store import Store
from saidwhat.storage.writer import Applied, Outcome, Spooled, SpoolingWriter, Writer

__all__ = [
    "Applied",
    "Database",
    "DatabaseLocked",
    "DrainReport",
    "Outcome",
    "Spool",
    "Spooled",
    "SpoolingWriter",
    "StorageError",
    "Store",
    "Writer",
]
