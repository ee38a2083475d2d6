"""The DuckLake backend against a real PostgreSQL server: same answers as the DuckDB file, many writers at once."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from html import escape as html_escape
from pathlib import Path

import duckdb
import pytest

from saidwhat.demo.run import demo_feeds
from saidwhat.demo.server import serve_corpus
from saidwhat.storage.db import DatabaseLocked
from saidwhat.storage.lake import LakeDatabase
from tests.conftest import DEMO_TEST_PORT, ROOT, run_cli
from tests.lake.conftest import PostgresServer, lake_config

STATEMENT_KEY = "SELECT quote, speaker, kind, sentence FROM statements ORDER BY ALL"
TABLES = ("feeds", "runs", "articles", "article_sources", "mentions", "statements", "speaker_aliases", "fetch_errors",
          "quote_clusters")  # fmt: skip


def _file_rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _lake_rows(dsn: str, data: Path, sql: str) -> list[tuple]:
    lake = LakeDatabase(dsn, data)
    try:
        with lake.connect(read_only=True) as con:
            return con.execute(sql).fetchall()
    finally:
        lake.close()


@pytest.fixture(scope="module")
def lake_demo(postgres: PostgresServer, demo_db: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory):
    """The demo corpus through `saidwhat run` into a new lake, at the URLs the demo database has."""
    tmp = tmp_path_factory.mktemp("lake-demo")
    dsn = postgres.dsn(postgres.create_database())
    with serve_corpus(port=DEMO_TEST_PORT) as site:
        config = lake_config(tmp, dsn, demo_feeds(site), proxy=site.proxy_url)
        result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr[-3000:]
    return config, dsn, tmp / "lake-data"


def test_the_lake_finds_exactly_the_statements_of_the_duckdb_file(lake_demo, demo_db) -> None:
    _, dsn, data = lake_demo
    db, _ = demo_db
    ids = "SELECT statement_id, article_id, quote, speaker, kind, topics FROM statements ORDER BY statement_id"
    assert _lake_rows(dsn, data, ids) == _file_rows(db, ids)
    canonical = "SELECT statement_id, speaker, week FROM v_statements ORDER BY statement_id"
    assert _lake_rows(dsn, data, canonical) == _file_rows(db, canonical)
    for table in TABLES:
        count = f"SELECT count(*) FROM {table}"
        assert _lake_rows(dsn, data, count) == _file_rows(db, count), table


@pytest.mark.parametrize(
    "command",
    [
        ["who", "--about", "moscow-meeting", "--format", "jsonl"],
        ["who", "--speaker", "Putin", "--format", "jsonl"],
        ["who", "--about", "moscow-meeting", "--clusters", "--format", "jsonl"],
        ["speakers", "--format", "jsonl"],
        ["status", "--section", "counts", "--format", "csv"],
    ],
)
def test_analyst_commands_answer_the_same_on_both_backends(lake_demo, demo_db, command: list[str]) -> None:
    config, _, _ = lake_demo
    on_lake = run_cli(*command, "--config", str(config))
    on_file = run_cli(*command, "--db", str(demo_db[0]))
    assert on_lake.returncode == 0, on_lake.stderr[-2000:]
    assert on_file.returncode == 0, on_file.stderr[-2000:]
    assert on_lake.stdout == on_file.stdout
    assert on_lake.stdout.strip()


def test_show_and_the_reading_room_work_on_the_lake(lake_demo, demo_db) -> None:
    config, _, _ = lake_demo
    statement_id, quote = _file_rows(demo_db[0], "SELECT statement_id, quote FROM v_statements ORDER BY ALL LIMIT 1")[0]
    on_lake = run_cli("show", statement_id, "--config", str(config))
    assert on_lake.returncode == 0, on_lake.stderr[-2000:]
    assert on_lake.stdout == run_cli("show", statement_id, "--db", str(demo_db[0])).stdout
    room = subprocess.Popen(
        [sys.executable, "-m", "saidwhat", "web", "--config", str(config), "--port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        line = room.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert match, f"no URL in {line!r}"
        url = match.group(0) + "?q=" + urllib.parse.quote(quote[:40])
        deadline = time.monotonic() + 60
        while True:  # the address is printed before the server listens
            try:
                with urllib.request.urlopen(url, timeout=60) as page:
                    status, html = page.status, page.read().decode("utf-8")
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline and room.poll() is None, "the reading room never answered"
                time.sleep(0.2)
        assert status == 200 and html_escape(quote[:40]) in html
    finally:
        room.terminate()
        room.wait(timeout=20)


def test_digest_and_snapshot_work_on_the_lake(lake_demo, demo_db, tmp_path: Path) -> None:
    config, _, _ = lake_demo
    week = _file_rows(demo_db[0], "SELECT week FROM v_statements GROUP BY week ORDER BY count(*) DESC LIMIT 1")[0][0]
    for where, flag in (("lake", ["--config", str(config)]), ("file", ["--db", str(demo_db[0])])):
        result = run_cli("digest", "--week", week, "--out", str(tmp_path / where / "digest"), *flag)
        assert result.returncode == 0, result.stderr[-2000:]
        result = run_cli("snapshot", "--out", str(tmp_path / where / "snapshot"), *flag)
        assert result.returncode == 0, result.stderr[-2000:]
    lake_csv = (tmp_path / "lake" / "digest" / f"statements-{week}.csv").read_text(encoding="utf-8")
    assert lake_csv == (tmp_path / "file" / "digest" / f"statements-{week}.csv").read_text(encoding="utf-8")
    rows = "SELECT count(*) FROM '{}'"
    lake_parquet = tmp_path / "lake" / "snapshot" / "v_statements.parquet"
    file_parquet = tmp_path / "file" / "snapshot" / "v_statements.parquet"
    assert duckdb.sql(rows.format(lake_parquet)).fetchall() == duckdb.sql(rows.format(file_parquet)).fetchall()
    assert "said_about" in (tmp_path / "lake" / "snapshot" / "snapshot.sql").read_text(encoding="utf-8")


def test_connect_sql_attaches_the_lake_read_only_with_the_macros(lake_demo, demo_db) -> None:
    config, _, _ = lake_demo
    result = run_cli("connect-sql", "--config", str(config))
    assert result.returncode == 0, result.stderr[-2000:]
    analyst = duckdb.connect()  # an analyst's own session, knowing nothing of saidwhat
    try:
        for statement in analyst.extract_statements(result.stdout):
            analyst.execute(statement.query)
        said = analyst.execute("SELECT count(*), count(DISTINCT speaker) FROM said_about('moscow-meeting')").fetchall()
        by = analyst.execute("SELECT count(*) FROM said_by('Putin')").fetchall()
        with pytest.raises(duckdb.Error, match=r"read-only|read only"):
            analyst.execute("DELETE FROM statements")
    finally:
        analyst.close()
    file_said = _file_rows(demo_db[0], "SELECT count(*), count(DISTINCT speaker) FROM said_about('moscow-meeting')")
    assert said == file_said and said[0][0] > 0
    assert by == _file_rows(demo_db[0], "SELECT count(*) FROM said_by('Putin')")


def test_migrate_to_ducklake_copies_every_table_with_equal_counts(
    postgres: PostgresServer, demo_db, tmp_path: Path
) -> None:
    source = tmp_path / "demo.duckdb"
    shutil.copy(demo_db[0], source)
    config = lake_config(tmp_path, postgres.dsn(postgres.create_database()))
    first = run_cli("migrate", "--to", "ducklake", "--db", str(source), "--config", str(config), "--format", "jsonl")
    assert first.returncode == 0, first.stderr[-3000:]
    rows = [json.loads(line) for line in first.stdout.splitlines()]
    assert {r["table"] for r in rows} >= set(TABLES)
    for row in rows:
        assert row["check"] == "equal" and row["lake_rows"] == row["file_rows"] == row["copied"], row
    again = run_cli("migrate", "--to", "ducklake", "--db", str(source), "--config", str(config), "--format", "jsonl")
    assert again.returncode == 0, again.stderr[-3000:]
    for row in (json.loads(line) for line in again.stdout.splitlines()):
        assert row["check"] == "equal" and row["copied"] == 0, row  # idempotent: nothing copied twice
    who = ("who", "--about", "moscow-meeting", "--format", "jsonl")
    assert run_cli(*who, "--config", str(config)).stdout == run_cli(*who, "--db", str(source)).stdout


READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from saidwhat.storage.lake import LakeDatabase

    dsn, data, stop = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    lake = LakeDatabase(dsn, data)
    report = {"queries": 0, "errors": [], "slowest": 0.0, "counts": [], "long_read_stable": None}
    with lake.connect(read_only=True) as con, lake.connect(read_only=True) as long_read:
        # An analyst's long query: one transaction open across both ingest runs.
        long_read.execute("BEGIN TRANSACTION")
        first = long_read.execute("SELECT count(*) FROM v_statements").fetchone()[0]
        Path(sys.argv[3] + ".ready").touch()
        while not stop.exists():
            started = time.monotonic()
            try:
                n = con.execute("SELECT count(*) FROM v_statements").fetchone()[0]
                con.execute("SELECT speaker, count(*) FROM v_statements GROUP BY ALL").fetchall()
                report["counts"].append(n)
            except Exception as exc:
                report["errors"].append(str(exc)[:300])
            report["slowest"] = max(report["slowest"], time.monotonic() - started)
            report["queries"] += 1
            time.sleep(0.05)
        report["long_read_stable"] = long_read.execute("SELECT count(*) FROM v_statements").fetchone()[0] == first
        long_read.execute("COMMIT")
    print(json.dumps(report))
    """
)


