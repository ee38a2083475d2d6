"""What the CLI says: quiet feeds, backed-off feeds, waiting for the database, and databases it cannot use.

Each behaviour is checked through the CLI, as a user meets it: one line, no traceback.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path

import duckdb
import pytest

from saidwhat.demo.server import Route
from saidwhat.storage import Store
from tests.conftest import ROOT, run_cli

from .conftest import query
from .publishers import FaultySite, Item, feed_route, page_route, write_config

WAIT_LINE = (
    "waiting for the database (held by another process) — up to 2 s; results are kept in the spool if it stays busy"
)


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def invoke(*args: str):
    from typer.testing import CliRunner

    from saidwhat.cli import app

    return CliRunner().invoke(app, list(args), catch_exceptions=True)


def set_patience(config: Path, seconds: int) -> None:
    text = config.read_text(encoding="utf-8").replace("lock_patience_seconds = 5", f"lock_patience_seconds = {seconds}")
    config.write_text(text, encoding="utf-8")


# ------------------------------------------------------------------ feeds
def test_a_valid_feed_with_no_items_is_a_success_with_zero_items(cli, site, tmp_path):
    site.routes["/quiet.xml"] = feed_route([], title="Nothing today")
    site.routes["/atom.xml"] = Route(
        b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Quiet</title>'
        b"<id>urn:quiet</id><updated>2025-11-03T10:00:00Z</updated></feed>",
        "application/atom+xml",
    )
    config = write_config(tmp_path, [("quiet", site.url("/quiet.xml")), ("atom", site.url("/atom.xml"))])
    db = tmp_path / "ops.duckdb"

    result = cli.run(config)

    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "2 feeds polled (0 failed)" in result.stderr
    assert query(db, "SELECT name, consecutive_failures, healthy, next_poll_after FROM feeds ORDER BY name") == [
        ("atom", 0, True, None),
        ("quiet", 0, True, None),
    ]
    assert query(db, "SELECT count(*) FROM fetch_errors") == [(0,)]
    assert query(db, "SELECT status FROM runs") == [("completed",)]


def test_a_page_that_is_not_a_feed_still_fails(cli, site, tmp_path):
    site.routes["/home.xml"] = Route(b"<html><body><p>Welcome</p></body></html>", "text/html")
    site.routes["/ok.xml"] = feed_route([Item("g", site.url("/a/harbour"))])
    site.routes["/a/harbour"] = page_route("harbour")
    config = write_config(tmp_path, [("home", site.url("/home.xml")), ("ok", site.url("/ok.xml"))])

    assert cli.run(config).exit_code == 0
    errors = query(tmp_path / "ops.duckdb", "SELECT error_class FROM fetch_errors WHERE stage = 'feed'")
    assert errors == [("FeedParseError",)]


def test_backed_off_feeds_are_named_with_their_next_attempt_by_run_and_status(cli, site, tmp_path):
    site.routes["/down.xml"] = Route(b"", status=404)
    site.routes["/ok.xml"] = feed_route([Item("g", site.url("/a/harbour"))])
    site.routes["/a/harbour"] = page_route("harbour")
    config = write_config(tmp_path, [("down-feed", site.url("/down.xml")), ("ok", site.url("/ok.xml"))])
    db = tmp_path / "ops.duckdb"
    assert cli.run(config).exit_code == 0
    (next_attempt,) = query(db, "SELECT next_poll_after FROM feeds WHERE name = 'down-feed'")[0]
    stamp = next_attempt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # the one timestamp format

    second = cli.run(config)

    assert second.exit_code == 0, second.output
    assert f"skipped 1 backed-off feed: down-feed (next attempt {stamp})" in second.stderr
    assert query(db, "SELECT message FROM runs ORDER BY started_at DESC LIMIT 1")[0][0].startswith(
        "skipped 1 feed backed off after failures: down-feed"
    )
    status = invoke("status", "--config", str(config), "--section", "feeds")
    assert status.exit_code == 0, status.output
    assert f"backed off: down-feed after 1 failure in a row; next attempt {stamp}" in status.stdout
    assert "backed off: ok" not in status.stdout


# ------------------------------------------------------- database messages
def _holder(db: Path, read_only: bool) -> subprocess.Popen:
    """Another process holding the database (an analyst's read-only session, or a writer)."""
    code = (
        "import sys, time, duckdb\n"
        f"con = duckdb.connect(sys.argv[1], read_only={read_only})\n"
        "print('holding', flush=True)\n"
        "time.sleep(120)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_a_run_waiting_for_the_database_says_so_at_once(prefect_harness, site, tmp_path):
    from prefect.settings import PREFECT_API_URL

    from .test_crash_and_cli import finish, saidwhat

    site.routes["/f.xml"] = feed_route([Item("x", None, title="A title", summary="A summary of the story.")])
    config = write_config(tmp_path, [("f", site.url("/f.xml"))])
    set_patience(config, 2)
    db = tmp_path / "ops.duckdb"
    Store(db).migrate()
    holder = _holder(db, read_only=True)  # an analyst's session: the run's writes must wait
    try:
        _, stderr = finish(saidwhat("run", "--config", str(config), api_url=PREFECT_API_URL.value()), timeout=300)
    finally:
        holder.kill()
        holder.wait()
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines and lines[0] == WAIT_LINE, stderr
    assert sum(line == WAIT_LINE for line in lines) == 1  # once, not once per write
    assert "Traceback" not in stderr
    assert list((tmp_path / "spool").glob("*.jsonl"))  # and the results are kept there, as the line says


def test_a_query_waiting_for_the_database_says_so_then_gives_up_in_one_line(tmp_path):
    config = write_config(tmp_path, [])
    set_patience(config, 2)
    db = tmp_path / "ops.duckdb"
    Store(db).migrate()
    holder = _holder(db, read_only=False)
    try:
        started = time.monotonic()
        result = run_cli("who", "--config", str(config), timeout=120)
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert lines[0] == "waiting for the database (held by another process) — up to 2 s", result.stderr
    assert len(lines) == 2 and "is locked by another process" in lines[1]
    assert elapsed < 60


@pytest.fixture()
def unusable(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Databases a user can name by mistake, with the words their one line must contain."""
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping: milk, bread\n", encoding="utf-8")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    newer = tmp_path / "newer.duckdb"
    Store(newer).migrate()
    with duckdb.connect(str(newer)) as con:
        con.execute("INSERT INTO schema_version VALUES (999, 'from_the_future', now())")
    return {
        "not duckdb": (notes, "is not a DuckDB database"),
        "folder": (folder, "is a folder, not a database file"),
        "newer schema": (newer, "has schema version 999, written by a newer saidwhat"),
    }


@pytest.mark.parametrize("case", ["not duckdb", "folder", "newer schema"])
@pytest.mark.parametrize("command", ["run", "who", "status", "speakers", "snapshot"])
def test_an_unusable_database_is_one_line_for_every_command(unusable, tmp_path, case, command):
    path, words = unusable[case]
    config = write_config(tmp_path, [("f", "http://127.0.0.1:9/never-asked.xml")])
    before = path.read_bytes() if path.is_file() else None
    extra = ["--out", str(tmp_path / "snap")] if command == "snapshot" else []

    result = run_cli(command, "--config", str(config), "--db", str(path), *extra, timeout=300)

    assert result.returncode != 0
    line = one_line(result.stderr)
    assert words in line and str(path.name) in line, line
    if before is not None:
        assert path.read_bytes() == before  # left as it was


def test_run_on_a_file_that_is_not_duckdb_starts_nothing(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n", encoding="utf-8")
    with FaultySite({"/f.xml": feed_route([Item("x", None)])}).start() as site:
        config = write_config(tmp_path, [("f", site.url("/f.xml"))])
        result = run_cli("run", "--config", str(config), "--db", str(notes), cwd=ROOT, timeout=300)
        assert site.log.entries == []  # refused before any request
    assert result.returncode != 0
    assert "notes.txt is not a DuckDB database" in one_line(result.stderr)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("run", "--config", "{folder}"), "is a folder: give the file, e.g. --config"),
        (("who", "--config", "{folder}"), "is a folder: give the file, e.g. --config"),
        # extract reads a folder's .txt/.html files (issue 16); an empty one is the one-line error
        (("extract", "{folder}"), "no .txt, .html or .htm files in this folder: give files or another folder"),
    ],
)
def test_a_folder_given_for_a_file_is_one_line(tmp_path, args, words):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = run_cli(*(arg.format(folder=folder) for arg in args), timeout=300)
    assert result.returncode != 0
    assert words in one_line(result.stderr)
