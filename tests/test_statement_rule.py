"""The `rule` and `nested_in` of every statement reach the statements table (migration 006), and
`saidwhat extract` writes them, with the quote as the speaker's words."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import duckdb

from saidwhat.core.records import Analysis, StatementKind
from saidwhat.storage import Store
from saidwhat.storage.store import AnalysedArticle, statement_id_for
from tests.conftest import run_cli
from tests.test_storage import TEXT, _analysis, _article


def test_rule_and_nested_in_are_stored(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    [article_id] = store.add_articles([_article("https://example.com/a")])
    outer = replace(_analysis().statements[0], rule="quote_cue")
    inner = replace(
        outer, quote="ready to receive him", quote_start=5, quote_end=25, kind=StatementKind.INDIRECT,
        rule="clause", nested_in=0,
    )  # fmt: skip
    analysis = Analysis(statements=(outer, inner), mentions=(), speaker_aliases={})
    store.save_analyses([AnalysedArticle(article_id, analysis, ((), ()))], "v1")
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT quote_start, rule, nested_in FROM statements ORDER BY quote_start").fetchall()
    outer_id = statement_id_for(article_id, 0, 41, "v1")
    assert rows == [(0, "quote_cue", None), (5, "clause", outer_id)]
    assert TEXT.startswith(outer.quote)


def test_extract_many_files_reports_the_bad_one_and_writes_the_others(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text('"We will win," Mary Smith said. "And we will win big."', encoding="utf-8")
    other = tmp_path / "other.txt"
    other.write_text("The ministry said the crossing would reopen on Friday morning.", encoding="utf-8")
    missing = tmp_path / "missing.txt"
    pdf = tmp_path / "notes.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    result = run_cli("extract", str(good), str(missing), str(pdf), str(other))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{missing}: no such file" in result.stderr and "unsupported file type .pdf" in result.stderr
    assert "2 of 4 files failed" in result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {row["doc"] for row in rows} == {str(good), str(other)}
    split = next(row for row in rows if row["doc"] == str(good))
    assert split["quote"] == '"We will win," … "And we will win big."'
    assert split["quote_spans"] == [[0, 14], [32, 54]]
    assert all(row["rule"] for row in rows) and all("nested_in" in row for row in rows)


def test_extract_keeps_nested_statements_only_when_asked(tmp_path: Path) -> None:
    text = tmp_path / "senator.txt"
    text.write_text(
        "The senator said that the minister had told reporters that he was ready to move quickly on the bill.",
        encoding="utf-8",
    )
    plain = [json.loads(line) for line in run_cli("extract", str(text)).stdout.splitlines()]
    assert [(row["speaker"], row["nested_in"]) for row in plain] == [("the senator", None)]
    result = run_cli("extract", "--nested", str(text))
    assert result.returncode == 0, result.stderr
    kept = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(row["speaker"], row["nested_in"]) for row in kept] == [("the senator", None), ("the minister", 0)]
