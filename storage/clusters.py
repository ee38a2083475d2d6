"""Quote clusters: one row per statement in ``quote_clusters``, the copies of one utterance sharing a cluster_id.

The rule (also in docs/analysts.md and the v_quotes comments):

- Only statements by the same **canonical speaker** (``v_speaker_names``, so "Putin", "Vladimir Putin's" and
  "President Vladimir Putin" are one speaker) can share a cluster. Statements whose speaker is unnamed, a
  pronoun left unresolved, or unknown each form a cluster of their own: "an official" in one article is not
  the official of another.
- Two quotes are the same utterance when, after normalising (lower case, curly quotes and apostrophes
  folded, punctuation, ellipses and brackets dropped, and the pronouns and forms of be/have/will that
  change between direct and reported speech left out), the words they share **in order** (the longest
  common subsequence of their word lists) cover at least ``MIN_COVERAGE`` of the shorter one and number at
  least ``MIN_SHARED_WORDS``. That accepts identical copies, trims (one is a part of the other),
  re-punctuations, ellipses (a gap in the longer one) and small wording changes, and keeps apart two
  different things the same person said about the same subject (they share words, but not most of them in
  order). Quotes shorter than ``MIN_SHARED_WORDS`` words must be identical once normalised.
- Assignment is incremental and single-link: each new statement, oldest first, joins the cluster of the most
  similar statement by the same speaker already clustered (or assigned earlier in the same pass), or starts
  a cluster named after its own statement_id. It runs in the writer's transaction, right after the
  statements are written, so readers never see a statement without its cluster.

Why rapidfuzz's LCS and not MinHash/LSH (datasketch): candidates are already narrowed to one speaker's
statements (tens to a few thousand), where an exact in-order word comparison is cheap in rapidfuzz's C++
and deterministic; MinHash estimates Jaccard similarity on shingles, which scores a short trim of a long
quote low (it is a containment, not a resemblance) and ignores word order, which is what tells a
re-punctuated copy from a different sentence made of the same words.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa
from rapidfuzz import process
from rapidfuzz.distance import LCSseq

MIN_COVERAGE = 0.8
MIN_SHARED_WORDS = 3
# Speaker types whose canonical name names one speaker across articles.
CLUSTERED_SPEAKER_TYPES = ("person", "organization")

_FOLD = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "—": " ", "–": " ", "-": " "})
_WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


# Words that change when direct speech is reported ("We are not talking" -> "they were not talking"):
# personal pronouns and the forms of be/have/will. They are left out of the comparison, so a copy in
# reported speech matches its direct original; negations ("don't", "not") and content words stay.
SHIFTING_WORDS = frozenset({
    "i", "me", "my", "we", "us", "our", "you", "your", "he", "him", "his", "she", "her", "they", "them", "their",
    "am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had", "will", "would", "shall",
})  # fmt: skip
_CLITICS = ("'s", "'d", "'ll", "'ve", "'re", "'m")


def quote_words(quote: str) -> tuple[str, ...]:
    """The quote's words to compare: lower case, no punctuation, quotation marks, ellipses or brackets.

    Clitics go ("I'd" -> "i", "that's" -> "that") and then SHIFTING_WORDS, so "We've narrowed" and
    "we have narrowed" and "they had narrowed" are all ("narrowed",).
    """
    words = []
    for word in _WORD_RE.findall(quote.lower().translate(_FOLD)):
        for clitic in _CLITICS:
            if word.endswith(clitic):
                word = word[: -len(clitic)]
                break
        if word not in SHIFTING_WORDS:
            words.append(word)
    return tuple(words)


def similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """Share of the shorter word list found in order in the longer one (0 when they are not one utterance)."""
    if not a or not b:
        return 0.0
    shorter = min(len(a), len(b))
    if shorter < MIN_SHARED_WORDS:
        return 1.0 if tuple(a) == tuple(b) else 0.0
    shared = LCSseq.similarity(a, b)
    return shared / shorter if shared >= MIN_SHARED_WORDS else 0.0


class _Vocabulary:
    """Each distinct word as one character, so a quote's word list becomes a string rapidfuzz compares in C++."""

    def __init__(self) -> None:
        self._codes: dict[str, str] = {}

    def encode(self, words: Sequence[str]) -> str:
        # Code points from U+10000 on: a million distinct words, none of them a surrogate.
        return "".join(self._codes.setdefault(word, chr(0x10000 + len(self._codes))) for word in words)


