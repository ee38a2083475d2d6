"""An analyst keeps a read-only connection open during an ingest run: nothing is lost.

The run cannot write while the reader holds the file, so after the lock
patience its batches go to the spool; once the reader has gone, the next run
writes them first. The content tables then hold exactly what a run without
the reader wrote.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from saidwhat.storage import Store
from tests.analyst.conftest import analyst_config

CONTENT = ("articles", "article_sources", "statements", "mentions", "feeds")

READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SELECT count(*) FROM v_statements").fetchall()
print("ready", flush=True)
sys.stdin.read()  # hold the connection until the test closes stdin
con.close()
"""


def _counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in CONTENT}


def _ids(db: Path) -> tuple[set, set]:
    with duckdb.connect(str(db), read_only=True) as con:
        articles = {r[0] for r in con.execute("SELECT article_id FROM articles").fetchall()}
        statements = {r[0] for r in con.execute("SELECT statement_id FROM statements").fetchall()}
    return articles, statements


def test_a_reader_during_ingest_costs_no_data(prefect_harness, tmp_path: Path) -> None:
    from saidwhat.demo.run import demo_feeds, demo_fetch_settings
    from saidwhat.demo.server import serve_corpus
    from saidwhat.flows.ingest import ingest

    config = analyst_config(tmp_path)
    config.write_text(
        config.read_text(encoding="utf-8").replace("lock_patience_seconds = 60", "lock_patience_seconds = 0.5"),
        encoding="utf-8",
    )
    baseline = tmp_path / "baseline" / "baseline.duckdb"
    locked = tmp_path / "locked.duckdb"
    Store(locked).migrate()  # the analyst opens an existing database

    with serve_corpus(port=0) as site:
        feeds = demo_feeds(site)

        def run(db: Path):
            return ingest(
                config_path=str(config), db_path=str(db), feeds=feeds,
                fetch_overrides=demo_fetch_settings(site), return_state=True,
            )  # fmt: skip

        assert run(baseline).is_completed()
        expected = _counts(baseline)
        assert expected["statements"] > 0

        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(locked)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            assert reader.stdout.readline().strip() == "ready"
            held = run(locked)
            assert held.is_completed(), held.message
            # Nothing could be written while the reader held the file; it is all in the spool,
            # and the run says so instead of reporting articles it could not store.
            assert _counts(locked)["articles"] == 0
            spooled = sorted(p.name for p in (tmp_path / "spool").glob("*.jsonl"))
            assert any(name.endswith("-add_articles.jsonl") for name in spooled)
            summary = held.result()
            assert summary["spooled"] == len(spooled) and summary["new_articles"] == 0
        finally:
            reader.stdin.close()
            reader.wait(timeout=30)

        following = run(locked)
        assert following.is_completed()
        # Its first step wrote every spooled command; then its NLP step analysed the spooled articles.
        assert following.result()["drained"] == len(spooled)

    assert _counts(locked) == expected
    assert _ids(locked) == _ids(baseline)
    assert list((tmp_path / "spool").glob("*.jsonl")) == []
    with duckdb.connect(str(locked), read_only=True) as con:
        runs = con.execute("SELECT status FROM runs ORDER BY started_at").fetchall()
    assert len(runs) == 2  # the held run's own record was spooled and written too
    assert all(status.startswith("completed") for (status,) in runs)
