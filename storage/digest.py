"""The weekly digest's queries: one week's statements and per-speaker figures.

A statement belongs to the ISO week of its article's publication time (or of
the fetch time when the publication time is unknown). Every ORDER BY ends on
a unique key, so the same database gives the same rows in the same order.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from saidwhat.core.errors import SaidwhatError
from saidwhat.storage.store import Store

STATEMENT_COLUMNS = (
    "week", "published_at", "speaker", "speaker_role", "quote", "kind", "cue", "topics", "publisher", "title",
    "url", "article_id", "statement_id", "topic_evidence",
)  # fmt: skip
SPEAKER_COLUMNS = (
    "week", "speaker", "speaker_type", "speaker_role", "statements", "articles", "publishers", "publisher_names",
    "first_seen", "last_seen", "top_topics",
)  # fmt: skip
TOP_TOPICS = 3
NO_TOPIC = "(no topic)"


@dataclass(frozen=True, slots=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """'2026-W04' (also '2026W04', '2026-w4')."""
        cleaned = text.strip().upper().replace("-", "")
        year, sep, week = cleaned.partition("W")
        try:
            if not sep:
                raise ValueError
            value = cls(int(year), int(week))
            value.monday  # noqa: B018  (validates the week number)
        except ValueError:
            raise SaidwhatError(f"week {text!r} is not an ISO week: use YYYY-Www, e.g. 2026-W04") from None
        return value

    @classmethod
    def last_complete(cls, today: date | None = None) -> IsoWeek:
        """The ISO week before the one ``today`` (UTC) is in."""
        today = today or datetime.now(UTC).date()
        year, week, _ = (today - timedelta(days=7)).isocalendar()
        return cls(year, week)

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.monday, datetime.min.time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=7)

    def __str__(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"


_WEEK_FILTER = (
    " WHERE coalesce(published_at, fetched_at) >= ? AND coalesce(published_at, fetched_at) < ?"
    " AND (CAST(? AS VARCHAR) IS NULL OR list_contains(topics, ?))"
)


def week_statements(store: Store, week: IsoWeek, topic: str | None = None) -> list[dict[str, Any]]:
    """The week's statements in digest column order (plus speaker_type), by published_at then speaker."""
    sql = (
        "SELECT ? AS week, published_at, speaker, speaker_role, quote, kind, cue, list_sort(topics) AS topics,"
        " publisher, title, url, article_id, statement_id, topic_evidence, speaker_type FROM v_statements"
        + _WEEK_FILTER
        + " ORDER BY coalesce(published_at, fetched_at), speaker NULLS LAST, article_id, statement_id"
    )
    with store.db.connect(read_only=True) as con:
        cursor = con.execute(sql, [str(week), week.start, week.end, topic, topic])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def weeks_with_statements(store: Store, topic: str | None = None, most: int = 3) -> list[tuple[str, int]]:
    """The latest ``most`` ISO weeks that have statements (of ``topic``), newest first, with their counts."""
    sql = (
        "SELECT week, count(*) FROM v_statements WHERE (CAST(? AS VARCHAR) IS NULL OR list_contains(topics, ?))"
        " GROUP BY week ORDER BY week DESC LIMIT ?"
    )
    with store.db.connect(read_only=True) as con:
        return [(str(w), int(n)) for w, n in con.execute(sql, [topic, topic, most]).fetchall()]


def week_speakers(statements: list[dict[str, Any]], week: IsoWeek) -> list[dict[str, Any]]:
    """Per speaker: counts, publishers, first/last seen and top topics; most statements first."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in statements:
        if row["speaker"]:
            groups.setdefault(row["speaker"], []).append(row)
    speakers = []
    for speaker, rows in groups.items():
        publishers = Counter(r["publisher"] for r in rows)
        roles = Counter(r["speaker_role"] for r in rows if r["speaker_role"])
        types = Counter(r.get("speaker_type") for r in rows if r.get("speaker_type"))
        topics = Counter(t for r in rows for t in (r["topics"] or ()))
        times = [r["published_at"] for r in rows if r["published_at"] is not None]
        speakers.append(
            {
                "week": str(week),
                "speaker": speaker,
                "speaker_type": _top(types, 1)[0] if types else None,
                "speaker_role": _top(roles, 1)[0] if roles else None,
                "statements": len(rows),
                "articles": len({r["article_id"] for r in rows}),
                "publishers": len(publishers),
                "publisher_names": _top(publishers, len(publishers)),
                "first_seen": min(times) if times else None,
                "last_seen": max(times) if times else None,
                "top_topics": [f"{t} ({n})" for t, n in _counted(topics, TOP_TOPICS)],
            }
        )
    speakers.sort(key=lambda s: (-s["statements"], s["speaker"]))
    return speakers


def topic_counts(statements: list[dict[str, Any]], speakers: list[str]) -> dict[str, Counter[str]]:
    """speaker -> topic -> statements (a statement with two topics counts in both; none: NO_TOPIC)."""
    wanted = set(speakers)
    counts: dict[str, Counter[str]] = {s: Counter() for s in speakers}
    for row in statements:
        if row["speaker"] in wanted:
            for topic in row["topics"] or (NO_TOPIC,):
                counts[row["speaker"]][topic] += 1
    return counts


def _counted(counter: Counter[str], n: int) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def _top(counter: Counter[str], n: int) -> list[str]:
    return [k for k, _ in _counted(counter, n)]
