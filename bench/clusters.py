"""Quote-clustering quality on the sample corpus: pairwise precision and recall.

    python bench/clusters.py              # runs `saidwhat demo` into a temporary database, then scores it
    python bench/clusters.py --db demo.duckdb

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="a database made by `saidwhat demo` (default: make one now)")
    parser.add_argument("--show", type=int, default=10, help="print up to this many wrong and missed pairs")
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
