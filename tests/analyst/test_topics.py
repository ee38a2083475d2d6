"""Topic definitions: phrase groups and optional spaCy Matcher patterns, evaluated in context."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from saidwhat.config import parse_config
from saidwhat.core.errors import ConfigError
from saidwhat.nlp.topics import StatementContext, TopicTagger
from saidwhat.storage import Store
from tests.analyst.records import analysed, article, statement

TOPICS = {
    "moscow-trip": {"all_of": [["Moscow"]], "patterns": [[{"LOWER": "next"}, {"LOWER": "time"}]]},
    "summit": {"patterns": [[{"LOWER": {"IN": ["summit", "summits"]}}, {"IS_TITLE": True, "OP": "?"}]]},
    "moscow": {"all_of": [["Moscow", "Kremlin"]]},
}


def _tags(quote: str, paragraph: str = "", title: str | None = None) -> tuple[str, ...]:
    tagger = TopicTagger(parse_config({"topics": TOPICS}).topics)
    return tagger.tags(StatementContext(quote, quote, paragraph, title))


def test_patterns_and_phrases_combine() -> None:
    assert _tags("Next time.", paragraph="He was asked about Moscow.") == ("moscow-trip", "moscow")
    assert _tags("Some other time.", paragraph="Moscow.") == ("moscow",)  # the pattern must match too
    assert _tags("A summit, perhaps.") == ("summit",)  # patterns alone
    assert _tags("Nothing here", title="Summits and Kremlin walls") == ("summit", "moscow")


@pytest.mark.parametrize(
    ("topic", "message"),
    [
        ({"patterns": [[{"LEMMA": "meet"}]]}, "LEMMA, which a tokenizer does not set"),
        ({"patterns": [[{"LOWER": {"NOPE": 1}}]]}, "not valid Matcher patterns"),
        ({"patterns": []}, "needs about, all_of or patterns"),
        ({"patterns": "summit"}, "must be a list of token patterns"),
        ({"all_of": [["x"]], "any_of": []}, "unknown key any_of"),
    ],
)
def test_bad_topic_definitions_are_one_line_errors(topic: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TopicTagger(parse_config({"topics": {"bad": topic}}).topics)


def test_retag_with_a_pattern_topic(prefect_harness, tmp_path: Path, cli) -> None:
    text = 'Asked about a visit, Putin said: "Next time in Moscow."\nHe smiled.'
    art = article("p1", text, "Putin on a visit", datetime(2026, 1, 20, 9, tzinfo=UTC))
    db = tmp_path / "p.duckdb"
    store = Store(db)
    store.add_articles([art])
    store.save_analyses([analysed(art, [statement(text, "Next time in Moscow.", "Vladimir Putin")])], "1")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = "{db}"\n\n[topics.next-visit]\nall_of = [["visit*"]]\n'
        'patterns = [[{LOWER = "next"}, {LOWER = "time"}, {LOWER = "in", OP = "?"}, {IS_TITLE = true}]]\n',
        encoding="utf-8",
    )
    result = json.loads(cli("retag", "--config", config, "--format", "jsonl").output)
    assert result == {"statements": 1, "changed": 1, "topics": ["next-visit"]}
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT topics FROM statements").fetchall() == [(["next-visit"],)]
