"""The analysts' reads and the re-processing writes: speakers, status, retag, reprocess, snapshot.

Kept apart from storage/store.py (the ingest pipeline's reads and writes);
every SQL statement is here, the callers get rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from saidwhat.core.errors import SaidwhatError
from saidwhat.storage.store import Store

# What `saidwhat snapshot` exports: the analysts' views and the tables behind them.
SNAPSHOT_RELATIONS = (
    "v_statements", "v_speakers", "v_speaker_names", "v_quotes", "articles", "statements", "mentions",
    "speaker_aliases", "quote_clusters", "article_sources", "feeds", "runs", "fetch_errors", "topic_labels",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class StoredStatement:
    """What retagging needs of one statement."""

    statement_id: str
    quote: str
    sentence: str
    sentence_start: int
    sentence_end: int
    topics: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredArticle:
    article_id: str
    text: str
    title: str | None
    statements: tuple[StoredStatement, ...]


def _rows(cursor: Any) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class Analyst:
    """Queries and maintenance on one saidwhat database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    def ensure_schema(self) -> None:
        """Apply pending migrations (a database from an older saidwhat lacks the analysts' views)."""
        from saidwhat.storage.db import DatabaseLocked, migrations

        latest = max(version for version, _, _ in migrations())
        if not self.db.exists():
            raise SaidwhatError(self.db.missing_message())
        with self.db.connect(read_only=True) as con:
            row = con.execute("SELECT max(version) FROM schema_version").fetchone()
        if int(row[0] or 0) >= latest:
            return
        try:
            self.store.migrate()
        except DatabaseLocked:
            raise SaidwhatError(
                f"{self.db.describe()} needs schema version {latest} (it has {row[0]}) and another process holds it:"
                " run the command again when the ingest has finished"
            ) from None

    # ------------------------------------------------------------- speakers
    def speakers(self, about: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """v_speakers, or the same per-speaker figures over the statements tagged ``about``."""
        if about is None:
            sql = "SELECT * FROM v_speakers ORDER BY statements DESC, speaker"
            params: list[Any] = []
        else:
            sql = (
                "SELECT speaker, mode(speaker_type ORDER BY speaker_type) AS speaker_type,"
                " list(DISTINCT speaker_role ORDER BY speaker_role) FILTER (WHERE speaker_role IS NOT NULL) AS roles,"
                " count(*) AS statements, count(DISTINCT article_id) AS articles,"
                " count(DISTINCT publisher) AS publishers, min(published_at) AS first_seen,"
                " max(published_at) AS last_seen"
                " FROM said_about(?) WHERE speaker IS NOT NULL GROUP BY speaker ORDER BY statements DESC, speaker"
            )
            params = [about]
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self.db.connect(read_only=True) as con:
            return _rows(con.execute(sql, params))

    # --------------------------------------------------------------- status
    def recent_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        with self.db.connect(read_only=True) as con:
            return _rows(
                con.execute(
                    "SELECT run_id, started_at, finished_at, status, feeds_polled, new_articles, new_statements,"
                    " errors, message FROM runs ORDER BY started_at DESC, run_id DESC LIMIT ?",
                    [limit],
                )
            )

    def feed_health(self) -> list[dict[str, Any]]:
        with self.db.connect(read_only=True) as con:
            return _rows(
                con.execute(
                    "SELECT f.name, f.publisher, f.healthy, f.consecutive_failures, f.last_ok_at, f.last_polled_at,"
                    " f.next_poll_after, f.last_error,"
                    " (SELECT count(*) FROM articles a WHERE a.feed_url = f.feed_url) AS articles,"
                    " (SELECT max(published_at) FROM articles a WHERE a.feed_url = f.feed_url) AS latest_article,"
                    " f.feed_url"
                    " FROM feeds f ORDER BY f.healthy, f.consecutive_failures DESC, f.name"
                )
            )

    def fetch_errors(self, run_id: str | None = None) -> tuple[str | None, list[dict[str, Any]]]:
        """The run (``run_id``, or the latest run) and its fetch_errors, in the order they happened."""
        with self.db.connect(read_only=True) as con:
            if run_id is None:
                row = con.execute("SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1").fetchone()
                run_id = row[0] if row else None
            else:
                known = con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [run_id]).fetchone()[0]
                if not known:
                    recent = "SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 3"
                    latest = [r[0] for r in con.execute(recent).fetchall()]
                    raise SaidwhatError(
                        f"no run {run_id!r} in {self.db.path}: the latest runs are {', '.join(latest) or 'none'}"
                    )
            if run_id is None:
                return None, []
            return run_id, _rows(
                con.execute(
                    "SELECT occurred_at, run_id, stage, error_class, message, url, feed_url FROM fetch_errors"
                    " WHERE run_id = ? ORDER BY occurred_at, stage, url",
                    [run_id],
                )
            )

    def counts(self) -> dict[str, int]:
        tables = ("feeds", "articles", "article_sources", "statements", "mentions", "speaker_aliases", "runs",
                  "fetch_errors")  # fmt: skip
        with self.db.connect(read_only=True) as con:
            counts = {t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables}
            counts["speakers"] = int(con.execute("SELECT count(*) FROM v_speakers").fetchone()[0])
            counts["articles_awaiting_nlp"] = int(
                con.execute("SELECT count(*) FROM articles WHERE extractor_version IS NULL").fetchone()[0]
            )
        return counts

    def stored_topics(self) -> list[str]:
        """Topic names that tag at least one stored statement."""
        with self.db.connect(read_only=True) as con:
            rows = con.execute("SELECT DISTINCT unnest(topics) AS t FROM statements ORDER BY t").fetchall()
        return [r[0] for r in rows]

    def check_topic(self, topic: str, configured: list[str]) -> None:
        """A topic is known if the config defines it or stored statements carry it; else a one-line error."""
        if topic in configured:
            return
        stored = self.stored_topics()
        if topic not in stored:
            known = ", ".join(sorted(set(configured) | set(stored))) or "none"
            raise SaidwhatError(f"unknown topic {topic!r}: known topics are {known}")

    # ---------------------------------------------------------------- retag
    def articles_with_statements(self, after: str | None, limit: int) -> list[StoredArticle]:
        """Articles (by id, after ``after``) that have statements, with those statements."""
        with self.db.connect() as con:
            articles = con.execute(
                "SELECT article_id, text, title FROM articles a"
                " WHERE (? IS NULL OR article_id > ?) AND EXISTS (SELECT 1 FROM statements s"
                " WHERE s.article_id = a.article_id) ORDER BY article_id LIMIT ?",
                [after, after, limit],
            ).fetchall()
            if not articles:
                return []
            con.register("batch_ids", pa.table({"article_id": [a[0] for a in articles]}))
            rows = con.execute(
                "SELECT article_id, statement_id, quote, sentence, sentence_start, sentence_end, topics"
                " FROM statements WHERE article_id IN (SELECT article_id FROM batch_ids)"
                " ORDER BY article_id, quote_start, statement_id"
            ).fetchall()
        by_article: dict[str, list[StoredStatement]] = {}
        for article_id, *rest in rows:
            statement_id, quote, sentence, start, end, topics = rest
            by_article.setdefault(article_id, []).append(
                StoredStatement(statement_id, quote, sentence, start, end, tuple(topics or ()))
            )
        return [StoredArticle(a, text, title, tuple(by_article.get(a, ()))) for a, text, title in articles]

    # ------------------------------------------------------------ reprocess
    def articles_for_reprocess(
        self, extractor_version: str, everything: bool, after: str | None, limit: int
    ) -> list[tuple[str, str, str | None]]:
        """(article_id, text, title) of articles whose statements are stale (or all), by id after ``after``."""
        with self.db.connect() as con:
            return con.execute(
                "SELECT article_id, text, title FROM articles"
                " WHERE (? OR extractor_version IS DISTINCT FROM ?"
                "        OR EXISTS (SELECT 1 FROM statements s WHERE s.article_id = articles.article_id"
                "                   AND s.extractor_version <> ?))"
                " AND (? IS NULL OR article_id > ?) ORDER BY article_id LIMIT ?",
                [everything, extractor_version, extractor_version, after, after, limit],
            ).fetchall()

    def count_for_reprocess(self, extractor_version: str, everything: bool) -> int:
        with self.db.connect() as con:
            row = con.execute(
                "SELECT count(*) FROM articles WHERE ? OR extractor_version IS DISTINCT FROM ?"
                " OR EXISTS (SELECT 1 FROM statements s WHERE s.article_id = articles.article_id"
                "            AND s.extractor_version <> ?)",
                [everything, extractor_version, extractor_version],
            ).fetchone()
        return int(row[0])

    # ------------------------------------------------------------- snapshot
    def snapshot(self, out_dir: Path) -> list[tuple[str, Path, int]]:
        """Export the views and tables to Parquet files in ``out_dir``; (name, file, rows) each.

        One read-only connection for all of them, so the files are consistent
        with each other; each file is written to a temporary name and renamed.
        """
        import os

        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        with self.db.connect(read_only=True) as con:
            con.execute("BEGIN TRANSACTION")
            for name in SNAPSHOT_RELATIONS:
                target = out_dir / f"{name}.parquet"
                tmp = out_dir / f".{name}.parquet.tmp"
                order = "statement_id" if name in ("v_statements", "statements") else "ALL"
                con.execute(
                    f"COPY (SELECT * FROM {name} ORDER BY {order}) TO '{_sql_path(tmp)}'"
                    " (FORMAT parquet, COMPRESSION zstd)"
                )
                os.replace(tmp, target)
                rows = int(con.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
                written.append((name, target, rows))
            macros = con.execute(
                "SELECT function_name, parameters, macro_definition FROM duckdb_functions()"
                " WHERE function_type = 'table_macro' AND schema_name = 'main' AND NOT internal"
                " ORDER BY function_name"
            ).fetchall()
            con.execute("COMMIT")
        script = out_dir / "snapshot.sql"
        tmp = out_dir / ".snapshot.sql.tmp"
        tmp.write_text(_snapshot_sql(macros), encoding="utf-8")
        os.replace(tmp, script)
        written.append(("snapshot.sql", script, len(SNAPSHOT_RELATIONS) + len(macros)))
        return written


def _snapshot_sql(macros: list[tuple[str, list[str], str]]) -> str:
    """Views over the Parquet files and the table macros, for `duckdb -cmd ".read snapshot.sql"`.

    The files are named relative to the script's folder, so the folder can be
    moved or copied whole; DuckDB resolves them from the current folder, hence
    "run it from this folder".
    """
    lines = [
        "-- saidwhat snapshot: views over the Parquet files next to this script, and the table macros.",
        '-- Run it from this folder (file names are relative to it): duckdb -cmd ".read snapshot.sql"',
    ]
    for name in SNAPSHOT_RELATIONS:
        lines.append(f"CREATE OR REPLACE VIEW {name} AS FROM '{_sql_path(Path(f'{name}.parquet'))}';")
    for name, params, definition in macros:
        lines.append(f"CREATE OR REPLACE MACRO {name}({', '.join(params)}) AS TABLE {definition};")
    return "\n".join(lines) + "\n"


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
