"""The `saidwhat` command line: argument parsing and output only."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from saidwhat.cli.options import ConfigOption, DbOption, FormatOption, VerboseOption
from saidwhat.cli.output import OutputFormat, logs_through, plural, timestamp, write_rows
from saidwhat.core.errors import InputFileError, NothingProcessed, SaidwhatError
from saidwhat.core.lifetime import Stopped, end_children, exit_now, stop_signal_of, stopping_on_signals
from saidwhat.core.notices import on_lock_wait
from saidwhat.core.records import StatementKind

if TYPE_CHECKING:
    from saidwhat.storage import Store
    from saidwhat.storage.store import StatementFilter

app = typer.Typer(
    name="saidwhat",
    help="Who said what about a story: news feeds to attributed statements in DuckDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)

WHO_COLUMNS = ["published_at", "speaker", "quote", "kind", "cue", "publisher", "title", "url", "topics", "statement_id"]
TABLE_COLUMNS = ["published_at", "speaker", "quote", "kind", "publisher"]
# Left out, in this order, when the terminal is too narrow for every column.
TABLE_OPTIONAL = ["publisher", "kind"]
WHO_DEFAULT_LIMIT = 50
DEMO_ROWS = 15
KINDS = [str(kind) for kind in StatementKind]
CLUSTER_TABLE_COLUMNS = ["first_seen", "speaker", "quote", "articles", "publishers"]
# Left out, in this order, when the terminal is too narrow for every column.
CLUSTER_TABLE_OPTIONAL = ["publishers", "articles"]


_last_wait_notice = -1e9


def _say_waiting(path: Path, patience: float, kind: str) -> None:
    """One line as soon as a command starts waiting for the database (at most one per patience period)."""
    global _last_wait_notice
    now = time.monotonic()
    if now - _last_wait_notice < patience:
        return
    _last_wait_notice = now
    if kind == "run":
        line = (
            f"waiting for the database (held by another ingest run) — up to {patience:g} s;"
            " this run gives up if it stays busy"
        )
    elif kind == "write":
        line = (
            f"waiting for the database (held by another process) — up to {patience:g} s;"
            " results are kept in the spool if it stays busy"
        )
    else:
        line = f"waiting for the database (held by another process) — up to {patience:g} s"
    err.print(escape(line), highlight=False, soft_wrap=True)


on_lock_wait(_say_waiting)


def _quiet_prefect(verbose: bool) -> None:
    # Prefect logs every task at INFO; the CLI shows a progress bar instead.
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # The temporary Prefect server would try to send usage data and log a
    # failure on every machine without internet access.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Prefect's temporary server gives up after 20 s, which a busy or slow machine (its first
    # start creates its database) can take: give it two minutes.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def _parse_day(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        day = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        raise SaidwhatError(f"{option} {value!r} is not a date: use YYYY-MM-DD") from None
    return day if day.tzinfo else day.replace(tzinfo=UTC)


def run_ingest(
    config: Path | None, db: Path | None, feed_urls: list[str] | None, feeds: list[Any] | None = None,
    fetch_overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Run the ingest flow with a progress bar; return its summary."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from saidwhat.config import config_for
    from saidwhat.flows.ingest import ingest
    from saidwhat.flows.progress import listening
    from saidwhat.flows.temporary_server import start_temporary_server

    # Validate before the flow starts, so a bad config or database path is one line, not a crashed flow run.
    settings = config_for(config, db, feed_urls=feed_urls, feeds=feeds, fetch_overrides=fetch_overrides)
    from saidwhat.storage import Database

    Database(settings.storage.path).preflight()
    start_temporary_server()

    labels = {"fetch": "Fetching articles", "nlp": "Attributing statements"}
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=False,
    ) as progress:  # fmt: skip
        bars: dict[str, Any] = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in bars:
                bars[stage] = progress.add_task(labels.get(stage, stage), total=total or 1)
            progress.update(bars[stage], completed=done if total else 1, total=total or 1)

        with listening(on_progress), logs_through(progress.console):
            try:
                state = ingest(
                    config_path=str(config) if config else None,
                    db_path=str(db) if db else None,
                    feed_urls=feed_urls or None,
                    feeds=feeds,
                    fetch_overrides=fetch_overrides,
                    return_state=True,
                )
            except RuntimeError as exc:
                if "ephemeral Prefect API server" not in str(exc):
                    raise
                raise SaidwhatError(
                    "Prefect's temporary server did not start in time (a busy machine?): try again, set"
                    " PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS higher, or point PREFECT_API_URL at a server"
                ) from None
    try:
        result = state.result(raise_on_failure=False)
    except SaidwhatError:
        raise
    except Exception as exc:
        raise SaidwhatError(f"ingest failed: {exc}") from None
    if isinstance(result, SaidwhatError):
        raise result
    if isinstance(result, BaseException):
        raise SaidwhatError(f"ingest failed: {type(result).__name__}: {result}")
    if state.is_failed():
        summary = result if isinstance(result, dict) else {}
        raise NothingProcessed(
            f"nothing could be processed: {state.message or 'see saidwhat status'}"
            + (f" ({plural(summary.get('errors', 0), 'error')} recorded in fetch_errors)" if summary else "")
        )
    return result


def _print_summary(summary: dict[str, Any]) -> None:
    errors = summary["errors"]
    # Two short lines rather than one that an 80-column terminal would break anywhere.
    err.print(f"[bold]run {summary['run_id']}[/] → {summary['database']}", highlight=False)
    err.print(
        f"  {plural(summary['feeds_polled'], 'feed')} polled ({summary['feeds_failed']} failed),"
        f" {plural(summary['new_articles'], 'new article')}, {plural(summary['new_statements'], 'new statement')},"
        f" {plural(errors, 'error')}",
        highlight=False,
    )
    if errors:
        err.print(f"  the errors: saidwhat status --errors --run {summary['run_id']}", highlight=False)
    if summary.get("spooled"):
        err.print(
            f"[yellow]the database was held by another process: {summary['spooled']} writes wait in the spool[/]"
            " and are written first by the next run (saidwhat status counts them)"
        )
    skipped = summary.get("feeds_backed_off") or []
    if skipped:
        named = ", ".join(f"{f['name']} (next attempt {timestamp(datetime.fromisoformat(f['next_attempt']))})"
                          for f in skipped)  # fmt: skip
        err.print(escape(f"skipped {plural(len(skipped), 'backed-off feed')}: {named}"), highlight=False)


@app.command()
def run(
    config: ConfigOption = None,
    db: DbOption = None,
    feed: Annotated[
        list[str] | None, typer.Option("--feed", help="Feed URL to poll instead of the configured feeds (repeatable)")
    ] = None,
    verbose: VerboseOption = False,
) -> None:
    """Run one ingest now: poll feeds, store new articles, attribute statements."""
    _quiet_prefect(verbose)
    summary = run_ingest(config, db, feed)
    _print_summary(summary)


@app.command()
def demo(
    db: Annotated[Path, typer.Option("--db", help="DuckDB file to write")] = Path("demo.duckdb"),
    config: ConfigOption = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port for the local server on 127.0.0.1 (default: 8765, or a free one)")
    ] = None,
    verbose: VerboseOption = False,
) -> None:
    """Serve the sample corpus on 127.0.0.1, ingest it, and show who said what about the Moscow meeting."""
    _quiet_prefect(verbose)
    from saidwhat.demo.run import demo_feeds, demo_fetch_settings
    from saidwhat.demo.server import serve_corpus
    from saidwhat.storage import Store
    from saidwhat.storage.store import StatementFilter

    with serve_corpus(port=port) as site:
        feeds = demo_feeds(site)
        err.print(
            f"Serving the sample corpus as {site.base_url} ({plural(len(feeds), 'feed')};"
            f" local server {site.proxy_url})",
            highlight=False,
        )
        summary = run_ingest(config, db, None, feeds=feeds, fetch_overrides=demo_fetch_settings(site))
    store = Store(db)
    about = StatementFilter(topic="moscow-meeting")
    total = store.count_statements(about)
    rows = store.statements(StatementFilter(topic="moscow-meeting", limit=DEMO_ROWS, newest_first=True))
    write_rows(
        rows, TABLE_COLUMNS, OutputFormat.table, optional=TABLE_OPTIONAL,
        title=f"Who said what about a Trump–Putin meeting in Moscow: the latest {len(rows)} of {total}",
    )  # fmt: skip
    _print_summary(summary)
    err.print(
        "Next, try:\n"
        f"  saidwhat who --db {db} --speaker Peskov\n"
        f"  saidwhat who --db {db} --publisher meridian --kind direct\n"
        f"  saidwhat speakers --db {db}\n"
        f"  duckdb -readonly {db}      (then: SELECT * FROM said_by('Putin');)",
        highlight=False,
        markup=False,
    )


@app.command()
def extract(
    files: Annotated[
        list[Path],
        typer.Argument(help=".txt (as is) or .html/.htm (through trafilatura) files, or folders of them"),
    ],
    fmt: Annotated[str, typer.Option("--format", help="jsonl (one JSON object per statement)")] = "jsonl",
    nested: Annotated[
        bool, typer.Option("--nested", help="Also statements reported inside another one (marked nested_in)")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Find statements in local files and print them as JSON lines (offline)."""
    if fmt != "jsonl":
        raise SaidwhatError(f"--format {fmt!r} is not supported: use --format jsonl")
    from saidwhat.cli.extract_files import expand_folders, extract_files
    from saidwhat.config import nlp_settings

    files = expand_folders(files)  # a folder stands for its .txt/.html files
    failed: list[Path] = []

    def report(path: Path, message: str) -> None:
        failed.append(path)
        err.print(f"[red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)

    settings = nlp_settings(config)
    if nested:
        settings = dataclasses.replace(settings, nested=True)
    for obj in extract_files(files, settings, report):
        sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    if failed:
        raise InputFileError(f"{len(failed)} of {len(files)} files failed (named above); the others were written")


@app.command()
def who(
    about: Annotated[str | None, typer.Option("--about", help="Topic name from config.toml")] = None,
    speaker: Annotated[
        str | None, typer.Option("--speaker", help="Speaker: name, alias or words of it, any case")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="Published on or after YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Published before YYYY-MM-DD")] = None,
    publisher: Annotated[
        str | None, typer.Option("--publisher", help="Publisher: name or words of it, any case")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help=", ".join(KINDS))] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help=f"At most this many rows (default: {WHO_DEFAULT_LIMIT} in a table)"),
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Every matching row")] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Add topic_evidence: why each statement has its topics (--about's only)")
    ] = False,
    clusters: Annotated[
        bool, typer.Option("--clusters", help="One row per quote cluster (copies of one utterance) instead")
    ] = False,
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Who said what: statements with speaker, quote, kind, publisher, date, title and URL.

    With --clusters, the copies of one utterance across articles and outlets are one row (v_quotes);
    the filters select clusters with at least one matching statement.
    """
    from saidwhat.config import store_to_read
    from saidwhat.storage.analyst import Analyst
    from saidwhat.storage.store import StatementFilter

    if kind is not None and kind not in KINDS:
        raise SaidwhatError(f"--kind {kind!r} is not a statement kind: use one of {', '.join(KINDS)}")
    start, end = _parse_day(since, "--since"), _parse_day(until, "--until")
    if start and end and start >= end:
        raise SaidwhatError(f"--since {since} is not before --until {until}: no day can match; swap them")
    store, settings = store_to_read(config, db)
    if about is not None:
        Analyst(store).check_topic(about, [t.name for t in settings.topics])
    if limit is None and not show_all and fmt is OutputFormat.table:
        limit = WHO_DEFAULT_LIMIT
    where = StatementFilter(
        topic=about, speaker=speaker, since=start, until=end, publisher=publisher, kind=kind,
        limit=None if show_all else limit,
    )  # fmt: skip
    if clusters and explain:
        raise SaidwhatError("--explain shows why statements have their topics: use it without --clusters")
    if clusters:
        from saidwhat.storage.quotes import QUOTE_COLUMNS, quotes

        Analyst(store).ensure_schema()  # a database from before quote clusters gets them now
        rows = quotes(store, where)
        if not rows:
            _explain_empty(store, where)
        columns = list(QUOTE_COLUMNS) if fmt is not OutputFormat.table else CLUSTER_TABLE_COLUMNS
        write_rows(
            rows, columns, fmt, title=plural(len(rows), "quote cluster"), wrap=("quote", "publishers"),
            optional=CLUSTER_TABLE_OPTIONAL,
        )  # fmt: skip
        if where.limit is not None and len(rows) == where.limit:
            err.print("there may be more: --limit N shows N, --all shows every one", highlight=False)
        return
    rows = store.statements(where)
    if not rows:
        _explain_empty(store, where)
        if fmt is OutputFormat.table:
            return
    total = len(rows) if where.limit is None or len(rows) < where.limit else store.count_statements(where)
    columns = WHO_COLUMNS if fmt is not OutputFormat.table else TABLE_COLUMNS
    if explain:
        columns = [*columns, "topic_evidence"]
        for row in rows:
            row["topic_evidence"] = _evidence_for(row.get("topic_evidence"), about)
    title = plural(total, "statement") if total == len(rows) else f"{len(rows)} of {plural(total, 'statement')}"
    write_rows(rows, columns, fmt, title=title, wrap=("quote", "topic_evidence"), optional=TABLE_OPTIONAL)
    if total > len(rows):
        err.print(f"{total - len(rows)} more not shown: --limit N shows N, --all shows every one", highlight=False)


def _evidence_for(evidence: str | None, topic: str | None) -> str:
    """v_statements.topic_evidence ("topic: rule ..." clauses), only ``topic``'s clauses without the prefix."""
    clauses = [c for c in (evidence or "").split("; ") if c]
    if topic is None:
        return "; ".join(clauses)
    prefix = f"{topic}: "
    return "; ".join(c[len(prefix) :] for c in clauses if c.startswith(prefix))