def test_two_ingests_on_different_feeds_commit_while_a_reader_queries(
    postgres: PostgresServer, demo_db, tmp_path: Path
) -> None:
    dsn = postgres.dsn(postgres.create_database())
    data = tmp_path / "lake-data"
    LakeDatabase(dsn, data).migrate()  # the lake exists before the reader attaches
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, dsn, str(data), str(stop)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        _wait_for(Path(str(stop) + ".ready"), reader)
        with serve_corpus(port=DEMO_TEST_PORT) as site:
            feeds = demo_feeds(site)
            config = lake_config(tmp_path, dsn, feeds, proxy=site.proxy_url)
            groups = [feeds[0::2], feeds[1::2]]
            runs = []
            for n, group in enumerate(groups):
                # One Prefect home per process; two temporary Prefect servers starting at once on a busy
                # machine need longer than Prefect's default 20 s.
                env = {**os.environ, "PREFECT_HOME": str(tmp_path / f"prefect-{n}"),
                       "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300"}  # fmt: skip
                flags = [arg for feed in group for arg in ("--feed", feed.url)]
                runs.append(subprocess.Popen(
                    [sys.executable, "-m", "saidwhat", "run", "--config", str(config), *flags],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
                ))  # fmt: skip
            outcomes = [run.communicate(timeout=900) for run in runs]
        for run, (_, stderr) in zip(runs, outcomes, strict=True):
            assert run.returncode == 0, stderr[-3000:]
    finally:
        stop.touch()
        report_text, reader_err = reader.communicate(timeout=120)
    report = json.loads(report_text.strip().splitlines()[-1]) if report_text.strip() else {}
    assert reader.returncode == 0, reader_err[-3000:]
    print(f"reader: {report['queries']} queries, slowest {report['slowest']:.2f} s")  # shown by pytest -s
    assert report["errors"] == []
    assert report["queries"] > 10 and report["long_read_stable"] is True
    assert report["counts"] == sorted(report["counts"])  # readers see commits arrive, never go back

    runs_rows = _lake_rows(dsn, data, "SELECT status, len(feeds) FROM runs ORDER BY len(feeds)")
    assert len(runs_rows) == 2 and all(status.startswith("completed") for status, _ in runs_rows), runs_rows
    assert sorted(n for _, n in runs_rows) == sorted(len(group) for group in groups)
    overlap = "SELECT max(started_at) < min(finished_at) FROM runs"  # both were running at the same time
    assert _lake_rows(dsn, data, overlap) == [(True,)]
    # Nothing lost or duplicated: the same statements and articles as one run over every feed.
    assert _lake_rows(dsn, data, STATEMENT_KEY) == _file_rows(demo_db[0], STATEMENT_KEY)
    dupes = "SELECT count(*) - count(DISTINCT statement_id) FROM statements"
    assert _lake_rows(dsn, data, dupes) == [(0,)]
    articles = "SELECT count(*), count(DISTINCT canonical_url), count(DISTINCT text_hash) FROM articles"
    assert _lake_rows(dsn, data, articles) == _file_rows(demo_db[0], articles)
    sources = "SELECT feed_url, guid FROM article_sources ORDER BY ALL"
    assert _lake_rows(dsn, data, sources) == _file_rows(demo_db[0], sources)


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"reader died: {process.stderr.read()[-3000:]}")
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


