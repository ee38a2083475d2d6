"""The write path: typed commands, the spool's versioned file format, order, bad files and the drain."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from saidwhat.core.records import FeedSpec, FetchErrorRecord, TopicEvidence
from saidwhat.storage import Applied, DatabaseLocked, Spool, Spooled, SpoolingWriter, Store, Writer
from saidwhat.storage import commands as commands_module
from saidwhat.storage.commands import COMMANDS, AddArticles, SaveAnalyses, SetConfigAliases, StartRun
from saidwhat.storage.spool import FORMAT_VERSION, from_json, to_json
from saidwhat.storage.store import FeedCheck, RunSummary
from tests.analyst.records import analysed, article, statement

TEXT = 'Peskov said "no date, no \\"May\\"".\nThe Kremlin’s line held.'
HOLD = "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); print(1, flush=True); input()"


def _items():
    art = article("s1", TEXT, "Spool", datetime(2026, 1, 20, 9, tzinfo=UTC))
    result = analysed(art, [statement(TEXT, "no date", "Dmitry Peskov", role="spokesman")],
                      {"Dmitry Peskov": {"Peskov"}}, ("Peskov",), topics=[("moscow-meeting",)])  # fmt: skip
    return art, result


@contextmanager
def _held(db: Path) -> Iterator[None]:
    """Another process holds the database read-only (an analyst's session): no one can write it."""
    reader = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    try:
        reader.stdout.readline()
        yield
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    """An empty saidwhat database, its spool directory beside it."""
    path = tmp_path / "s.duckdb"
    Store(path).migrate()
    return path


def _spooling(db: Path, patience: float = 0.2) -> SpoolingWriter:
    return SpoolingWriter.for_store(Store(db, lock_patience_seconds=patience), db.parent / "spool")


def test_every_command_survives_the_file_format() -> None:
    art, result = _items()
    examples = [
        StartRun("r1"),
        AddArticles((art,)),
        SaveAnalyses((result,), "2"),
        SetConfigAliases({"Vova": "Vladimir Putin"}),
        COMMANDS["finish_run"](RunSummary("r1", 2, 1, 3, 0, "completed")),
        COMMANDS["record_errors"]("r1", (FetchErrorRecord("page", "TimedOut", "slow", "f", "u"),)),
        COMMANDS["sync_feeds"]((FeedSpec("Wire", "https://w.example/feed", "Wire"),)),
        COMMANDS["mark_feeds_polled"]((FeedCheck("https://w.example/feed", '"e"', None, "h"),)),
        COMMANDS["record_feed_failure"]("https://w.example/feed", "down", 5, datetime(2026, 1, 2, tzinfo=UTC)),
        COMMANDS["link_known_sources"]((("f", "g", "u", "c"),)),
        COMMANDS["record_page_retries"]((art,), ("x1",)),
        COMMANDS["replace_topics"]((("s1", ("a", "b"), (TopicEvidence("a", "about", "Moscow", "quote"),)),)),
        COMMANDS["rebuild_clusters"](),
        COMMANDS["cancel_run"]("r1", "stopped by SIGTERM"),
    ]
    assert {c.kind for c in examples} == set(COMMANDS), "add an example for the new command"
    for command in examples:
        line = json.dumps(to_json(command))
        assert "saidwhat" not in line  # no module or class names in the file
        back = json.loads(line)
        assert from_json(back["kind"], back["fields"]) == command


def test_file_format_is_pinned(tmp_path: Path) -> None:
    """A stored file of format 2: renaming a command's kind or field breaks this, and needs a new format number."""
    db = tmp_path / "s.duckdb"
    path = Spool(tmp_path / "spool", db).append(StartRun("r1"))
    record = json.loads(path.read_text(encoding="utf-8"))
    assert FORMAT_VERSION == 2
    assert record["format"] == 2 and record["kind"] == "start_run"
    assert record["fields"] == {"run_id": "r1", "feed_urls": []}
    assert record["database"] == str(db.resolve())
    assert path.name.endswith("-start_run.jsonl")
    art, _ = _items()
    fields = to_json(AddArticles((art,)))["fields"]["articles"][0]
    assert sorted(fields) == sorted([
        "article_id", "url", "canonical_url", "feed_url", "guid", "title", "authors", "publisher", "published_at",
        "fetched_at", "text", "text_source", "text_hash", "fallback_reason",
    ])  # fmt: skip
    assert fields["text_source"] == "page" and fields["published_at"] == "2026-01-20T09:00:00+00:00"


def test_every_store_write_has_a_command() -> None:
    writes = {
        name for name, fn in inspect.getmembers(Store, inspect.isfunction) if "db.transaction" in inspect.getsource(fn)
    }
    assert writes, "no Store writes found"
    applied = inspect.getsource(commands_module)
    missing = {name for name in writes if f"store.{name}(" not in applied}
    assert not missing, f"Store writes without a write command: {sorted(missing)}"


def test_a_held_database_spools_in_order_and_the_next_run_drains_first(db: Path, tmp_path: Path) -> None:
    art, result = _items()
    writer = _spooling(db)
    with _held(db):
        added = writer.write(AddArticles((art,)))
        saved = writer.write(SaveAnalyses((result,), "1"))
    # Spooled, not invented: no ids, no statement count.
    assert isinstance(added, Spooled) and isinstance(saved, Spooled)
    assert "locked" in added.reason
    assert [p.name.split("-")[-1] for p in writer.spool.pending()] == ["add_articles.jsonl", "save_analyses.jsonl"]
    # A bad file and a file of the old format (Python method names) step aside; they block nothing.
    (tmp_path / "spool" / "00000000000000000000-0000000-000000-add_articles.jsonl").write_text("not json\n")
    old = {"format": 1, "database": str(db.resolve()), "method": "add_articles", "args": [], "kwargs": {}}
    (tmp_path / "spool" / "00000000000000000001-0000000-000000-add_articles.jsonl").write_text(json.dumps(old))

    following = _spooling(db)  # the next run: its first step
    report = following.drain()
    assert report.written == 2 and report.waiting == 0
    assert sorted(p.name for p in report.set_aside) == ["00000000000000000001-0000000-000000-add_articles.jsonl.failed"]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT speaker, quote, topics FROM v_statements").fetchall() == [
            ("Dmitry Peskov", "no date", ["moscow-meeting"])
        ]
    assert following.spool.pending() == []
    assert sorted(p.name for p in (tmp_path / "spool").iterdir() if p.name.endswith(".failed")) == [
        "00000000000000000000-0000000-000000-add_articles.jsonl.failed",
        "00000000000000000001-0000000-000000-add_articles.jsonl.failed",
    ]
    # Applied commands return what the database did.
    assert following.write(AddArticles((art,))) == Applied(AddArticles((art,)), [])