FILTER_OPTIONS = {"topic": "--about", "speaker": "--speaker", "since": "--since", "until": "--until",
                  "publisher": "--publisher", "kind": "--kind", "text": "--text"}  # fmt: skip


def _explain_empty(store: Store, where: StatementFilter) -> None:
    """Say on stderr which filter matched nothing and what values exist."""
    from saidwhat.storage.store import StatementFilter

    given = where.given()
    values = store.filter_values()
    if not values["kind"]:
        err.print(f"no statements in {store.path} yet: run saidwhat run (or saidwhat demo)", highlight=False)
        return
    alone = {name: store.count_statements(StatementFilter(**{name: value})) for name, value in given.items()}
    empty = [name for name, n in alone.items() if n == 0]
    shown = {"topic": "topics", "speaker": "most frequent speakers", "publisher": "publishers", "kind": "kinds"}
    for name in empty:
        value = given[name]
        option = FILTER_OPTIONS[name]
        if name not in shown and name not in ("since", "until"):  # free text: no list of values to offer
            err.print(f"{option} {value!r} matches no statement", highlight=False)
            continue
        if name in ("since", "until"):
            first, last = (values["published"] + ["?", "?"])[:2]
            err.print(
                f"{option} {timestamp(value)} matches no statement: statements are published from {first} to {last}",
                highlight=False,
            )
            continue
        err.print(f"{option} {value!r} matches no statement; {shown[name]}: {', '.join(values[name])}", highlight=False)
    if not empty:
        together = ", ".join(f"{FILTER_OPTIONS[n]} ({plural(c, 'statement')} alone)" for n, c in alone.items())
        err.print(f"no statement matches all of these filters together: {together}", highlight=False)