def test_the_run_lock_is_per_feed(postgres: PostgresServer, tmp_path: Path) -> None:
    dsn = postgres.dsn(postgres.create_database())
    first, second = LakeDatabase(dsn, tmp_path / "data"), LakeDatabase(dsn, tmp_path / "data")
    try:
        with first.run_lock(["http://a/feed", "http://b/feed"], patience=1):
            with second.run_lock(["http://c/feed"], patience=1):
                pass  # another feed group goes on
            started = time.monotonic()
            with (
                pytest.raises(DatabaseLocked, match="another ingest is running"),
                second.run_lock(["http://c/feed", "http://b/feed"], patience=0.5),
            ):
                pass
            assert time.monotonic() - started < 5
            with second.run_lock(["http://c/feed"], patience=1):
                pass  # the failed attempt gave back the feed it had got
        with second.run_lock(["http://b/feed"], patience=1):
            pass  # released with the first run
    finally:
        first.close()
        second.close()


def test_a_local_metadata_file_lake_holds_the_schema(tmp_path: Path) -> None:
    pytest.importorskip("duckdb_extension_ducklake", reason='pip install -e ".[lake]"')
    lake = LakeDatabase(str(tmp_path / "meta.ducklake"), tmp_path / "data")
    try:
        assert not lake.exists()
        assert lake.schema_version() >= 12
        with lake.connect(read_only=True) as con:
            views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        assert {"v_statements", "v_speakers", "v_speaker_names"} <= views
        with lake.connect(read_only=True) as con:
            nullable = con.execute(
                "SELECT table_name || '.' || column_name, is_nullable FROM duckdb_columns()"
                " WHERE database_name = 'lake' AND column_name IN ('feed_url', 'statement_id', 'alias')"
                " AND table_name IN ('feeds', 'statements', 'speaker_aliases')"
            ).fetchall()
        # The keys lost their constraint on the lake but not their NOT NULL.
        assert dict(nullable) == {"feeds.feed_url": False, "statements.statement_id": False,
                                  "speaker_aliases.alias": False}  # fmt: skip
    finally:
        lake.close()


