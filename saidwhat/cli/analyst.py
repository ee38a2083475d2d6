"""Analysts' commands: speakers, status, retag, reprocess, digest, snapshot.

Registered on the main app by saidwhat/cli.py. Every command that prints rows
prints a rich table by default and CSV or JSON lines with ``--format``.
``retag``, ``reprocess`` and ``digest`` run as Prefect flows when a Prefect API
is configured (PREFECT_API_URL, as with `saidwhat serve`), and call the same
code directly otherwise, sparing a temporary Prefect server per command.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from saidwhat.cli.options import ConfigOption, DbOption, FormatOption
from saidwhat.cli.output import OutputFormat, write_rows
from saidwhat.core.errors import SaidwhatError
from saidwhat.core.paths import output_dir

err = Console(stderr=True)

SPEAKER_COLUMNS = ["speaker", "speaker_type", "statements", "articles", "publishers", "first_seen", "last_seen",
                   "aliases", "roles", "topics"]  # fmt: skip
SPEAKER_TABLE_COLUMNS = ["speaker", "statements", "articles", "publishers", "first_seen", "last_seen", "aliases"]
RUN_COLUMNS = ["run_id", "started_at", "finished_at", "status", "feeds_polled", "new_articles", "new_statements",
               "errors", "message"]  # fmt: skip
FEED_COLUMNS = ["name", "publisher", "healthy", "consecutive_failures", "last_ok_at", "last_polled_at",
                "next_poll_after", "articles", "latest_article", "last_error", "feed_url"]  # fmt: skip
FEED_TABLE_COLUMNS = ["name", "publisher", "healthy", "consecutive_failures", "last_ok_at", "articles", "last_error"]


def _quiet_prefect() -> None:
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@contextmanager
def _progress(label: str) -> Iterator[None]:
    """A progress bar on stderr fed by flows.progress events (only on a terminal)."""
    if not err.is_terminal:
        yield
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from saidwhat.flows.progress import listening

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    ) as progress:
        bar = progress.add_task(label, total=None)

        def update(stage: str, done: int, total: int) -> None:
            progress.update(bar, completed=done, total=total or 1)

        with listening(update):
            yield


def _pending_spool(store: Any, spool_dir: Path) -> set[Path]:
    """Spooled writes for this database, in the configured spool_dir and in the default one next to it."""
    from saidwhat.storage import Spool

    default = Spool(store.path.parent / "spool", store.path).pending()
    return set(Spool(spool_dir, store.path).pending()) | set(default)


def _minutes(value: Any) -> Any:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else value


def _s(path: Path | None) -> str | None:
    return str(path) if path is not None else None


def _analyst(config: Path | None, db: Path | None):
    from saidwhat.config import config_for
    from saidwhat.storage import Store
    from saidwhat.storage.analyst import Analyst

    settings = config_for(_s(config), _s(db), file_optional=db is not None)
    store = Store(settings.storage.path, settings.storage.lock_patience_seconds)
    analyst = Analyst(store)
    analyst.ensure_schema()
    return analyst, settings


def speakers(
    about: Annotated[str | None, typer.Option("--about", help="Only statements tagged with this topic")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many speakers")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Speakers, canonical across articles, with aliases and counts (most statements first)."""
    analyst, settings = _analyst(config, db)
    if about:
        analyst.check_topic(about, [t.name for t in settings.topics])
    rows = analyst.speakers(about=about, limit=limit)
    columns = [c for c in (SPEAKER_COLUMNS if fmt is not OutputFormat.table else SPEAKER_TABLE_COLUMNS)
               if not (about and c in ("aliases", "topics"))]  # fmt: skip
    title = f"{len(rows)} speakers" + (f" about {about}" if about else "")
    write_rows(rows, columns, fmt, title=title, wrap=("aliases", "topics"))