def test_a_later_write_never_overtakes_a_spooled_one(db: Path, tmp_path: Path) -> None:
    art, result = _items()
    writer = _spooling(db)
    with _held(db):
        assert isinstance(writer.write(AddArticles((art,))), Spooled)
    # The reader has gone: the next write first drains the spooled article, then saves its statements.
    assert writer.write(SaveAnalyses((result,), "1")) == Applied(SaveAnalyses((result,), "1"), 1)
    assert writer.spool.pending() == []
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT extractor_version FROM articles").fetchall() == [("1",)]


def test_a_newer_format_waits_and_keeps_everything_after_it(db: Path, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", db)
    newer = {"format": FORMAT_VERSION + 1, "database": str(db.resolve()), "kind": "start_run", "fields": {}}
    (tmp_path / "spool").mkdir()
    (tmp_path / "spool" / "00000000000000000000-0000000-000000-start_run.jsonl").write_text(json.dumps(newer))
    writer = _spooling(db)
    assert writer.drain().waiting == 1
    # Nothing may be written ahead of it: this run's commands join the spool.
    assert isinstance(writer.write(StartRun("r2")), Spooled)
    assert len(spool.pending()) == 2


def test_a_direct_writer_refuses_in_one_line_before_writing(db: Path, tmp_path: Path) -> None:
    writer = Writer(Store(db, lock_patience_seconds=0.2))
    with _held(db), pytest.raises(DatabaseLocked, match=r"^retag wrote nothing: database .* is locked"):
        writer.check_free("retag")
