"""Quote clusters: the matching rule, incremental assignment in the save transaction, v_quotes, the CLI."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from saidwhat.core.records import SpeakerType
from saidwhat.storage import Store
from saidwhat.storage.clusters import quote_words, similarity
from tests.analyst.records import analysed, article, statement
from tests.conftest import run_cli

ORIGINAL = "We are not talking about dates yet. We are talking about the principle of a meeting."


@pytest.mark.parametrize(
    ("copy", "same"),
    [
        ("We are not talking about dates yet. We are talking about the principle of a meeting.", True),
        ("We are not talking about dates yet", True),  # trimmed
        ("we are not talking about dates, yet; we are talking about the principle of a meeting", True),  # punctuation
        ("We are not talking about dates yet … the principle of a meeting", True),  # ellipsis
        ("they were not talking about dates yet, only about the principle of a meeting", True),  # reported
        ("We are not discussing dates yet. We are talking about the principle of a meeting.", True),  # one word
        ("We are talking to the Americans about many things, but not about dates for a visit", False),
        ("The principle is clear", False),
        ("dates", False),  # too short to be anything but identical
    ],
)
def test_the_matching_rule(copy: str, same: bool) -> None:
    assert (similarity(quote_words(ORIGINAL), quote_words(copy)) >= 0.8) is same


def test_clusters_are_assigned_incrementally_in_the_save_transaction(tmp_path: Path) -> None:
    day = datetime(2026, 1, 5, 9, tzinfo=UTC)
    t1 = 'Dmitry Peskov said: "We are not talking about dates yet. The principle is clear."\nMore text.'
    t2 = 'Peskov said: "We are not talking about dates yet."\nYuri Ushakov said: "We are not talking about dates yet."'
    t3 = 'Peskov said: "The summit is in Moscow in spring."\nAn official said: "We are not talking about dates yet."'
    a1 = article("c1", t1, "One", day, publisher="Wire One")
    a2 = article("c2", t2, "Two", day.replace(day=6), publisher="Wire Two")
    a3 = article("c3", t3, "Three", day.replace(day=7), publisher="Wire Three")
    store = Store(tmp_path / "c.duckdb")
    store.add_articles([a1, a2, a3])
    q1 = '"We are not talking about dates yet. The principle is clear."'
    q2 = '"We are not talking about dates yet."'
    store.save_analyses([analysed(a1, [statement(t1, q1, "Dmitry Peskov")], persons=("Dmitry Peskov",))], "1")
    # A later run: the trimmed copy joins the first run's cluster; another speaker's identical words do not.
    ushakov = statement(t2[t2.index("Yuri") :], q2, "Yuri Ushakov")
    ushakov = type(ushakov)(**{**{f: getattr(ushakov, f) for f in ushakov.__dataclass_fields__},
                                "quote_start": t2.rindex(q2), "quote_end": t2.rindex(q2) + len(q2)})  # fmt: skip
    store.save_analyses(
        [analysed(a2, [statement(t2, q2, "Peskov"), ushakov], {"Dmitry Peskov": {"Peskov"}}, ("Yuri Ushakov",))], "1"
    )
    at = t3.rindex(q2)
    unnamed = statement(t3, q2, "An official", speaker_type=SpeakerType.UNNAMED)
    unnamed = replace(unnamed, quote_start=at, quote_end=at + len(q2))
    other = '"The summit is in Moscow in spring."'
    store.save_analyses([analysed(a3, [statement(t3, other, "Peskov"), unnamed])], "1")
    with duckdb.connect(str(store.path), read_only=True) as con:
        rows = con.execute(
            "SELECT s.article_id, s.speaker, s.quote, c.cluster_id, c.match_score FROM statements s"
            " JOIN quote_clusters c USING (statement_id) JOIN articles a USING (article_id)"
            " ORDER BY a.published_at, s.quote_start"
        ).fetchall()
        quotes = con.execute(
            "SELECT speaker, quote, articles, publishers, kinds FROM v_quotes ORDER BY first_seen"
        ).fetchall()
    assert len(rows) == 5
    first, peskov_copy, ushakov_row, peskov_other, unnamed_row = rows
    assert peskov_copy[3] == first[3] and peskov_copy[4] == 1.0  # all of the trim is in the original
    assert len({first[3], ushakov_row[3], peskov_other[3], unnamed_row[3]}) == 4
    assert quotes[0] == ("Dmitry Peskov", q1, 2, ["Wire One", "Wire Two"], ["direct"])  # longest direct wording

    # Re-analysing an article replaces its statements and clusters them again, leaving no stale rows.
    store.save_analyses([analysed(a2, [statement(t2, q2, "Peskov")], {"Dmitry Peskov": {"Peskov"}})], "2")
    with duckdb.connect(str(store.path), read_only=True) as con:
        orphans = con.execute(
            "SELECT count(*) FROM quote_clusters WHERE statement_id NOT IN (SELECT statement_id FROM statements)"
        ).fetchone()[0]
        unassigned = con.execute(
            "SELECT count(*) FROM statements WHERE statement_id NOT IN (SELECT statement_id FROM quote_clusters)"
        ).fetchone()[0]
        again = con.execute(
            "SELECT c.cluster_id FROM statements s JOIN quote_clusters c USING (statement_id)"
            " WHERE s.extractor_version = '2'"
        ).fetchall()
    assert (orphans, unassigned) == (0, 0)
    assert again == [(first[3],)]


def test_demo_clusters_meet_the_targets(analyst_demo_db: Path) -> None:
    from saidwhat.demo.cluster_gold import score_clusters

    score = score_clusters(analyst_demo_db)
    assert score.multi_member_clusters >= 15
    assert score.precision >= 0.95, score.wrong_pairs[:5]
    assert score.recall >= 0.90, (score.missed_pairs[:5], score.unmatched[:5])


def test_who_clusters_lists_one_row_per_utterance(analyst_demo_db: Path) -> None:
    result = run_cli("who", "--db", str(analyst_demo_db), "--clusters", "--speaker", "Peskov", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    dates = next(r for r in rows if "We are not talking about dates yet. We are talking" in r["quote"])
    assert dates["speaker"] == "Dmitry Peskov"
    assert dates["articles"] == 3 and len(dates["statement_ids"]) == 4
    assert set(dates["publishers"]) == {"Northgate Wire — World", "Harbour Courier — World"}
    assert dates["first_seen"].startswith("2026-01-05") and dates["last_seen"].startswith("2026-01-26")
    assert all(r["speaker"] == "Dmitry Peskov" for r in rows)
    plain = run_cli("who", "--db", str(analyst_demo_db), "--speaker", "Peskov", "--format", "jsonl")
    assert len(plain.stdout.splitlines()) > len(rows)  # the copies are folded
    # Filters pick clusters with a matching statement; the table says what it lists.
    courier = "Harbour Courier — World"
    listed = run_cli("who", "--db", str(analyst_demo_db), "--clusters", "--publisher", courier, "--format", "csv")
    by_courier = list(csv.DictReader(listed.stdout.splitlines()))
    assert by_courier and all(courier in r["publishers"].split(", ") for r in by_courier)
    assert any(len(r["publishers"].split(", ")) > 1 for r in by_courier)  # echoes keep their other outlets
    table = run_cli("who", "--db", str(analyst_demo_db), "--clusters", "--speaker", "Lavrov", env={"COLUMNS": "160"})
    assert "quote clusters" in table.stdout and "Lavrov" in table.stdout


def test_show_prints_the_statement_in_its_article(analyst_demo_db: Path) -> None:
    listed = run_cli("who", "--db", str(analyst_demo_db), "--speaker", "Ushakov", "--format", "csv")
    row = next(r for r in csv.DictReader(listed.stdout.splitlines()) if "not an improvisation" in r["quote"])
    result = run_cli("show", row["statement_id"][:8], "--db", str(analyst_demo_db), env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert row["title"] in out and row["url"] in out and row["publisher"] in out
    assert "A summit is not an improvisation" in out
    assert "Also carried" in out  # the Courier's copy
    narrow = run_cli(
        "show", row["statement_id"], "--context", "0", "--db", str(analyst_demo_db), env={"COLUMNS": "200"}
    )
    assert "A summit is not an improvisation" in narrow.stdout and len(narrow.stdout) < len(out)
    # The highlighting is real terminal styling when colours are forced.
    styled = run_cli("show", row["statement_id"], "--db", str(analyst_demo_db), env={"FORCE_COLOR": "1"})
    assert "\x1b[" in styled.stdout

    missing = run_cli("show", "0000000000000000", "--db", str(analyst_demo_db))
    assert missing.returncode == 2
    assert "no statement '0000000000000000'" in missing.stderr and "Traceback" not in missing.stderr


def test_quotes_digest_has_one_row_per_cluster_first_seen_that_week(prefect_harness, analyst_demo_db, tmp_path) -> None:
    out = tmp_path / "digest"
    result = run_cli("digest", "--db", str(analyst_demo_db), "--week", "2026-W02", "--out", str(out))
    assert result.returncode == 0, result.stderr
    with (out / "quotes-2026-W02.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(r["week"] == "2026-W02" for r in rows)
    dates = [r for r in rows if r["quote"].startswith("“We are not talking about dates yet. We are talking")]
    assert len(dates) == 1 and dates[0]["articles"] == "3"
    assert dates[0]["last_seen"] == "2026-01-26T08:00:00Z"  # a later copy does not move the cluster's week
    with (out / "statements-2026-W02.csv").open(encoding="utf-8", newline="") as handle:
        statements = list(csv.DictReader(handle))
    assert len(rows) < len(statements)


def test_retag_rebuilds_clusters_when_aliases_merge_two_speakers(demo_copy: Path, tmp_path: Path) -> None:
    from tests.analyst.conftest import analyst_config

    def phrase_clusters() -> set[str]:
        with duckdb.connect(str(demo_copy), read_only=True) as con:
            rows = con.execute(
                "SELECT DISTINCT cluster_id FROM v_provenance WHERE contains(quote, 'The question is not if, but when')"
            ).fetchall()
        return {r[0] for r in rows}

    assert len(phrase_clusters()) == 2  # Dmitriev's words, and Ushakov saying the same phrase: two speakers
    # A (made-up) config merge makes them one speaker: the next retag puts the two in one cluster.
    config = analyst_config(tmp_path, aliases='"Yuri Ushakov" = "Kirill Dmitriev"')
    result = run_cli("retag", "--db", str(demo_copy), "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert len(phrase_clusters()) == 1
    with duckdb.connect(str(demo_copy), read_only=True) as con:
        unassigned = con.execute(
            "SELECT count(*) FROM statements WHERE statement_id NOT IN (SELECT statement_id FROM quote_clusters)"
        ).fetchone()[0]
    assert unassigned == 0