def status(
    section: Annotated[
        str, typer.Option("--section", help="all, runs, feeds or counts (csv needs one section)")
    ] = "all",
    runs: Annotated[int, typer.Option("--runs", min=1, help="How many recent runs")] = 10,
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Last runs, per-feed health, table counts and anything waiting in the spool."""
    if section not in ("all", "runs", "feeds", "counts"):
        raise SaidwhatError(f"--section {section!r}: use all, runs, feeds or counts")
    if fmt is OutputFormat.csv and section == "all":
        raise SaidwhatError("--format csv prints one kind of row: add --section runs, feeds or counts")
    analyst, settings = _analyst(config, db)
    sections: list[tuple[str, list[dict[str, Any]], list[str], str]] = []
    if section in ("all", "runs"):
        sections.append(("runs", analyst.recent_runs(runs), RUN_COLUMNS, "Recent runs"))
    backed_off: list[dict[str, Any]] = []
    if section in ("all", "feeds"):
        columns = FEED_COLUMNS if fmt is not OutputFormat.table else FEED_TABLE_COLUMNS
        feeds = analyst.feed_health()
        now = datetime.now(UTC)
        backed_off = [f for f in feeds if isinstance(f.get("next_poll_after"), datetime) and f["next_poll_after"] > now]
        sections.append(("feeds", feeds, columns, "Feeds"))
    if section in ("all", "counts"):
        counts = analyst.counts()
        counts["spooled_batches"] = len(_pending_spool(analyst.store, settings.storage.spool_dir))
        rows = [{"table": name, "rows": n} for name, n in counts.items()]
        sections.append(("counts", rows, ["table", "rows"], f"Counts in {analyst.store.path}"))
    for name, rows, columns, title in sections:
        if fmt is OutputFormat.table:  # runs happen hourly: show the time, not only the day
            rows = [{k: _minutes(v) for k, v in row.items()} for row in rows]
        if fmt is OutputFormat.jsonl and section == "all":
            rows = [{"section": name, **row} for row in rows]
            columns = ["section", *columns]
        write_rows(rows, columns, fmt, title=title, wrap=("last_error", "message"))
        if name == "feeds" and fmt is OutputFormat.table:
            for feed in backed_off:  # the next run skips these: say so, with when they are tried again
                print(
                    f"backed off: {feed['name']} after {feed['consecutive_failures']} failures in a row;"
                    f" next attempt {_minutes(feed['next_poll_after'])} UTC"
                )


def retag(
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Evaluate the topics in config.toml again for every stored statement (no network, no NLP model).

    Also applies the speaker aliases from config.toml.
    """
    _quiet_prefect()
    from saidwhat.config import use_prefect
    from saidwhat.flows.reprocess import retag as retag_flow
    from saidwhat.flows.reprocess import retag_statements

    run = retag_flow if use_prefect() else retag_statements
    result = run(config_path=_s(config), db_path=_s(db))
    rows = [{"statements": result["statements"], "changed": result["changed"], "topics": result["topics"]}]
    write_rows(rows, ["statements", "changed", "topics"], fmt, title="Retagged")


def reprocess(
    all_articles: Annotated[
        bool, typer.Option("--all", help="Every article, not only those from another extractor version")
    ] = False,
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Run the NLP again on stored article texts whose statements come from another extractor version."""
    _quiet_prefect()
    from saidwhat.config import use_prefect
    from saidwhat.flows.reprocess import reprocess as reprocess_flow
    from saidwhat.flows.reprocess import reprocess_articles

    run = reprocess_flow if use_prefect() else reprocess_articles
    with _progress("Re-analysing stored articles"):
        result = run(config_path=_s(config), db_path=_s(db), everything=all_articles)
    write_rows([result], ["articles", "statements", "extractor_version"], fmt, title="Reprocessed")


def digest(
    week: Annotated[str | None, typer.Option("--week", help="ISO week YYYY-Www (default: last complete week)")] = None,
    topic: Annotated[str | None, typer.Option("--topic", help="Only statements tagged with this topic")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Directory (default: the config's digest out_dir, /TOPIC with --topic)")
    ] = None,
    excel: Annotated[bool, typer.Option("--excel", help="Start the CSV files with a BOM for Excel")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Write the weekly digest: statements and speakers CSV files and a chart."""
    _quiet_prefect()
    from saidwhat.config import use_prefect
    from saidwhat.flows.digest import digest as digest_flow
    from saidwhat.flows.digest import make_digest

    run = digest_flow if use_prefect() else make_digest
    result = run(config_path=_s(config), week=week, topic=topic, out_dir=_s(out), db_path=_s(db), excel=excel)
    rows = [{"file": path, "kind": kind} for kind, path in result["files"].items()]
    write_rows(
        rows,
        ["kind", "file"],
        fmt,
        title=f"Digest {result['week']}: {result['statements']} statements ({result['quotes']} quotes)"
        f" by {result['speakers']} speakers",
        wrap=("file",),
    )


def snapshot(
    out: Annotated[Path, typer.Option("--out", help="Directory for the Parquet files")] = Path("snapshot"),
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Export the views and tables to Parquet, for long analyses that must not hold the database."""
    analyst, _ = _analyst(config, db)
    written = analyst.snapshot(output_dir(out))
    rows = [{"name": name, "rows": n, "file": str(path)} for name, path, n in written]
    write_rows(rows, ["name", "rows", "file"], fmt, title=f"Snapshot of {analyst.store.path}", wrap=("file",))
    if fmt is OutputFormat.table:
        err.print(
            f'views and macros over these files: duckdb -cmd ".read {out / "snapshot.sql"}"'
            " (then SELECT * FROM said_about('...'))"
        )


def register(app: typer.Typer) -> None:
    """Add the analysts' commands to the saidwhat app."""
    app.command("speakers")(speakers)
    app.command("status")(status)
    app.command("retag")(retag)
    app.command("reprocess")(reprocess)
    app.command("digest")(digest)
    app.command("snapshot")(snapshot)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use the saidwhat command")
