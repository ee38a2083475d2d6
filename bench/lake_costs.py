"""What the DuckLake backend costs next to the DuckDB file, on the same data.

    python bench/lake_costs.py --dsn "host=127.0.0.1 port=5432 user=postgres dbname=bench" --db demo.duckdb

``--db`` is a database made by `saidwhat demo`; ``--dsn`` an empty PostgreSQL
database (its lake is created here, data under a temporary folder). Measured:

* **attach**: a new process's first connection (extensions loaded, catalog attached);
* **copy**: `migrate --to ducklake` of the whole demo database;
* **write**: one small write transaction (one fetch_errors row), median of ``--repeat``;
* **read**: ``count(*)`` over ``v_statements`` and the ``said_about`` macro, median of ``--repeat``.

Each backend's figure comes from the same Store methods the pipeline uses.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from saidwhat.storage import Store
from saidwhat.storage.lake import LakeDatabase, copy_file_to_lake
from saidwhat.storage.store import FetchErrorRecord


def _median_ms(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", required=True, help="an empty PostgreSQL database for the lake's catalog")
    parser.add_argument("--db", required=True, type=Path, help="a database made by `saidwhat demo`")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="saidwhat-lake-bench-") as tmp:
        file_db = Path(tmp) / "demo.duckdb"
        shutil.copy(args.db, file_db)
        lake = LakeDatabase(args.dsn, Path(tmp) / "lake-data")
        started = time.perf_counter()
        copies = copy_file_to_lake(file_db, lake)
        copy_s = time.perf_counter() - started
        lake.close()

        started = time.perf_counter()
        lake = LakeDatabase(args.dsn, Path(tmp) / "lake-data")
        with lake.connect(read_only=True) as con:
            con.execute("SELECT 1").fetchall()
        attach_ms = (time.perf_counter() - started) * 1000

        stores = {"duckdb": Store(file_db), "ducklake": Store(lake)}
        error = [FetchErrorRecord(stage="feed", error_class="Bench", message="a benchmark row")]
        print(f"copy: {sum(c.file_rows for c in copies)} rows in {len(copies)} tables, {copy_s:.1f} s")
        print(f"attach (first connection of a process): {attach_ms:.0f} ms")
        for name, store in stores.items():
            write = _median_ms(lambda store=store: store.record_errors("bench", error), args.repeat)

            def read(store=store) -> None:
                with store.db.connect(read_only=True) as con:
                    con.execute("SELECT count(*) FROM v_statements").fetchall()
                    con.execute("SELECT count(*) FROM said_about('moscow-meeting')").fetchall()

            read_ms = _median_ms(read, args.repeat)
            print(f"{name:9s} write transaction: {write:6.1f} ms   read (2 queries): {read_ms:6.1f} ms")
        lake.close()


if __name__ == "__main__":
    main()