def test_missing_or_mismatched_extensions_are_one_line(tmp_path: Path) -> None:
    """A `duckdb_extension_ducklake` built for another DuckDB comes first on the path: one line, what to install."""
    fake = tmp_path / "site" / "duckdb_extension_ducklake"
    (fake / "extensions" / "v0.0.1").mkdir(parents=True)
    (fake / "__init__.py").write_text("", encoding="utf-8")
    (fake / "extensions" / "v0.0.1" / "ducklake.duckdb_extension").write_bytes(b"not for this duckdb")
    pytest.importorskip("duckdb_extension_ducklake", reason='pip install -e ".[lake]"')
    lake = LakeDatabase(str(tmp_path / "meta.ducklake"), tmp_path / "lake-data")
    lake.migrate()  # a real lake, so that the command gets as far as loading the extension
    lake.close()
    config = lake_config(tmp_path, str(tmp_path / "meta.ducklake"))
    result = run_cli("who", "--config", str(config), env={"PYTHONPATH": str(tmp_path / "site")})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"for DuckDB 0.0.1, but DuckDB is {duckdb.__version__}" in result.stderr
    assert 'pip install "saidwhat[lake]"' in result.stderr


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        ('backend = "sqlite"', '[storage] backend must be "duckdb" or "ducklake"'),
        ('backend = "ducklake"', 'backend = "ducklake" needs catalog'),
    ],
)
def test_bad_storage_settings_are_one_line(tmp_path: Path, storage: str, message: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[storage]\n{storage}\n", encoding="utf-8")
    result = run_cli("who", "--config", str(config))
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_file_from_a_newer_duckdb_says_how_to_convert_it(tmp_path: Path) -> None:
    """The [lake] extra pins an older DuckDB; a file written by a newer one is one line with the fix."""
    db = tmp_path / "newer.duckdb"
    packed = Path(__file__).parent / "data" / "written-by-duckdb-2.0.1.duckdb.gz"  # made by duckdb 2.0.1
    db.write_bytes(gzip.decompress(packed.read_bytes()))
    if duckdb.__version__.split(".")[0] >= "2":
        pytest.skip("this DuckDB reads the file: the message is for the 1.x that the [lake] extra pins")
    result = run_cli("who", "--db", str(db))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "written by a newer DuckDB" in result.stderr and "STORAGE_VERSION" in result.stderr


def test_a_run_on_a_feed_another_run_holds_stops_in_one_line(postgres: PostgresServer, tmp_path: Path) -> None:
    dsn = postgres.dsn(postgres.create_database())
    held = "http://127.0.0.1:9/held-feed.xml"  # never fetched: the run stops at its lock
    config = lake_config(tmp_path, dsn)
    config.write_text(
        config.read_text(encoding="utf-8").replace("lock_patience_seconds = 60", "lock_patience_seconds = 1"),
        encoding="utf-8",
    )
    other_run = LakeDatabase(dsn, tmp_path / "lake-data")
    try:
        with other_run.run_lock([held], patience=1):
            result = run_cli("run", "--config", str(config), "--feed", held)
    finally:
        other_run.close()
    assert result.returncode != 0
    assert "another ingest is running on some of these 1 feeds" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_new_run_interrupts_dead_runs_on_its_own_feeds_only_on_the_lake(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    from saidwhat.storage import Store

    def statuses(store: Store) -> dict[str, str]:
        with store.db.connect(read_only=True) as con:
            return dict(con.execute("SELECT run_id, status FROM runs").fetchall())

    lake = Store(LakeDatabase(postgres.dsn(postgres.create_database()), tmp_path / "lake-data"))
    file = Store(tmp_path / "file.duckdb")
    try:
        for store in (lake, file):
            store.start_run("a", ["http://a/feed"])
            store.start_run("b", ["http://b/feed"])
        # On the lake "a" may still be running in another process: only a run on its feed can know it died.
        assert statuses(lake) == {"a": "running", "b": "running"}
        lake.start_run("c", ["http://a/feed", "http://c/feed"])
        assert statuses(lake) == {"a": "interrupted", "b": "running", "c": "running"}
        # On the file one run at a time holds the lock, so every earlier running run is dead.
        assert statuses(file) == {"a": "interrupted", "b": "running"}
    finally:
        lake.db.close()
