"""The weekly digest flow: one ISO week's statements as CSV, per-speaker figures, and a chart.

Files, in ``--out`` (default ``[digest] out_dir``, or ``out_dir/TOPIC`` with a topic):

- ``statements-YYYY-Www.csv``: one row per statement, by published_at then speaker;
- ``speakers-YYYY-Www.csv``: one row per speaker, most statements first;
- ``speakers-YYYY-Www.png``: the week's top speakers by statements, split by topic;
- ``quotes-YYYY-Www.csv``: one row per quote cluster first seen that week (v_quotes), so an utterance
  carried by ten outlets is one row; by first_seen then speaker.

Re-running for the same week on the same database writes byte-identical files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from saidwhat.config import config_for, open_store
from saidwhat.core.errors import SaidwhatError
from saidwhat.core.paths import output_dir
from saidwhat.reports import chart_png, csv_bytes, write_atomic
from saidwhat.storage import Store
from saidwhat.storage.analyst import Analyst
from saidwhat.storage.digest import (
    SPEAKER_COLUMNS,
    STATEMENT_COLUMNS,
    IsoWeek,
    topic_counts,
    week_speakers,
    week_statements,
    weeks_with_statements,
)
from saidwhat.storage.quotes import QUOTE_COLUMNS, week_quotes


def digest_paths(out: Path, week: IsoWeek) -> dict[str, Path]:
    return {
        "statements": out / f"statements-{week}.csv",
        "speakers": out / f"speakers-{week}.csv",
        "chart": out / f"speakers-{week}.png",
        "quotes": out / f"quotes-{week}.csv",
    }


def query_week(store: Store, week: IsoWeek, topic: str | None) -> list[dict[str, Any]]:
    return week_statements(store, week, topic)


def query_quotes(store: Store, week: IsoWeek, topic: str | None) -> list[dict[str, Any]]:
    return week_quotes(store, week, topic)


def write_files(
    rows: list[dict[str, Any]], quotes: list[dict[str, Any]], week: IsoWeek, topic: str | None, out: Path, excel: bool
) -> dict[str, str]:
    speakers = week_speakers(rows, week)
    paths = digest_paths(out, week)
    write_atomic(paths["statements"], csv_bytes(rows, STATEMENT_COLUMNS, excel))
    write_atomic(paths["quotes"], csv_bytes(quotes, QUOTE_COLUMNS, excel))
    write_atomic(paths["speakers"], csv_bytes(speakers, SPEAKER_COLUMNS, excel))
    names = [s["speaker"] for s in speakers]
    write_atomic(paths["chart"], chart_png(str(week), names, topic_counts(rows, names), topic))
    return {kind: str(path) for kind, path in paths.items()}


def make_digest(
    config_path: str | None = None,
    week: str | None = None,
    topic: str | None = None,
    out_dir: str | None = None,
    db_path: str | None = None,
    excel: bool = False,
    *,
    query: Callable[..., list[dict[str, Any]]] = query_week,
    query_clusters: Callable[..., list[dict[str, Any]]] = query_quotes,
    write: Callable[..., dict[str, str]] = write_files,
    logger: Any = None,
) -> dict[str, Any]:
    """Write one ISO week's digest (default: the last complete week, UTC); the flow's body."""
    logger = logger or logging.getLogger("saidwhat.digest")
    config = config_for(config_path, db_path, reading=True)
    iso = IsoWeek.parse(week) if week else IsoWeek.last_complete()
    out = Path(out_dir) if out_dir else config.digest.out_dir / (topic or "")
    store = open_store(config.storage)
    if not store.exists():
        raise SaidwhatError(store.db.missing_message())
    output_dir(out, "give another --out or set [digest] out_dir in config.toml")
    analyst = Analyst(store)
    analyst.ensure_schema()
    if topic:  # an unknown topic is a typo: say which ones exist
        analyst.check_topic(topic, [t.name for t in config.topics])
    rows = query(store, iso, topic)
    quotes = query_clusters(store, iso, topic)
    files = write(rows, quotes, iso, topic, out, excel)
    speakers = len({r["speaker"] for r in rows if r["speaker"]})
    logger.info("digest %s: %d statements (%d quotes) by %d speakers -> %s", iso, len(rows), len(quotes), speakers, out)
    # An empty week is usually the wrong week: name the latest ones that have statements.
    latest = [] if rows else weeks_with_statements(store, topic)
    return {
        "week": str(iso), "topic": topic, "statements": len(rows), "quotes": len(quotes), "speakers": speakers,
        "files": files, "weeks_with_statements": latest,
    }  # fmt: skip


_query_task = task(cache_policy=NO_CACHE, name="query_week")(query_week)
_quotes_task = task(cache_policy=NO_CACHE, name="query_quotes")(query_quotes)
_write_task = task(cache_policy=NO_CACHE, name="write_digest_files")(write_files)


@flow(name="digest", log_prints=False)
def digest(
    config_path: str | None = None,
    week: str | None = None,
    topic: str | None = None,
    out_dir: str | None = None,
    db_path: str | None = None,
    excel: bool = False,
) -> dict[str, Any]:
    """Write one ISO week's digest (default: the last complete week, UTC)."""
    return make_digest(
        config_path, week, topic, out_dir, db_path, excel,
        query=_query_task,
        query_clusters=_quotes_task,
        write=_write_task,
        logger=get_run_logger(),
    )  # fmt: skip