class _SpeakerPool:
    """One speaker's clustered statements, compared with a new quote in one rapidfuzz call (process.cdist).

    Scores are those of ``similarity``: in-order shared words over the shorter quote's words, 0 when fewer
    than MIN_SHARED_WORDS are shared, and for quotes shorter than that, 1 only when they are identical.
    """

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.clusters: list[str] = []

    def add(self, code: str, cluster_id: str) -> None:
        self.codes.append(code)
        self.clusters.append(cluster_id)

    def closest(self, code: str) -> tuple[str, float] | None:
        """(cluster_id, score) of the earliest best member scoring at least MIN_COVERAGE, if any."""
        if not self.codes or not code:
            return None
        shared = process.cdist([code], self.codes, scorer=LCSseq.similarity, dtype=np.int32)[0]
        lengths = np.fromiter((len(c) for c in self.codes), dtype=np.int32, count=len(self.codes))
        shorter = np.minimum(lengths, len(code))
        identical = (shared == len(code)) & (lengths == len(code))
        scores = np.where(
            shorter < MIN_SHARED_WORDS,
            identical.astype(float),
            np.where(shared >= MIN_SHARED_WORDS, shared / np.maximum(shorter, 1), 0.0),
        )
        best = int(np.argmax(scores))  # the first of equal scores: the earliest member
        if scores[best] < MIN_COVERAGE:
            return None
        return self.clusters[best], float(scores[best])


_CANDIDATES_SQL = f"""
WITH s AS (
    SELECT
        s.statement_id,
        coalesce(n.canonical, s.speaker) AS speaker,
        s.speaker IS NOT NULL AND s.speaker_type IN {CLUSTERED_SPEAKER_TYPES} AS clustered,
        s.quote,
        coalesce(a.published_at, a.fetched_at) AS seen_at,
        c.cluster_id
    FROM statements s
    JOIN articles a USING (article_id)
    LEFT JOIN v_speaker_names n ON n.name = s.speaker
    LEFT JOIN quote_clusters c USING (statement_id)
)
SELECT statement_id, speaker, clustered, quote, cluster_id
FROM s
WHERE cluster_id IS NULL
   OR (clustered AND speaker IN (SELECT speaker FROM s WHERE cluster_id IS NULL AND clustered))
ORDER BY seen_at NULLS LAST, statement_id
"""


def assign_clusters(con: duckdb.DuckDBPyConnection) -> int:
    """Give every statement without a cluster one, inside the caller's transaction; returns how many.

    Rows of statements that no longer exist (replaced by a re-analysis) are dropped first, so their
    articles' new statements are clustered again: this is how ``reprocess`` rebuilds what it touches.
    """
    con.execute("DELETE FROM quote_clusters WHERE statement_id NOT IN (SELECT statement_id FROM statements)")
    pending = con.execute(
        "SELECT count(*) FROM statements WHERE statement_id NOT IN (SELECT statement_id FROM quote_clusters)"
    ).fetchone()[0]
    if not pending:  # resolving canonical speakers (v_speaker_names) is the expensive part: skip it
        return 0
    rows = con.execute(_CANDIDATES_SQL).fetchall()
    vocabulary = _Vocabulary()
    # Every clustered statement is a candidate, whichever order the articles were written in.
    pools: dict[str, _SpeakerPool] = defaultdict(_SpeakerPool)
    for _, speaker, _, quote, cluster_id in rows:
        if cluster_id is not None:
            pools[speaker].add(vocabulary.encode(quote_words(quote)), cluster_id)
    assigned: list[tuple[str, str, float]] = []
    for statement_id, speaker, clustered, quote, cluster_id in rows:
        if cluster_id is not None:
            continue
        cluster, score = statement_id, 1.0
        if clustered:
            code = vocabulary.encode(quote_words(quote))
            match = pools[speaker].closest(code)
            if match is not None:
                cluster, score = match
            pools[speaker].add(code, cluster)
        assigned.append((statement_id, cluster, round(score, 4)))
    if assigned:
        # One INSERT from an Arrow table: row-by-row executemany is slow in DuckDB.
        con.register("new_clusters", pa.table({
            "statement_id": [a[0] for a in assigned], "cluster_id": [a[1] for a in assigned],
            "match_score": pa.array([a[2] for a in assigned], pa.float64()),
        }))  # fmt: skip
        con.execute(
            # NOT EXISTS, not ON CONFLICT: the DuckLake backend has no key constraints (storage/lake.py).
            "INSERT INTO quote_clusters BY NAME"
            " SELECT statement_id, cluster_id, match_score, now() AS assigned_at FROM new_clusters n"
            " WHERE NOT EXISTS (SELECT 1 FROM quote_clusters q WHERE q.statement_id = n.statement_id)"
        )
        con.unregister("new_clusters")
    return len(assigned)


def rebuild_clusters(con: duckdb.DuckDBPyConnection) -> int:
    """Forget every assignment and cluster all statements again (after speaker aliases changed)."""
    con.execute("DELETE FROM quote_clusters")
    return assign_clusters(con)
