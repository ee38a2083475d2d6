"""docs/schema.md is the live schema: regenerate it with `python -m storage.schema_doc`."""

from __future__ import annotations

from saidwhat.storage.schema_doc import DOC_PATH, render_fresh


def test_schema_doc_matches_live_schema() -> None:
    expected = render_fresh()
    current = DOC_PATH.read_text(encoding="utf-8")
    assert current == expected, "docs/schema.md is out of date: run `python -m storage.schema_doc`"


def test_every_table_view_and_column_is_described() -> None:
    text = render_fresh()
    assert "(no description)" not in text
    for name in ("v_statements", "v_speakers", "said_about", "said_by", "statements", "speaker_aliases"):
        assert f"### {name}\n" in text
