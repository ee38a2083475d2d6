"""Every read and write the pipeline and the CLI make, as methods on Store.

Writes happen in short transactions (one per batch) so that an analyst's
connection is blocked for as little time as possible, and so that a crash
loses at most the batch in flight, which the next run then redoes. The
pipeline does not call the write methods itself: it sends write commands
(storage/commands.py) through a writer (storage/writer.py), which may keep
them in the spool while another process holds the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from saidwhat.core.records import Analysis, Article, FeedSpec, FetchErrorRecord, TextSource, TopicEvidence
from saidwhat.storage.clusters import assign_clusters, rebuild_clusters
from saidwhat.storage.db import Database
from saidwhat.storage.lake import LakeDatabase


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
    newest_first: bool = False

    def given(self) -> dict[str, Any]:
        """The filters set, by field name (topic, speaker, since, until, publisher, kind, text)."""
        names = ("topic", "speaker", "since", "until", "publisher", "kind", "text")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


_ARTICLE_COLUMNS = (
    "article_id", "url", "canonical_url", "feed_url", "guid", "title", "authors", "publisher",
    "published_at", "fetched_at", "text", "text_source", "text_hash", "fallback_reason", "run_id",
)  # fmt: skip


class Store:
    """The pipeline's view of one database: a DuckDB file or a DuckLake (storage/backend.py).

    Every statement here runs on both backends, so none relies on a key
    constraint (DuckLake has none): upserts are MERGE, inserts skip rows whose
    key is already stored.
    """

    def __init__(self, path: Path | Database | LakeDatabase, lock_patience_seconds: float = 60.0) -> None:
        self.db = path if isinstance(path, Database | LakeDatabase) else Database(path, lock_patience_seconds)

    @property
    def path(self) -> Path:
        return self.db.path

    def describe(self) -> str:
        """The database for messages: the file, or the lake's catalog and data folder."""
        return self.db.describe()

    def exists(self) -> bool:
        return self.db.exists()

    def migrate(self) -> int:
        return self.db.schema_version()

    # ------------------------------------------------------------------ runs
    @contextmanager
    def exclusive_run(self, patience_seconds: float | None = None, feed_urls: Sequence[str] = ()) -> Iterator[None]:
        """Hold the run lock for a whole ingest run.

        On a DuckDB file one run at a time, whatever its feeds (a lock file next
        to the database); on a DuckLake one run per feed, so runs on different
        feed groups go on together. A run that cannot get the lock within
        ``patience_seconds`` (default: the lock patience) raises DatabaseLocked.
        """
        patience = self.db.lock_patience_seconds if patience_seconds is None else patience_seconds
        with self.db.run_lock(feed_urls, patience):
            yield

    def start_run(self, run_id: str, feed_urls: Sequence[str] = ()) -> None:
        """Record a new run on these feeds.

        Earlier runs still marked running were killed, as the caller holds the
        run lock: on a DuckDB file every such run (one run at a time); on a
        DuckLake those on any of the same feeds, or on unrecorded feeds.
        """
        feeds = sorted(set(feed_urls))
        every_run = not self.db.run_lock_per_feed or not feeds
        with self.db.transaction() as con:
            con.execute(
                "UPDATE runs SET status = 'interrupted', message = 'the process stopped before the run finished'"
                " WHERE status = 'running' AND (? OR feeds IS NULL OR len(feeds) = 0"
                " OR len(list_intersect(feeds, ?::VARCHAR[])) > 0)",
                [every_run, feeds],
            )
            con.execute(
                "INSERT INTO runs (run_id, started_at, status, feeds) VALUES (?, now(), 'running', ?)", [run_id, feeds]
            )

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
                "MERGE INTO feeds USING configured_feeds c ON feeds.feed_url = c.feed_url"
                " WHEN MATCHED AND (feeds.name IS DISTINCT FROM c.name OR feeds.publisher IS DISTINCT FROM c.publisher)"
                " THEN UPDATE SET name = c.name, publisher = c.publisher"
                " WHEN NOT MATCHED THEN INSERT (feed_url, name, publisher) VALUES (c.feed_url, c.name, c.publisher)"
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
                "INSERT INTO article_sources BY NAME"
                " SELECT k.feed_url, k.guid, arg_min(k.url, k.row) AS url, arg_min(a.article_id, k.row) AS article_id,"
                " now() AS seen_at"
                " FROM (SELECT *, row_number() OVER () AS row FROM known_items) k"
                " JOIN articles a ON a.canonical_url = k.canonical_url"
                " WHERE NOT EXISTS (SELECT 1 FROM article_sources s WHERE s.feed_url = k.feed_url AND s.guid = k.guid)"
                " GROUP BY k.feed_url, k.guid"
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
                    " SELECT ?, ?, ?, ?, now() WHERE NOT EXISTS"
                    " (SELECT 1 FROM article_sources WHERE feed_url = ? AND guid = ?)",
                    [article.feed_url, article.guid, article.url, existing, article.feed_url, article.guid],
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
        # The first row of each key wins, as a key constraint would have it, on every backend.
        statements = pa.Table.from_pylist(
            _first_per_key(
                (
                    _statement_row(r.article_id, s, topics, evidence, extractor_version, r.analysis.statements)
                    for r in results
                    for s, topics, evidence in zip(
                        r.analysis.statements, r.topics, r.evidence or [()] * len(r.topics), strict=True
                    )
                ),
                ("statement_id",),
            ),
            schema=_STATEMENT_SCHEMA,
        )
        mentions = pa.Table.from_pylist(
            _first_per_key(
                (
                    {"article_id": r.article_id, "start_char": m.start, "end_char": m.end,
                     "text": m.text, "label": m.label, "canonical": m.canonical}
                    for r in results
                    for m in r.analysis.mentions
                ),
                ("article_id", "start_char", "end_char", "label"),
            ),
            schema=_MENTION_SCHEMA,
        )  # fmt: skip
        aliases = pa.Table.from_pylist(
            _first_per_key(
                (
                    {"alias": alias, "canonical": canonical}
                    for r in results
                    for canonical, surface_forms in r.analysis.speaker_aliases.items()
                    for alias in surface_forms
                    if alias != canonical
                ),
                ("alias",),
            ),
            schema=pa.schema([("alias", pa.string()), ("canonical", pa.string())]),
        )
        with self.db.transaction() as con:
            con.register("ids", pa.table({"article_id": ids}))
            con.execute("DELETE FROM statements WHERE article_id IN (SELECT article_id FROM ids)")
            con.execute("DELETE FROM mentions WHERE article_id IN (SELECT article_id FROM ids)")
            con.register("new_statements", statements)
            # BY NAME: later migrations add columns at the end of the table. No ON CONFLICT: statement ids
            # contain the article id, and these articles' rows were just deleted.
            con.execute("INSERT INTO statements BY NAME SELECT *, now() AS created_at FROM new_statements")
            con.register("new_mentions", mentions)
            con.execute("INSERT INTO mentions BY NAME SELECT * FROM new_mentions")
            con.register("new_aliases", aliases)
            # First sighting wins; a config alias is never overwritten by the NLP.
            con.execute(
                "INSERT INTO speaker_aliases BY NAME SELECT alias, canonical, 'nlp' AS source FROM new_aliases n"
                " WHERE NOT EXISTS (SELECT 1 FROM speaker_aliases s WHERE s.alias = n.alias)"
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
                "MERGE INTO speaker_aliases USING config_aliases c ON speaker_aliases.alias = c.alias"
                " WHEN MATCHED AND (speaker_aliases.canonical IS DISTINCT FROM c.canonical"
                "                   OR speaker_aliases.source <> 'config')"
                " THEN UPDATE SET canonical = c.canonical, source = 'config'"
                " WHEN NOT MATCHED THEN INSERT (alias, canonical, source) VALUES (c.alias, c.canonical, 'config')"
            )

    # --------------------------------------------------------------- queries
    def statements(self, where: StatementFilter) -> list[dict[str, Any]]:
        clauses, params = filter_sql(where)
        order = (
            "published_at DESC NULLS LAST, speaker, quote" if where.newest_first
            else "published_at NULLS LAST, speaker, quote"
        )  # fmt: skip
        sql = (
            "SELECT speaker, speaker_role, speaker_type, kind, cue, quote, topics, publisher, published_at,"
            " title, url, statement_id, topic_evidence FROM v_statements"
            + (" WHERE " + " AND ".join(clauses) if clauses else "")
            + f" ORDER BY {order}"
            + (f" LIMIT {int(where.limit)}" if where.limit else "")
        )
        with self.db.connect(read_only=True) as con:
            cursor = con.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def count_statements(self, where: StatementFilter) -> int:
        """How many statements match ``where`` (its limit aside)."""
        clauses, params = filter_sql(where)
        sql = "SELECT count(*) FROM v_statements" + (" WHERE " + " AND ".join(clauses) if clauses else "")
        with self.db.connect(read_only=True) as con:
            return int(con.execute(sql, params).fetchone()[0])

    def filter_values(self, most: int = 12) -> dict[str, list[str]]:
        """What the statement filters can match: publishers, kinds, topics, the ``most`` frequent speakers
        and the first and last publication day."""
        queries = {
            "publisher": "SELECT publisher FROM v_statements WHERE publisher IS NOT NULL GROUP BY 1 ORDER BY 1",
            "kind": "SELECT kind FROM v_statements GROUP BY 1 ORDER BY 1",
            "topic": "SELECT t FROM (SELECT unnest(topics) AS t FROM v_statements) GROUP BY 1 ORDER BY 1",
            "speaker": "SELECT speaker FROM v_statements WHERE speaker IS NOT NULL GROUP BY 1"
            f" ORDER BY count(*) DESC, speaker LIMIT {int(most)}",
            "published": "SELECT strftime(timezone('UTC', d), '%Y-%m-%d') FROM (SELECT min(published_at) AS d"
            " FROM v_statements UNION ALL SELECT max(published_at) FROM v_statements) WHERE d IS NOT NULL",
        }
        with self.db.connect(read_only=True) as con:
            return {name: [str(r[0]) for r in con.execute(sql).fetchall()] for name, sql in queries.items()}

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
        # The whole name or whole words of it ("meridian" finds "Meridian Post — World"), any case.
        clauses.append("(publisher ILIKE ? OR regexp_matches(publisher, ?))")
        params += [where.publisher, words_pattern(where.publisher)]
    if where.kind:
        clauses.append("kind = ?")
        params.append(where.kind)
    if where.text:
        clauses.append("(contains(lower(quote), lower(?)) OR contains(lower(sentence), lower(?))"
                       " OR contains(lower(coalesce(title, '')), lower(?)))")  # fmt: skip
        params += [where.text] * 3
    return clauses, params


def words_pattern(text: str) -> str:
    """A case-insensitive RE2 pattern matching ``text`` as whole words ("post" in "Meridian Post — World")."""
    escaped = "".join("\\" + c if c in "\\.^$|?*+()[]{}" else c for c in " ".join(text.split()))
    return f"(?i)(^|[^[:alnum:]]){escaped}($|[^[:alnum:]])"


def _first_per_key(rows: Iterable[dict[str, Any]], key: tuple[str, ...]) -> list[dict[str, Any]]:
    first: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        first.setdefault(tuple(row[k] for k in key), row)
    return list(first.values())


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
