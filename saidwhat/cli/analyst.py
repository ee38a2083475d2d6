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
from saidwhat.cli.output import OutputFormat, logs_through, plural, timestamp, write_rows
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
ERROR_COLUMNS = ["occurred_at", "run_id", "stage", "error_class", "message", "url", "feed_url"]
ERROR_TABLE_COLUMNS = ["occurred_at", "stage", "error_class", "message", "url"]
# Left out, first to go first, when the terminal is too narrow for every column.
# (run_id begins with the start time, so started_at goes early.)
RUN_OPTIONAL = ["finished_at", "feeds_polled", "new_articles", "message", "started_at", "new_statements"]
FEED_OPTIONAL = ["consecutive_failures", "articles", "last_ok_at", "publisher"]
SPEAKER_OPTIONAL = ["first_seen", "last_seen", "articles", "publishers"]
ERROR_OPTIONAL = ["occurred_at", "error_class", "url"]


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

        with listening(update), logs_through(progress.console):
            yield


def _pending_spool(store: Any, spool_dir: Path) -> set[Path]:
    """Spooled writes for this database, in the configured spool_dir and in the default one next to it."""
    from saidwhat.storage import Spool

    if not store.db.uses_spool:  # the DuckLake backend writes straight through
        return set()
    default = Spool.beside(store.path).pending()
    return set(Spool(spool_dir, store.path).pending()) | set(default)


def _s(path: Path | None) -> str | None:
    return str(path) if path is not None else None


def _analyst(config: Path | None, db: Path | None):
    from saidwhat.config import store_to_read
    from saidwhat.storage.analyst import Analyst

    store, settings = store_to_read(config, db)
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
    title = plural(len(rows), "speaker") + (f" about {about}" if about else "")
    write_rows(rows, columns, fmt, title=title, wrap=("aliases", "topics"), optional=SPEAKER_OPTIONAL)


def status(
    section: Annotated[
        str,
        typer.Option(
            "--section", help="all, runs, feeds or counts (csv: one section per file, or all with a section column)"
        ),
    ] = "all",
    runs: Annotated[int, typer.Option("--runs", min=1, help="How many recent runs")] = 10,
    errors: Annotated[bool, typer.Option("--errors", help="List the fetch_errors of a run instead")] = False,
    run: Annotated[str | None, typer.Option("--run", help="With --errors: this run (default: the latest)")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Last runs, per-feed health, table counts and anything waiting in the spool; --errors: a run's fetch_errors."""
    if section not in ("all", "runs", "feeds", "counts"):
        raise SaidwhatError(f"--section {section!r}: use all, runs, feeds or counts")
    if run is not None and not errors:
        raise SaidwhatError("--run names the run whose errors to list: add --errors")
    analyst, settings = _analyst(config, db)
    if errors:
        run_id, rows = analyst.fetch_errors(run)
        columns = ERROR_COLUMNS if fmt is not OutputFormat.table else ERROR_TABLE_COLUMNS
        title = f"{plural(len(rows), 'error')} in run {run_id}" if run_id else "no runs yet"
        write_rows(rows, columns, fmt, title=title, wrap=("message", "url"), optional=ERROR_OPTIONAL)
        return
    sections: list[tuple[str, list[dict[str, Any]], list[str], str, list[str]]] = []
    if section in ("all", "runs"):
        sections.append(("runs", analyst.recent_runs(runs), RUN_COLUMNS, "Recent runs", RUN_OPTIONAL))
    backed_off: list[dict[str, Any]] = []
    if section in ("all", "feeds"):
        columns = FEED_COLUMNS if fmt is not OutputFormat.table else FEED_TABLE_COLUMNS
        feeds = analyst.feed_health()
        now = datetime.now(UTC)
        backed_off = [f for f in feeds if isinstance(f.get("next_poll_after"), datetime) and f["next_poll_after"] > now]
        sections.append(("feeds", feeds, columns, "Feeds", FEED_OPTIONAL))
    if section in ("all", "counts"):
        counts = analyst.counts()
        counts["spooled_batches"] = len(_pending_spool(analyst.store, settings.storage.spool_dir))
        rows = [{"table": name, "rows": n} for name, n in counts.items()]
        sections.append(("counts", rows, ["table", "rows"], f"Counts in {analyst.store.describe()}", []))
    if fmt is not OutputFormat.table and section == "all":
        # One stream for every section: each row names its section; CSV takes the union of the columns.
        rows = [{"section": name, **row} for name, part, _, _, _ in sections for row in part]
        columns = ["section", *dict.fromkeys(c for _, _, cols, _, _ in sections for c in cols)]
        write_rows(rows, columns, fmt)
        return
    for name, rows, columns, title, optional in sections:
        write_rows(rows, columns, fmt, title=title, wrap=("last_error", "message"), optional=optional)
        if name == "feeds" and fmt is OutputFormat.table:
            for feed in backed_off:  # the next run skips these: say so, with when they are tried again
                print(
                    f"backed off: {feed['name']} after {plural(feed['consecutive_failures'], 'failure')} in a row;"
                    f" next attempt {timestamp(feed['next_poll_after'])}"
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
        title=f"Digest {result['week']}: {plural(result['statements'], 'statement')}"
        f" ({plural(result['quotes'], 'quote')}) by {plural(result['speakers'], 'speaker')}",
        wrap=("file",),
    )
    if not result["statements"]:
        latest = result.get("weeks_with_statements") or []
        if latest:
            weeks = ", ".join(f"{week} ({plural(n, 'statement')})" for week, n in latest)
            err.print(
                f"no statements in {result['week']}; the latest weeks with statements: {weeks}:"
                f" pass --week {latest[0][0]}",
                highlight=False,
            )
        else:
            err.print(f"no statements in {result['week']}, nor in any other week yet", highlight=False)


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
    write_rows(rows, ["name", "rows", "file"], fmt, title=f"Snapshot of {analyst.store.describe()}", wrap=("file",))
    if fmt is OutputFormat.table:
        err.print(
            f'views and macros over these files: cd {out} && duckdb -cmd ".read snapshot.sql"'
            " (then SELECT * FROM said_about('...'))",
            highlight=False,
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
