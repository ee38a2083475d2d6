"""Every read and write the pipeline and the CLI make, as methods on Store.

Writes happen in short transactions (one per batch) so that an analyst's
connection is blocked for as little time as possible, and so that a crash
loses at most the batch in flight, which the next run then redoes. The
pipeline does not call the write methods itself: it sends write commands
(storage/commands.py) through a writer (storage/writer.py), which may keep
them in the spool while another process holds the file.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from saidwhat.storage.clusters import assign_clusters, rebuild_clusters
from saidwhat.storage.db import Database, DatabaseLocked

from saidwhat.core.notices import lock_wait_began
from saidwhat.core.records import Analysis, Article, FeedSpec, FetchErrorRecord, TextSource, TopicEvidence


def statement_id_for(article_id: str, quote_start: int, quote_end: int, extractor_version: str) -> str:
    key = f"{article_id}:{quote_start}:{quote_end}:{extractor_version}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class FeedState:
    feed_url: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    consecutive_failures: int
    healthy: bool
    next_poll_after: datetime | None


@dataclass(frozen=True, slots=True)
class FeedCheck:
    """A feed polled without error, with the validators to send next time."""

    feed_url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: str
    feeds_polled: int
    new_articles: int
    new_statements: int
    errors: int
    status: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class AnalysedArticle:
    """An article's NLP result with the topics of each statement and their evidence (same order)."""

    article_id: str
    analysis: Analysis
    topics: tuple[tuple[str, ...], ...]
    # Per statement, why it has its topics; empty for results spooled by an older saidwhat.
    evidence: tuple[tuple[TopicEvidence, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class StatementFilter:
    topic: str | None = None
    speaker: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    publisher: str | None = None
    kind: str | None = None
    limit: int | None = None
    text: str | None = None  # words in the quote, the sentence or the headline (case-insensitive)


_ARTICLE_COLUMNS = (
    "article_id", "url", "canonical_url", "feed_url", "guid", "title", "authors", "publisher",
    "published_at", "fetched_at", "text", "text_source", "text_hash", "fallback_reason", "run_id",
)  # fmt: skip


class Store:
    """The pipeline's view of one DuckDB file."""

    def __init__(self, path: Path, lock_patience_seconds: float = 60.0) -> None:
        self.db = Database(path, lock_patience_seconds)

    @property
    def path(self) -> Path:
        return self.db.path

    def migrate(self) -> int:
        return self.db.schema_version()

    # ------------------------------------------------------------------ runs
    @contextmanager
    def exclusive_run(self, patience_seconds: float | None = None) -> Iterator[None]:
        """Hold ``<db>.lock`` for a whole ingest run: one writer pipeline at a time.

        A second run waits up to ``patience_seconds`` (default: the database's
        lock patience) and then raises DatabaseLocked naming the holder. The
        lock is released by the kernel when its holder dies, even by SIGKILL.
        """
        patience = self.db.lock_patience_seconds if patience_seconds is None else patience_seconds
        lock_path = self.path.with_name(self.path.name + ".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a+", encoding="utf-8") as handle:
            deadline = time.monotonic() + patience
            announced = False
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not announced and patience > 0:
                        announced = True
                        lock_wait_began(self.path, patience, "run")
                    if time.monotonic() >= deadline:
                        handle.seek(0)
                        holder = handle.read().strip() or "another process"
                        raise DatabaseLocked(
                            f"another ingest is writing to {self.path} ({holder}); waited {patience:g}s for"
                            f" {lock_path.name}: try again when it has finished"
                        ) from None
                    time.sleep(0.2)
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                handle.flush()
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def start_run(self, run_id: str) -> None:
        """Record a new run; runs still marked running were killed (the caller holds the run lock)."""
        with self.db.transaction() as con:
            con.execute(
                "UPDATE runs SET status = 'interrupted', message = 'the process stopped before the run finished'"
                " WHERE status = 'running'"
            )
            con.execute("INSERT INTO runs (run_id, started_at, status) VALUES (?, now(), 'running')", [run_id])

    def finish_run(self, summary: RunSummary) -> None:
        with self.db.transaction() as con:
            con.execute(
                "UPDATE runs SET finished_at = now(), status = ?, feeds_polled = ?, new_articles = ?,"
                " new_statements = ?, errors = ?, message = ? WHERE run_id = ?",
                [summary.status, summary.feeds_polled, summary.new_articles, summary.new_statements,
                 summary.errors, summary.message, summary.run_id],
            )  # fmt: skip

    def cancel_run(self, run_id: str, message: str) -> None:
        """Record that a run was stopped by a signal; its unfinished work is redone by the next run."""
        with self.db.transaction() as con:
            con.execute(
                "UPDATE runs SET finished_at = now(), status = 'cancelled', message = ?"
                " WHERE run_id = ? AND status = 'running'",
                [message, run_id],
            )

    def record_errors(self, run_id: str, errors: Sequence[FetchErrorRecord]) -> None:
        if not errors:
            return
        with self.db.transaction() as con:
            con.executemany(
                "INSERT INTO fetch_errors (run_id, occurred_at, feed_url, url, stage, error_class, message)"
                " VALUES (?, now(), ?, ?, ?, ?, ?)",
                [[run_id, e.feed_url, e.url, e.stage, e.error_class, e.message[:2000]] for e in errors],
            )

    # ----------------------------------------------------------------- feeds
    def sync_feeds(self, specs: Iterable[FeedSpec]) -> None:
        specs = list({s.url: s for s in specs}.values())  # one row per feed URL, or the upsert fails
        if not specs:
            return
        table = pa.table({
            "feed_url": [s.url for s in specs], "name": [s.name for s in specs],
            "publisher": pa.array([s.publisher for s in specs], pa.string()),
        })  # fmt: skip
        with self.db.transaction() as con:
            con.register("configured_feeds", table)
            con.execute(
                "INSERT INTO feeds (feed_url, name, publisher) SELECT feed_url, name, publisher FROM configured_feeds"
                " ON CONFLICT (feed_url) DO UPDATE SET name = excluded.name, publisher = excluded.publisher"
            )

    def feed_states(self) -> dict[str, FeedState]:
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT feed_url, etag, last_modified, body_hash, consecutive_failures, healthy, next_poll_after"
                " FROM feeds"
            ).fetchall()
        return {row[0]: FeedState(*row) for row in rows}

    def record_feed_successes(self, checks: Sequence[FeedCheck]) -> None:
        """Mark feeds healthy and keep their validators, all in one transaction.

        One statement for every feed: with a hundred feeds, a transaction per
        feed was most of the cost of a run that found nothing new.
        """
        if checks:
            with self.db.transaction() as con:
                _mark_feeds_polled(con, checks)

    def record_feed_failure(
        self, feed_url: str, message: str, unhealthy_after: int, next_poll_after: datetime | None
    ) -> None:
        with self.db.transaction() as con:
            con.execute(
                "UPDATE feeds SET last_polled_at = now(), consecutive_failures = consecutive_failures + 1,"
                " healthy = (consecutive_failures + 1) < ?, last_error = ?, next_poll_after = ?"
                " WHERE feed_url = ?",
                [unhealthy_after, message[:500], next_poll_after, feed_url],
            )

    # -------------------------------------------------------------- articles
    def unseen(self, keys: Sequence[tuple[str, str, str]]) -> set[tuple[str, str]]:
        """Of (feed_url, guid, canonical_url) keys, those whose item and URL are both unknown."""
        if not keys:
            return set()
        table = pa.table(
            {
                "feed_url": [k[0] for k in keys],
                "guid": [k[1] for k in keys],
                "canonical_url": [k[2] for k in keys],
            }
        )
        with self.db.connect() as con:
            con.register("candidate_items", table)
            rows = con.execute(
                "SELECT c.feed_url, c.guid FROM candidate_items c"
                " WHERE NOT EXISTS (SELECT 1 FROM article_sources s WHERE s.feed_url = c.feed_url AND s.guid = c.guid)"
                " AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.canonical_url = c.canonical_url)"
            ).fetchall()
        return {(r[0], r[1]) for r in rows}

    def link_known_sources(self, keys: Sequence[tuple[str, str, str, str]]) -> None:
        """Record (feed_url, guid, url, canonical_url) items whose article is already stored."""
        if not keys:
            return
        table = pa.table({
            "feed_url": [k[0] for k in keys], "guid": [k[1] for k in keys],
            "url": [k[2] for k in keys], "canonical_url": [k[3] for k in keys],
        })  # fmt: skip
        with self.db.transaction() as con:
            con.register("known_items", table)
            con.execute(
                "INSERT INTO article_sources BY NAME SELECT k.feed_url, k.guid, k.url, a.article_id, now() AS seen_at"
                " FROM known_items k JOIN articles a ON a.canonical_url = k.canonical_url"
                " ON CONFLICT DO NOTHING"
            )

    def add_articles(self, articles: Sequence[Article]) -> list[str]:
        """Store new articles in one transaction; returns the ids actually added.

        An article whose canonical URL or page text is already stored becomes
        another source of the stored one instead of a second copy.
        """
        if not articles:
            return []
        added: list[str] = []
        with self.db.transaction() as con:
            for article in _unique_by_id(articles):
                existing = self._existing_article(con, article)
                if existing is None:
                    con.execute(
                        f"INSERT INTO articles ({', '.join(_ARTICLE_COLUMNS)})"
                        f" VALUES ({', '.join('?' for _ in _ARTICLE_COLUMNS)})",
                        _article_row(article),
                    )
                    added.append(article.article_id)
                    existing = article.article_id
                con.execute(
                    "INSERT INTO article_sources (feed_url, guid, url, article_id, seen_at)"
                    " VALUES (?, ?, ?, ?, now()) ON CONFLICT DO NOTHING",
                    [article.feed_url, article.guid, article.url, existing],
                )
        return added

    @staticmethod
    def _existing_article(con: duckdb.DuckDBPyConnection, article: Article) -> str | None:
        row = con.execute("SELECT article_id FROM articles WHERE canonical_url = ?", [article.canonical_url]).fetchone()
        if row is None and article.text_source is TextSource.PAGE:
            row = con.execute(
                "SELECT article_id FROM articles WHERE text_hash = ? AND text_source = 'page' LIMIT 1",
                [article.text_hash],
            ).fetchone()
        return row[0] if row else None

    def articles_to_process(self, extractor_version: str, limit: int) -> list[tuple[str, str, str | None]]:
        """(article_id, text, title) of articles not yet analysed by this extractor version."""
        with self.db.connect() as con:
            return con.execute(
                "SELECT article_id, text, title FROM articles"
                " WHERE extractor_version IS DISTINCT FROM ? ORDER BY fetched_at, article_id LIMIT ?",
                [extractor_version, limit],
            ).fetchall()

    def articles_for_page_retry(self, max_attempts: int) -> list[tuple[str, str, str]]:
        """(article_id, url, feed_url) of summary-only articles whose page may still be fetched."""
        with self.db.connect() as con:
            return con.execute(
                "SELECT article_id, url, feed_url FROM articles"
                " WHERE text_source = 'feed_summary' AND page_attempts < ? ORDER BY fetched_at",
                [max_attempts],
            ).fetchall()

    def record_page_retries(self, recovered: Sequence[Article], failed: Sequence[str]) -> None:
        """Count a page retry of each article; the ``recovered`` ones get their page text instead of the summary."""
        if not recovered and not failed:
            return
        with self.db.transaction() as con:
            if failed:
                con.register("failed_retries", pa.table({"article_id": pa.array(list(failed), pa.string())}))
                con.execute(
                    "UPDATE articles SET page_attempts = page_attempts + 1"
                    " WHERE article_id IN (SELECT article_id FROM failed_retries)"
                )
            for article in recovered:
                con.execute(
                    "UPDATE articles SET page_attempts = page_attempts + 1, text = ?, text_source = ?, text_hash = ?,"
                    " title = coalesce(?, title), authors = ?, published_at = coalesce(published_at, ?),"
                    " fallback_reason = NULL, fetched_at = now(), extractor_version = NULL, processed_at = NULL"
                    " WHERE article_id = ?",
                    [article.text, str(article.text_source), article.text_hash, article.title,
                     list(article.authors), article.published_at, article.article_id],
                )  # fmt: skip

    # -------------------------------------------------------------- analyses
    def save_analyses(self, results: Sequence[AnalysedArticle], extractor_version: str) -> int:
        """Replace the statements and mentions of these articles in one transaction."""
        if not results:
            return 0
        ids = [r.article_id for r in results]
        statements = pa.Table.from_pylist(
            [
                _statement_row(r.article_id, s, topics, evidence, extractor_version, r.analysis.statements)
                for r in results
                for s, topics, evidence in zip(
                    r.analysis.statements, r.topics, r.evidence or [()] * len(r.topics), strict=True
                )
            ],
            schema=_STATEMENT_SCHEMA,
        )
        mentions = pa.Table.from_pylist(
            [
                {"article_id": r.article_id, "start_char": m.start, "end_char": m.end,
                 "text": m.text, "label": m.label, "canonical": m.canonical}
                for r in results
                for m in r.analysis.mentions
            ],
            schema=_MENTION_SCHEMA,
        )  # fmt: skip
        aliases = pa.Table.from_pylist(
            [
                {"alias": alias, "canonical": canonical}
                for r in results
                for canonical, surface_forms in r.analysis.speaker_aliases.items()
                for alias in surface_forms
                if alias != canonical
            ],
            schema=pa.schema([("alias", pa.string()), ("canonical", pa.string())]),
        )
        with self.db.transaction() as con:
            con.register("ids", pa.table({"article_id": ids}))
            con.execute("DELETE FROM statements WHERE article_id IN (SELECT article_id FROM ids)")
            con.execute("DELETE FROM mentions WHERE article_id IN (SELECT article_id FROM ids)")
            con.register("new_statements", statements)
            # BY NAME: later migrations add columns at the end of the table.
            con.execute(
                "INSERT INTO statements BY NAME SELECT *, now() AS created_at FROM new_statements"
                " ON CONFLICT DO NOTHING"
            )
            con.register("new_mentions", mentions)
            con.execute("INSERT INTO mentions BY NAME SELECT * FROM new_mentions ON CONFLICT DO NOTHING")
            con.register("new_aliases", aliases)
            # First sighting wins; a config alias is never overwritten by the NLP.
            con.execute(
                "INSERT INTO speaker_aliases BY NAME SELECT alias, any_value(canonical) AS canonical, 'nlp' AS source"
                " FROM new_aliases"
                " GROUP BY alias ON CONFLICT DO NOTHING"
            )
            con.execute(
                "UPDATE articles SET extractor_version = ?, processed_at = now()"
                " WHERE article_id IN (SELECT article_id FROM ids)",
                [extractor_version],
            )
            assign_clusters(con)  # same transaction: no statement is ever visible without its cluster
        return statements.num_rows

    def replace_topics(self, decided: Sequence[tuple[str, Sequence[str], Sequence[TopicEvidence]]]) -> int:
        """Set statements' topics and topic evidence in one transaction; returns how many changed topics."""
        if not decided:
            return 0
        table = pa.table(
            {
                "statement_id": [sid for sid, _, _ in decided],
                "topics": [list(topics) for _, topics, _ in decided],
                "topic_evidence": [evidence_rows(evidence) for _, _, evidence in decided],
            },
            schema=pa.schema(
                [
                    ("statement_id", pa.string()),
                    ("topics", pa.list_(pa.string())),
                    ("topic_evidence", TOPIC_EVIDENCE_TYPE),
                ]
            ),
        )
        with self.db.transaction() as con:
            con.register("new_topics", table)
            row = con.execute(
                "SELECT count(*) FROM statements s JOIN new_topics n USING (statement_id)"
                " WHERE s.topics IS DISTINCT FROM n.topics"
            ).fetchone()
            con.execute(
                "UPDATE statements SET topics = n.topics, topic_evidence = n.topic_evidence FROM new_topics n"
                " WHERE statements.statement_id = n.statement_id AND (statements.topics IS DISTINCT FROM n.topics"
                " OR statements.topic_evidence IS DISTINCT FROM n.topic_evidence)"
            )
        return int(row[0])

    def rebuild_clusters(self) -> int:
        """Cluster every statement again (speaker aliases decide who can share a cluster); one transaction."""
        with self.db.transaction() as con:
            return rebuild_clusters(con)

    def set_config_aliases(self, aliases: dict[str, str]) -> None:
        """Make the 'config' rows of speaker_aliases exactly ``aliases`` ([speakers.aliases] in config.toml)."""
        with self.db.transaction() as con:
            con.register("config_aliases", pa.table({
                "alias": list(aliases), "canonical": list(aliases.values()),
            }, schema=pa.schema([("alias", pa.string()), ("canonical", pa.string())])))  # fmt: skip
            # An alias removed from the config stops applying.
            con.execute(
                "DELETE FROM speaker_aliases WHERE source = 'config'"
                " AND alias NOT IN (SELECT alias FROM config_aliases)"
            )
            con.execute(
                "INSERT INTO speaker_aliases BY NAME SELECT alias, canonical, 'config' AS source FROM config_aliases"
                " ON CONFLICT (alias) DO UPDATE SET canonical = excluded.canonical, source = 'config'"
            )

    # --------------------------------------------------------------- queries
    def statements(self, where: StatementFilter) -> list[dict[str, Any]]:
        clauses, params = filter_sql(where)
        sql = (
            "SELECT speaker, speaker_role, speaker_type, kind, cue, quote, topics, publisher, published_at,"
            " title, url, statement_id, topic_evidence FROM v_statements"
            + (" WHERE " + " AND ".join(clauses) if clauses else "")
            + " ORDER BY published_at NULLS LAST, speaker, quote"
            + (f" LIMIT {int(where.limit)}" if where.limit else "")
        )
        with self.db.connect(read_only=True) as con:
            cursor = con.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def counts(self) -> dict[str, int]:
        with self.db.connect(read_only=True) as con:
            return {
                table: int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for table in ("feeds", "articles", "article_sources", "statements", "mentions", "runs", "fetch_errors")
            }


def _mark_feeds_polled(con: duckdb.DuckDBPyConnection, checks: Sequence[FeedCheck]) -> None:
    checks = list({c.feed_url: c for c in checks}.values())  # an UPDATE may touch each row once
    table = pa.table(
        {
            "feed_url": [c.feed_url for c in checks],
            "etag": pa.array([c.etag for c in checks], pa.string()),
            "last_modified": pa.array([c.last_modified for c in checks], pa.string()),
            "body_hash": pa.array([c.body_hash for c in checks], pa.string()),
        }
    )
    con.register("polled_feeds", table)
    con.execute(
        "UPDATE feeds SET etag = coalesce(p.etag, feeds.etag),"
        " last_modified = coalesce(p.last_modified, feeds.last_modified),"
        " body_hash = coalesce(p.body_hash, feeds.body_hash), last_polled_at = now(), last_ok_at = now(),"
        " consecutive_failures = 0, healthy = TRUE, last_error = NULL, next_poll_after = NULL"
        " FROM polled_feeds p WHERE feeds.feed_url = p.feed_url"
    )


def filter_sql(where: StatementFilter) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if where.topic:
        clauses.append("list_contains(topics, ?)")
        params.append(where.topic)
    if where.speaker:
        # The said_by macro's rule (storage/views.sql), so `who --speaker` and SQL users agree on who is who.
        clauses.append("speaker IN (SELECT speaker FROM said_by(?))")
        params.append(where.speaker)
    if where.since:
        clauses.append("published_at >= ?")
        params.append(where.since)
    if where.until:
        clauses.append("published_at < ?")
        params.append(where.until)
    if where.publisher:
        clauses.append("publisher ILIKE ?")
        params.append(where.publisher)
    if where.kind:
        clauses.append("kind = ?")
        params.append(where.kind)
    if where.text:
        clauses.append("(contains(lower(quote), lower(?)) OR contains(lower(sentence), lower(?))"
                       " OR contains(lower(coalesce(title, '')), lower(?)))")  # fmt: skip
        params += [where.text] * 3
    return clauses, params


def _unique_by_id(articles: Sequence[Article]) -> list[Article]:
    seen: dict[str, Article] = {}
    for article in articles:
        seen.setdefault(article.article_id, article)
    return list(seen.values())


def _article_row(a: Article) -> list[Any]:
    return [
        a.article_id, a.url, a.canonical_url, a.feed_url, a.guid, a.title, list(a.authors), a.publisher,
        a.published_at, a.fetched_at, a.text, str(a.text_source), a.text_hash, a.fallback_reason, None,
    ]  # fmt: skip


# statements.topic_evidence (migration 007).
TOPIC_EVIDENCE_TYPE = pa.list_(
    pa.struct([("topic", pa.string()), ("rule", pa.string()), ("phrase", pa.string()), ("place", pa.string())])
)

_STATEMENT_SCHEMA = pa.schema([
    ("statement_id", pa.string()), ("article_id", pa.string()), ("quote", pa.string()),
    ("quote_start", pa.int32()), ("quote_end", pa.int32()), ("quote_spans", pa.list_(pa.list_(pa.int32()))),
    ("kind", pa.string()), ("speaker", pa.string()), ("speaker_mention", pa.string()),
    ("speaker_start", pa.int32()), ("speaker_end", pa.int32()), ("speaker_type", pa.string()),
    ("speaker_role", pa.string()), ("cue", pa.string()), ("cue_lemma", pa.string()),
    ("cue_start", pa.int32()), ("cue_end", pa.int32()), ("sentence", pa.string()),
    ("sentence_start", pa.int32()), ("sentence_end", pa.int32()), ("entities", pa.list_(pa.string())),
    ("topics", pa.list_(pa.string())), ("extractor_version", pa.string()),
    ("topic_evidence", TOPIC_EVIDENCE_TYPE), ("rule", pa.string()), ("nested_in", pa.string()),
])  # fmt: skip


def evidence_rows(evidence: Sequence[TopicEvidence]) -> list[dict[str, str]]:
    """TopicEvidence as the rows of statements.topic_evidence."""
    return [{"topic": e.topic, "rule": e.rule, "phrase": e.phrase, "place": e.place} for e in evidence]


_MENTION_SCHEMA = pa.schema([
    ("article_id", pa.string()), ("start_char", pa.int32()), ("end_char", pa.int32()),
    ("text", pa.string()), ("label", pa.string()), ("canonical", pa.string()),
])  # fmt: skip


def _statement_row(
    article_id: str,
    s: Any,
    topics: Sequence[str],
    evidence: Sequence[TopicEvidence],
    extractor_version: str,
    siblings: Sequence[Any],
) -> dict[str, Any]:
    """One statements row; ``siblings`` are the article's statements (``s.nested_in`` indexes them)."""
    outer = siblings[s.nested_in] if s.nested_in is not None else None
    return {
        "statement_id": statement_id_for(article_id, s.quote_start, s.quote_end, extractor_version),
        "article_id": article_id, "quote": s.quote, "quote_start": s.quote_start, "quote_end": s.quote_end,
        "quote_spans": [list(span) for span in s.quote_spans] or None, "kind": str(s.kind),
        "speaker": s.speaker, "speaker_mention": s.speaker_mention, "speaker_start": s.speaker_start,
        "speaker_end": s.speaker_end, "speaker_type": str(s.speaker_type), "speaker_role": s.speaker_role,
        "cue": s.cue, "cue_lemma": s.cue_lemma, "cue_start": s.cue_start, "cue_end": s.cue_end,
        "sentence": s.sentence, "sentence_start": s.sentence_start, "sentence_end": s.sentence_end,
        "entities": list(s.entities), "topics": list(topics), "extractor_version": extractor_version,
        "topic_evidence": evidence_rows(evidence), "rule": s.rule,
        "nested_in": statement_id_for(article_id, outer.quote_start, outer.quote_end, extractor_version)
        if outer is not None else None,
    }  # fmt: skip
