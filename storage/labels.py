"""The analysts' topic labels (table topic_labels, migration 007): every SQL statement about them.

A label says whether one statement is about one topic. It is written only by
`saidwhat label`; `saidwhat reprocess` and `saidwhat retag` never touch the
table. Because reprocess gives re-extracted statements new ids, a label keeps
the statement's article and quote and finds its statement again by them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from saidwhat.storage.store import Store


@dataclass(frozen=True, slots=True)
class TopicLabel:
    """An analyst's judgement: the statement is (or is not) about the topic."""

    statement_id: str
    topic: str
    label: bool
    source: str


@dataclass(frozen=True, slots=True)
class StatementRef:
    """What a label import needs to find a statement: its id, article URL and quote."""

    statement_id: str
    url_path: str
    url: str
    quote: str


@dataclass(frozen=True, slots=True)
class LabelledStatement:
    """A labelled statement as it is stored now, with what re-evaluating its topics needs."""

    statement_id: str
    topic: str
    label: bool
    speaker: str | None
    quote: str
    sentence: str
    sentence_start: int
    sentence_end: int
    text: str
    title: str | None
    stored_topics: tuple[str, ...]


_URL_PATH = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]+")


def url_path(url: str) -> str:
    """The path of a URL without scheme, host, query or fragment ("/ledger/2026/01/06/x.html")."""
    return _URL_PATH.sub("", url).split("?", 1)[0].split("#", 1)[0] or "/"


class Labels:
    """Reads and writes of topic_labels on one database."""

    def __init__(self, store: Store) -> None:
        self.db = store.db

    def statement_refs(self) -> list[StatementRef]:
        """Every stored statement with its article URL and quote (to resolve a labels file)."""
        with self.db.connect(read_only=True) as con:
            rows = con.execute(
                "SELECT s.statement_id, a.url, s.quote FROM statements s JOIN articles a USING (article_id)"
                " ORDER BY a.url, s.quote_start"
            ).fetchall()
        return [StatementRef(sid, url_path(url or ""), url or "", quote) for sid, url, quote in rows]

    def known_statements(self, statement_ids: Sequence[str]) -> set[str]:
        with self.db.connect(read_only=True) as con:
            con.register("wanted", pa.table({"statement_id": list(statement_ids)}, schema=_IDS))
            rows = con.execute(
                "SELECT statement_id FROM statements WHERE statement_id IN (SELECT statement_id FROM wanted)"
            ).fetchall()
        return {r[0] for r in rows}

    def record(self, labels: Sequence[TopicLabel]) -> int:
        """Insert or replace labels (one per statement and topic) in one transaction; returns how many."""
        if not labels:
            return 0
        table = pa.table(
            {
                "statement_id": [x.statement_id for x in labels],
                "topic": [x.topic for x in labels],
                "label": [x.label for x in labels],
                "source": [x.source for x in labels],
            },
            schema=pa.schema(
                [
                    ("statement_id", pa.string()),
                    ("topic", pa.string()),
                    ("label", pa.bool_()),
                    ("source", pa.string()),
                ]
            ),
        )
        with self.db.transaction() as con:
            con.register("new_labels", table)
            # Replace by key with DELETE + INSERT, not INSERT OR REPLACE: the DuckLake backend has no key
            # constraints (storage/lake.py).
            con.execute(
                "DELETE FROM topic_labels WHERE EXISTS (SELECT 1 FROM new_labels n"
                " JOIN statements s USING (statement_id)"
                " WHERE n.statement_id = topic_labels.statement_id AND n.topic = topic_labels.topic)"
            )
            con.execute(
                "INSERT INTO topic_labels"
                " (statement_id, topic, label, article_id, quote, source, labelled_at)"
                " SELECT n.statement_id, n.topic, n.label, s.article_id, s.quote, n.source, now()"
                " FROM new_labels n JOIN statements s USING (statement_id)"
            )
        return len(labels)

    def labelled(self, topic: str | None = None) -> tuple[list[LabelledStatement], dict[str, int]]:
        """(labelled statements as stored now, per topic the number of labels whose statement is gone).

        A label follows its statement by id, or else by article and quote (after
        `saidwhat reprocess` the same quote has a new id).
        """
        with self.db.connect(read_only=True) as con:
            rows = con.execute(
                "WITH resolved AS ("
                " SELECT l.topic, l.label, coalesce(s1.statement_id, ("
                "   SELECT min(s2.statement_id) FROM statements s2"
                "   WHERE s2.article_id = l.article_id AND s2.quote = l.quote)) AS statement_id"
                " FROM topic_labels l LEFT JOIN statements s1 ON s1.statement_id = l.statement_id"
                " WHERE CAST(? AS VARCHAR) IS NULL OR l.topic = ?)"
                " SELECT r.statement_id, r.topic, r.label, v.speaker, s.quote, s.sentence, s.sentence_start,"
                " s.sentence_end, a.text, a.title, s.topics"
                " FROM resolved r LEFT JOIN statements s USING (statement_id)"
                " LEFT JOIN articles a ON a.article_id = s.article_id"
                " LEFT JOIN v_statements v ON v.statement_id = s.statement_id"
                " ORDER BY r.topic, a.url, s.quote_start",
                [topic, topic],
            ).fetchall()
        found, orphaned = [], Counter()
        for sid, t, label, speaker, quote, sentence, start, end, text, title, tags in rows:
            if quote is None:
                orphaned[t] += 1
                continue
            stored_topics = tuple(tags or ())
            found.append(
                LabelledStatement(sid, t, bool(label), speaker, quote, sentence, start, end, text, title, stored_topics)
            )
        return found, dict(orphaned)

    def topics(self) -> list[str]:
        """Topics with at least one label."""
        with self.db.connect(read_only=True) as con:
            return [r[0] for r in con.execute("SELECT DISTINCT topic FROM topic_labels ORDER BY topic").fetchall()]


_IDS = pa.schema([("statement_id", pa.string())])