def _register_command_modules() -> None:
    """Commands that live in their own modules, one module per concern."""
    from saidwhat.cli import analyst, lake, ops, reading, topics
    from saidwhat.cli.eval import eval_command

    app.command(
        "eval", help="Score the statement extractor against a gold JSONL file (PolNeAR or news-dev: docs/eval.md)."
    )(eval_command)
    analyst.register(app)
    ops.register(app)
    lake.register(app)
    reading.register(app)
    topics.register(app)


_register_command_modules()


def main() -> None:
    """Console entry point: user errors become one line on stderr, never a traceback.

    Typer's standalone mode reports its own usage errors and exit codes (with whichever
    click it bundles: typer 0.29 carries a copy of its own); only our errors are left.

    SIGTERM and SIGINT stop any command cleanly (see saidwhat.core.lifetime): the
    run unwinds and records itself as cancelled, every process it started is
    ended, and the exit status is 143 or 130.
    """
    with stopping_on_signals():
        try:
            try:
                app(prog_name="saidwhat")
            except SaidwhatError as exc:
                err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
                sys.exit(exc.exit_code)
        except Stopped as stop:
            _stop(stop)
        except KeyboardInterrupt:  # raised by something other than our handler (interrupt_main)
            _stop(Stopped(signal.SIGINT))
        except Exception as exc:  # a library that was interrupted by the signal reports its own error
            signum = stop_signal_of(exc)
            if signum is None:
                raise
            _stop(Stopped(signum))


def _stop(stop: Stopped) -> None:
    """End every process this command started, then exit at once with 128 + the signal number.

    ``exit_now`` rather than a normal exit: threads still blocked in abandoned
    work (a slow page) would otherwise be waited for at interpreter exit.
    """
    err.print(str(stop), highlight=False, soft_wrap=True)  # "stopped by SIGTERM"; a run's record says the same
    end_children()
    exit_now(stop.exit_code)
