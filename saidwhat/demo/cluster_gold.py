"""Score a demo database's quote clusters against the hand-listed ones (corpus/clusters.json).

Each gold member (file, speaker, quote_contains) is matched to one stored statement: in that
article, a quote containing ``quote_contains`` (whitespace-normalised), by a speaker with the same
last name, the shortest such quote (nested extractions of one sentence exist). The score is pairwise
over the matched members: a pair is predicted when both statements have the same
``quote_clusters.cluster_id``, and true when both members are in the same gold cluster.
A member that matches no statement cannot be in a predicted pair, so it lowers recall.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import duckdb

from saidwhat.demo.server import corpus_root


@dataclass(frozen=True)
class ClusterScore:
    gold_clusters: int
    multi_member_clusters: int
    members: int
    matched: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    wrong_pairs: list[tuple[str, str]] = field(default_factory=list)
    missed_pairs: list[tuple[str, str]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0


def _path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3].split("?")[0] if url.count("/") >= 3 else url


def _last_word(name: str | None) -> str:
    words = (name or "").lower().replace("\u2019s", "").split()
    return words[-1] if words else ""


def gold_clusters(root: Path | None = None) -> list[dict]:
    root = root or corpus_root()
    return json.loads((root / "clusters.json").read_text(encoding="utf-8"))["clusters"]


def score_clusters(db: Path) -> ClusterScore:
    """Pairwise precision and recall of the database's clusters on the gold clusters."""
    root = corpus_root()
    routes = json.loads((root / "routes.json").read_text(encoding="utf-8"))
    path_of_file = {file: path for path, file in routes.items()}
    clusters = gold_clusters(root)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT s.url, s.speaker, s.quote, c.cluster_id FROM v_statements s"
            " JOIN quote_clusters c USING (statement_id)"
        ).fetchall()
    by_path: dict[str, list[tuple[str, str | None, str]]] = {}
    for url, speaker, quote, cluster_id in rows:
        by_path.setdefault(_path_of(url), []).append((" ".join(quote.split()), speaker, cluster_id))

    members: list[tuple[str, str, str | None]] = []  # (gold cluster, label, predicted cluster)
    unmatched = []
    for cluster in clusters:
        for member in cluster["members"]:
            needle = " ".join(member["quote_contains"].split())
            candidates = [
                (len(quote), cluster_id)
                for quote, speaker, cluster_id in by_path.get(path_of_file[member["file"]], [])
                if needle in quote and _last_word(speaker) == _last_word(member["speaker"])
            ]
            label = f"{member['file']}: {needle[:60]}"
            predicted = min(candidates)[1] if candidates else None
            if predicted is None:
                unmatched.append(label)
            members.append((cluster["cluster"], label, predicted))

    true_pairs = predicted_pairs = correct = 0
    wrong, missed = [], []
    for (gold_a, label_a, pred_a), (gold_b, label_b, pred_b) in combinations(members, 2):
        same_gold = gold_a == gold_b
        same_pred = pred_a is not None and pred_a == pred_b
        true_pairs += same_gold
        predicted_pairs += same_pred
        correct += same_gold and same_pred
        if same_pred and not same_gold:
            wrong.append((label_a, label_b))
        elif same_gold and not same_pred:
            missed.append((label_a, label_b))
    return ClusterScore(
        gold_clusters=len(clusters),
        multi_member_clusters=sum(len(c["members"]) > 1 for c in clusters),
        members=len(members),
        matched=len(members) - len(unmatched),
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct,
        wrong_pairs=wrong,
        missed_pairs=missed,
        unmatched=unmatched,
    )
