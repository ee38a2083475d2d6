"""The spool's pieces: lossless encoding, coverage of every Store write, order and bad files."""

from __future__ import annotations

import inspect
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from saidwhat.storage import Store
from saidwhat.storage.spool import NOT_SPOOLED, SPOOLED, decode, encode

from tests.analyst.records import analysed, article, statement

TEXT = 'Peskov said "no date, no \\"May\\"".\nThe Kremlin’s line held.'


def _items():
    art = article("s1", TEXT, "Spool", datetime(2026, 1, 20, 9, tzinfo=UTC))
    result = analysed(art, [statement(TEXT, "no date", "Dmitry Peskov", role="spokesman")],
                      {"Dmitry Peskov": {"Peskov"}}, ("Peskov",), topics=[("moscow-meeting",)])  # fmt: skip
    return art, result


def test_records_survive_encoding() -> None:
    import json

    art, result = _items()
    assert decode(json.loads(json.dumps(encode([art, result])))) == [art, result]


def test_every_store_write_is_spooled_or_deliberately_not() -> None:
    writes = {
        name
        for name, fn in inspect.getmembers(Store, inspect.isfunction)
        if "db.transaction" in inspect.getsource(inspect.unwrap(fn))
    }
    assert writes, "no Store writes found"
    missing = writes - set(SPOOLED) - NOT_SPOOLED
    assert not missing, f"Store writes that neither spool nor are listed in NOT_SPOOLED: {sorted(missing)}"


def test_spooled_writes_replay_in_order_and_bad_files_step_aside(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    store = Store(db, lock_patience_seconds=0.2)
    store.migrate()
    art, result = _items()
    hold = f"import duckdb, sys; c = duckdb.connect({str(db)!r}, read_only=True); print(1, flush=True); input()"
    reader = subprocess.Popen([sys.executable, "-c", hold], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        reader.stdout.readline()
        assert store.add_articles([art]) == [art.article_id]  # spooled: returns what will be added
        assert store.save_analyses([result], "1") == 1
        assert [p.name.split("-")[-1] for p in store.pending_spool()] == ["add_articles.jsonl", "save_analyses.jsonl"]
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
    (tmp_path / "spool" / "00000000000000000000-0000000-000000-add_articles.jsonl").write_text("not json\n")
    other = Store(db)  # the next run
    assert other.drain_spool() == 2
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT speaker, quote, topics FROM v_statements").fetchall() == [
            ("Dmitry Peskov", "no date", ["moscow-meeting"])
        ]
    assert other.pending_spool() == []
    assert [p.name for p in (tmp_path / "spool").iterdir() if p.name.endswith(".failed")] == [
        "00000000000000000000-0000000-000000-add_articles.jsonl.failed"
    ]
