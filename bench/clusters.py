"""Quote-clustering quality on the sample corpus: pairwise precision and recall.

    python bench/clusters.py              # runs `saidwhat demo` into a temporary database, then scores it
    python bench/clusters.py --db demo.duckdb
    python bench/clusters.py --db demo.duckdb --scale 50   # also: assignment time with 50x the statements

The gold clusters are hand-listed in saidwhat/demo/corpus/clusters.json (the Harbour Courier's
copies of statements first carried by the other sample outlets, and near misses that must stay
apart); saidwhat/demo/cluster_gold.py says how members are matched and pairs counted.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from saidwhat.demo.cluster_gold import score_clusters


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def time_assignment(db: Path, scale: int, work: Path) -> None:
    """Copy ``db`` with its statements repeated ``scale`` times, then time a full clustering and one batch.

    Each copy's quote gets a distinct last word, so copies cluster with their originals (as echoes do)
    and every speaker has ``scale`` times the candidates. The batch is the demo's statements again, new,
    against everything else: what one ingest batch costs on a database that size.
    """
    import shutil
    import time

    from saidwhat.storage.clusters import assign_clusters
    from saidwhat.storage.db import Database

    copy = work / "scaled.duckdb"
    shutil.copyfile(db, copy)
    database = Database(copy)
    with database.transaction() as con:
        columns = [r[0] for r in con.execute("DESCRIBE statements").fetchall()]
        select = ", ".join(
            {"statement_id": "statement_id || '-' || i", "quote": "quote || ' copy' || i"}.get(c, c) for c in columns
        )
        con.execute(f"INSERT INTO statements SELECT {select} FROM statements, range(1, ?) AS r(i)", [scale])
        total = con.execute("SELECT count(*) FROM statements").fetchone()[0]
        con.execute("DELETE FROM quote_clusters")
        started = time.perf_counter()
        assign_clusters(con)
        full = time.perf_counter() - started
        con.execute(
            "DELETE FROM quote_clusters WHERE statement_id NOT IN"
            " (SELECT statement_id FROM statements WHERE contains(statement_id, '-'))"
        )
        started = time.perf_counter()
        batch = assign_clusters(con)
        one_batch = time.perf_counter() - started
    print(f"{total} statements: clustering all of them {full:.2f} s; a batch of {batch} new ones {one_batch:.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="a database made by `saidwhat demo` (default: make one now)")
    parser.add_argument("--show", type=int, default=10, help="print up to this many wrong and missed pairs")
    parser.add_argument("--scale", type=int, help="also time the assignment on a copy with N times the statements")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "demo.duckdb"
            subprocess.run(
                [sys.executable, "-m", "saidwhat", "demo", "--db", str(db), "--port", str(_free_port())],
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
        score = score_clusters(db)
        if args.scale:
            time_assignment(db, args.scale, Path(tmp))
    for a, b in score.wrong_pairs[: args.show]:
        print(f"wrongly together: {a}  <->  {b}")
    for a, b in score.missed_pairs[: args.show]:
        print(f"wrongly apart:    {a}  <->  {b}")
    for label in score.unmatched[: args.show]:
        print(f"not extracted:    {label}")
    print(
        f"gold clusters {score.gold_clusters} ({score.multi_member_clusters} with 2+ members), members"
        f" {score.matched}/{score.members} found; pairs: {score.true_pairs} true, {score.predicted_pairs} predicted,"
        f" {score.correct_pairs} correct; precision {score.precision:.3f}, recall {score.recall:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
