"""The weekly digest flow: one ISO week's statements as CSV, per-speaker figures, and a chart.

Files, in ``--out`` (default ``[digest] out_dir``, or ``out_dir/TOPIC`` with a topic):

- ``statements-YYYY-Www.csv``: one row per statement, by published_at then speaker;
- ``speakers-YYYY-Www.csv``: one row per speaker, most statements first;
- ``speakers-YYYY-Www.png``: the week's top speakers by statements, split by topic.

Re-running for the same week on the same database writes byte-identical files.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from saidwhat.config import Config, find_config, load_config
from saidwhat.digest_files import chart_png, csv_bytes, write_atomic
from saidwhat.errors import SaidwhatError
from storage import Store
from storage.analyst import Analyst
from storage.digest import (
    SPEAKER_COLUMNS,
    STATEMENT_COLUMNS,
    IsoWeek,
    topic_counts,
    week_speakers,
    week_statements,
)


def analyst_config(config_path: str | None, db_path: str | None) -> Config:
    """The config with --db applied; with --db and no config file anywhere, the defaults."""
    try:
        config = load_config(Path(config_path) if config_path else None)
    except SaidwhatError:
        if config_path or not db_path:
            raise
        try:
            find_config(None)
        except SaidwhatError:
            config = Config(source=None)
        else:
            raise
    if db_path:
        config = replace(config, storage=replace(config.storage, path=Path(db_path)))
    return config


def digest_paths(out: Path, week: IsoWeek) -> dict[str, Path]:
    return {
        "statements": out / f"statements-{week}.csv",
        "speakers": out / f"speakers-{week}.csv",
        "chart": out / f"speakers-{week}.png",
    }


@task(cache_policy=NO_CACHE)
def query_week(store: Store, week: IsoWeek, topic: str | None) -> list[dict[str, Any]]:
    return week_statements(store, week, topic)


@task(cache_policy=NO_CACHE)
def write_files(rows: list[dict[str, Any]], week: IsoWeek, topic: str | None, out: Path, excel: bool) -> dict[str, str]:
    speakers = week_speakers(rows, week)
    paths = digest_paths(out, week)
    write_atomic(paths["statements"], csv_bytes(rows, STATEMENT_COLUMNS, excel))
    write_atomic(paths["speakers"], csv_bytes(speakers, SPEAKER_COLUMNS, excel))
    names = [s["speaker"] for s in speakers]
    write_atomic(paths["chart"], chart_png(str(week), names, topic_counts(rows, names), topic))
    return {kind: str(path) for kind, path in paths.items()}


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
    logger = get_run_logger()
    config = analyst_config(config_path, db_path)
    iso = IsoWeek.parse(week) if week else IsoWeek.last_complete()
    out = Path(out_dir) if out_dir else config.digest.out_dir / (topic or "")
    store = Store(config.storage.path, config.storage.lock_patience_seconds)
    if not store.path.exists():
        raise SaidwhatError(f"database {store.path} does not exist yet: run `saidwhat run` or `saidwhat demo` first")
    analyst = Analyst(store)
    analyst.ensure_schema()
    if topic:  # an unknown topic is a typo: say which ones exist
        analyst.check_topic(topic, [t.name for t in config.topics])
    rows = query_week(store, iso, topic)
    files = write_files(rows, iso, topic, out, excel)
    speakers = len({r["speaker"] for r in rows if r["speaker"]})
    logger.info("digest %s: %d statements by %d speakers -> %s", iso, len(rows), speakers, out)
    return {"week": str(iso), "topic": topic, "statements": len(rows), "speakers": speakers, "files": files}
