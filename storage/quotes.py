"""Reads for quote clusters and provenance: `saidwhat who --clusters`, `saidwhat show`, the quotes digest, the web.

Every read opens the database read-only and closes it when the query is done, so a reader never holds
the hourly writer for longer than one query. Filters are the ones `saidwhat who` takes
(storage.store.StatementFilter) and apply to the statements; a cluster is listed when any of its
statements passes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from saidwhat.core.errors import SaidwhatError
from saidwhat.storage.digest import STATEMENT_COLUMNS, IsoWeek
from saidwhat.storage.store import StatementFilter, Store, filter_sql

# The quotes digest file (quotes-YYYY-Www.csv) and `who --clusters --format csv|jsonl`.
QUOTE_COLUMNS = (
    "week", "first_seen", "last_seen", "speaker", "quote", "statements", "articles", "publishers", "kinds",
    "topics", "cluster_id", "statement_ids",
)  # fmt: skip
MIN_ID_PREFIX = 6


class StatementNotFound(SaidwhatError):
    """No statement has the id the user gave."""


def _rows(cursor: Any) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _limit(where: StatementFilter) -> str:
    return f" LIMIT {int(where.limit)}" if where.limit else ""


def quotes(store: Store, where: StatementFilter) -> list[dict[str, Any]]:
    """v_quotes rows with a statement passing ``where``, first seen first."""
    clauses, params = filter_sql(where)
    sql = (
        "SELECT * FROM v_quotes WHERE cluster_id IN (SELECT cluster_id FROM v_provenance"
        + (" WHERE " + " AND ".join(clauses) if clauses else "")
        + ") ORDER BY first_seen NULLS LAST, speaker NULLS LAST, cluster_id"
        + _limit(where)
    )
    with store.db.connect(read_only=True) as con:
        return _rows(con.execute(sql, params))


def statement_rows(store: Store, where: StatementFilter) -> list[dict[str, Any]]:
    """Statements passing ``where`` in the digest's statements-YYYY-Www.csv columns (plus cluster_id)."""
    clauses, params = filter_sql(where)
    columns = ", ".join("list_sort(topics) AS topics" if c == "topics" else c for c in STATEMENT_COLUMNS)
    sql = (
        f"SELECT {columns}, cluster_id FROM v_provenance"
        + (" WHERE " + " AND ".join(clauses) if clauses else "")
        + " ORDER BY coalesce(published_at, fetched_at), speaker NULLS LAST, article_id, statement_id"
        + _limit(where)
    )
    with store.db.connect(read_only=True) as con:
        return _rows(con.execute(sql, params))


def week_quotes(store: Store, week: IsoWeek, topic: str | None = None) -> list[dict[str, Any]]:
    """Clusters first seen in ``week`` (with a statement tagged ``topic``), in QUOTE_COLUMNS order."""
    sql = (
        "SELECT * FROM v_quotes WHERE week = ?"
        " AND (CAST(? AS VARCHAR) IS NULL OR cluster_id IN"
        " (SELECT cluster_id FROM v_provenance WHERE list_contains(topics, ?)))"
        " ORDER BY first_seen NULLS LAST, speaker NULLS LAST, cluster_id"
    )
    with store.db.connect(read_only=True) as con:
        return _rows(con.execute(sql, [str(week), topic, topic]))


def provenance(store: Store, statement_id: str) -> dict[str, Any]:
    """One v_provenance row by statement id (or a unique prefix of at least MIN_ID_PREFIX characters)."""
    wanted = statement_id.strip().lower()
    with store.db.connect(read_only=True) as con:
        rows = _rows(con.execute("SELECT * FROM v_provenance WHERE statement_id = ?", [wanted]))
        if not rows and len(wanted) >= MIN_ID_PREFIX:
            rows = _rows(
                con.execute(
                    "SELECT * FROM v_provenance WHERE starts_with(statement_id, ?) ORDER BY statement_id LIMIT 2",
                    [wanted],
                )
            )
    if len(rows) == 1:
        return rows[0]
    if rows:
        raise StatementNotFound(f"statement id {statement_id!r} is the start of several ids: give more of it")
    raise StatementNotFound(
        f"no statement {statement_id!r} in {store.describe()}: statement ids are in the statement_id column of"
        " `saidwhat who --format csv` (and of v_statements)"
    )


def quote_marks(row: dict[str, Any]) -> list[tuple[int, int, str]]:
    """Highlight spans of a provenance row: each piece of the quote, then the speaker mention."""
    spans = row["quote_spans"] or [(row["quote_start"], row["quote_end"])]
    marks = [(int(start), int(end), "quote") for start, end in spans]
    if row["speaker_start"] is not None and row["speaker_end"] is not None:
        marks.append((int(row["speaker_start"]), int(row["speaker_end"]), "speaker"))
    return marks


def cluster_members(store: Store, cluster_id: str) -> list[dict[str, Any]]:
    """The statements of one cluster with their article, earliest first."""
    sql = (
        "SELECT statement_id, speaker, quote, kind, publisher, published_at, title, url FROM v_provenance"
        " WHERE cluster_id = ? ORDER BY coalesce(published_at, fetched_at), statement_id"
    )
    with store.db.connect(read_only=True) as con:
        return _rows(con.execute(sql, [cluster_id]))


def filter_choices(store: Store) -> dict[str, list[Any]]:
    """Values the reading room offers in its filter menus: topics, publishers, kinds and the date range."""
    with store.db.connect(read_only=True) as con:
        topics = [r[0] for r in con.execute("SELECT DISTINCT unnest(topics) FROM statements ORDER BY 1").fetchall()]
        publishers = [r[0] for r in con.execute("SELECT DISTINCT publisher FROM articles ORDER BY 1").fetchall()]
        kinds = [r[0] for r in con.execute("SELECT DISTINCT kind FROM statements ORDER BY 1").fetchall()]
        first, last = con.execute("SELECT min(published_at), max(published_at) FROM articles").fetchone()
    return {"topics": topics, "publishers": publishers, "kinds": kinds, "dates": [_day(first), _day(last)]}


def _day(value: datetime | None) -> str | None:
    return value.date().isoformat() if value else None
