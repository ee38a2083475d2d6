"""The analysts' views and macros: on the demo database, and on hand-made speaker puzzles."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from saidwhat.core.errors import OutputPathError
from saidwhat.storage import Store
from tests.analyst.records import analysed, article, statement


def _query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _jsonl(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


# ------------------------------------------------------------ demo database
def test_said_about_answers_on_the_demo_database(analyst_demo_db: Path) -> None:
    rows = _query(analyst_demo_db, "SELECT speaker, quote, topics, published_at FROM said_about('moscow-meeting')")
    assert len(rows) >= 20
    assert all("moscow-meeting" in r[2] for r in rows)
    speakers = {r[0] for r in rows}
    assert {"Vladimir Putin", "Donald Trump"} <= speakers
    times = [r[3] for r in rows]
    assert times == sorted(times)  # ordered by published_at


def test_said_by_matches_last_name_alias_and_any_case(analyst_demo_db: Path) -> None:
    by_last = _query(analyst_demo_db, "SELECT DISTINCT speaker FROM said_by('Putin')")
    assert by_last == [("Vladimir Putin",)]
    assert _query(analyst_demo_db, "SELECT count(*) FROM said_by('putin')") == _query(
        analyst_demo_db, "SELECT count(*) FROM said_by('Vladimir Putin')"
    )
    # a config alias (config.toml [speakers.aliases]) finds the canonical speaker too
    assert _query(analyst_demo_db, "SELECT DISTINCT speaker FROM said_by('President Trump')") == [("Donald Trump",)]


def test_speakers_are_canonical_across_articles(analyst_demo_db: Path) -> None:
    [(aliases, statements, articles)] = _query(
        analyst_demo_db, "SELECT aliases, statements, articles FROM v_speakers WHERE speaker = 'Donald Trump'"
    )
    assert {"Trump", "President Trump", "Donald J. Trump"} <= set(aliases)
    assert articles > 1 and statements >= articles
    # No other row of v_speakers is a Trump or Putin variant.
    others = _query(
        analyst_demo_db,
        "SELECT speaker FROM v_speakers WHERE speaker NOT IN ('Donald Trump', 'Vladimir Putin')"
        " AND (speaker IN ('Trump', 'Putin') OR speaker ILIKE '%donald%trump%' OR speaker ILIKE 'vladimir%putin%')",
    )
    assert others == []


def test_v_statements_has_the_documented_columns(analyst_demo_db: Path) -> None:
    with duckdb.connect(str(analyst_demo_db), read_only=True) as con:
        columns = [d[0] for d in con.execute("SELECT * FROM v_statements LIMIT 0").description]
    for name in ("statement_id", "article_id", "speaker", "speaker_role", "speaker_type", "kind", "cue", "quote",
                 "sentence", "topics", "publisher", "published_at", "title", "url", "week"):  # fmt: skip
        assert name in columns


def test_speakers_command_prints_rows_as_jsonl_and_csv(analyst_demo_db: Path, cli) -> None:
    rows = _jsonl(cli("speakers", "--db", analyst_demo_db, "--format", "jsonl").output)
    top = {r["speaker"]: r for r in rows}
    assert top["Donald Trump"]["statements"] >= 5 and "Trump" in top["Donald Trump"]["aliases"]
    counts = [r["statements"] for r in rows]
    assert counts == sorted(counts, reverse=True)
    about = _jsonl(cli("speakers", "--db", analyst_demo_db, "--about", "moscow-meeting", "--format", "jsonl").output)
    assert {"Vladimir Putin", "Donald Trump"} <= {r["speaker"] for r in about}
    assert all(r["statements"] <= top[r["speaker"]]["statements"] for r in about)
    csv_out = cli("speakers", "--db", analyst_demo_db, "--limit", "3", "--format", "csv").output
    assert csv_out.splitlines()[0].startswith("speaker,speaker_type,statements")
    assert len(csv_out.splitlines()) == 4
    table = cli("speakers", "--db", analyst_demo_db, "--limit", "3").output
    assert "3 speakers" in table and "Trump" in table


def test_status_shows_runs_feed_health_and_counts(analyst_demo_db: Path, cli) -> None:
    rows = _jsonl(cli("status", "--db", analyst_demo_db, "--format", "jsonl").output)
    sections = {r["section"] for r in rows}
    assert sections == {"runs", "feeds", "counts"}
    feeds = [r for r in rows if r["section"] == "feeds"]
    assert len(feeds) == 4 and all({"healthy", "consecutive_failures", "last_error"} <= set(f) for f in feeds)
    counts = {r["table"]: r["rows"] for r in rows if r["section"] == "counts"}
    assert counts["articles"] >= 25 and counts["statements"] > 0 and counts["spooled_batches"] == 0
    runs = cli("status", "--db", analyst_demo_db, "--section", "runs", "--format", "csv").output.splitlines()
    assert runs[0].startswith("run_id,started_at") and len(runs) >= 2
    assert "Feeds" in cli("status", "--db", analyst_demo_db).output


def test_snapshot_exports_views_to_parquet(
    analyst_demo_db: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "snap"
    rows = _jsonl(cli("snapshot", "--db", analyst_demo_db, "--out", out, "--format", "jsonl").output)
    names = {r["name"] for r in rows}
    assert {"v_statements", "v_speakers", "articles", "statements"} <= names
    con = duckdb.connect()
    snap = con.execute(f"SELECT count(*) FROM '{out / 'v_statements.parquet'}'").fetchone()[0]
    assert snap == _query(analyst_demo_db, "SELECT count(*) FROM v_statements")[0][0]
    putin = con.execute(
        f"SELECT count(*) FROM '{out / 'v_statements.parquet'}' WHERE speaker = 'Vladimir Putin'"
    ).fetchone()[0]
    assert putin == _query(analyst_demo_db, "SELECT count(*) FROM said_by('Putin')")[0][0]
    # snapshot.sql recreates the views and macros over the Parquet files, without the database.
    fresh = duckdb.connect()
    monkeypatch.chdir(out)  # its paths are relative to its folder (the folder can be moved)
    fresh.execute((out / "snapshot.sql").read_text(encoding="utf-8"))
    assert fresh.execute("SELECT count(*) FROM said_by('Putin')").fetchone()[0] == putin
    assert (
        fresh.execute("SELECT count(*) FROM said_about('moscow-meeting')").fetchone()[0]
        == _query(analyst_demo_db, "SELECT count(*) FROM said_about('moscow-meeting')")[0][0]
    )


# -------------------------------------------------------- hand-made puzzles
def _build(db: Path, items: list, aliases: dict[str, str] | None = None) -> Store:
    store = Store(db)
    store.add_articles([a for a, *_ in items])
    store.save_analyses([analysed(*item) for item in items], "1")
    if aliases:
        store.set_config_aliases(aliases)
    return store


def _canonical(db: Path) -> dict[str, str]:
    return dict(_query(db, "SELECT name, canonical FROM v_speaker_names"))


def test_trump_variants_are_one_speaker_without_config(tmp_path: Path) -> None:
    when = datetime(2026, 1, 20, 9, tzinfo=UTC)
    t1 = 'Donald Trump arrived.\n"We will see," Trump said.'
    t2 = 'President Trump said "maybe Moscow" on Friday.'
    t3 = 'Donald J. Trump wrote "soon".'
    t4 = 'Trump told reporters "not yet".\nPutin replied "we are ready".\nVladimir Putin is in Moscow.'
    a1, a2, a3, a4 = (article(f"t{i}", t, f"T{i}", when) for i, t in enumerate((t1, t2, t3, t4)))
    db = tmp_path / "t.duckdb"
    _build(db, [
        (a1, [statement(t1, "We will see,", "Donald Trump")], {"Donald Trump": {"Trump"}}, ("Donald Trump",)),
        (a2, [statement(t2, "maybe Moscow", "President Trump")], {}, ()),
        (a3, [statement(t3, "soon", "Donald J. Trump")], {}, ()),
        (a4, [statement(t4, "not yet", "Trump"), statement(t4, "we are ready", "Putin")], {},
         ("Vladimir Putin",)),
    ])  # fmt: skip
    names = _canonical(db)
    for variant in ("Trump", "Donald Trump", "President Trump", "Donald J. Trump"):
        assert names[variant] == "Donald Trump", variant
    assert names["Putin"] == "Vladimir Putin"  # unique full name with that last name
    assert _query(db, "SELECT speaker, statements, articles FROM v_speakers ORDER BY speaker") == [
        ("Donald Trump", 4, 4),
        ("Vladimir Putin", 1, 1),
    ]


def test_ambiguous_last_name_stays_and_config_merges_win(tmp_path: Path) -> None:
    when = datetime(2026, 1, 20, 9, tzinfo=UTC)
    t1 = 'Donald Trump said "one".\nMelania Trump said "two".'
    t2 = 'Trump said "three".'
    a1, a2 = article("m1", t1, "M1", when), article("m2", t2, "M2", when)
    db = tmp_path / "m.duckdb"
    store = _build(db, [
        (a1, [statement(t1, "one", "Donald Trump"), statement(t1, "two", "Melania Trump")], {},
         ("Donald Trump", "Melania Trump")),
        (a2, [statement(t2, "three", "Trump")], {}, ()),
    ])  # fmt: skip
    assert _canonical(db)["Trump"] == "Trump"  # two full names end in Trump: not guessed
    store.set_config_aliases({"Trump": "Donald Trump"})
    assert _canonical(db)["Trump"] == "Donald Trump"


def test_a_config_merge_wins_over_the_nlp_alias(tmp_path: Path) -> None:
    when = datetime(2026, 1, 20, 9, tzinfo=UTC)
    t1 = 'Donald Trump said "one".\n"Two," Trump added.'
    a1 = article("c1", t1, "C1", when)
    db = tmp_path / "c.duckdb"
    store = _build(db, [(a1, [statement(t1, "one", "Donald Trump"), statement(t1, "Two,", "Donald Trump")],
                         {"Donald Trump": {"Trump"}}, ("Donald Trump",))])  # fmt: skip
    assert _canonical(db)["Trump"] == "Donald Trump"
    store.set_config_aliases({"Donald Trump": "Trump"})  # the user prefers the short name
    names = _canonical(db)
    assert names["Donald Trump"] == "Trump" and names["Trump"] == "Trump"
    assert _query(db, "SELECT speaker, statements FROM v_speakers") == [("Trump", 2)]


def test_descriptions_do_not_become_aliases_across_articles(tmp_path: Path) -> None:
    when = datetime(2026, 1, 20, 9, tzinfo=UTC)
    t1 = 'The U.S. president said "fine".'
    a1 = article("d1", t1, "D1", when)
    db = tmp_path / "d.duckdb"
    _build(db, [(a1, [statement(t1, "fine", "Donald Trump")], {"Donald Trump": {"the U.S. president"}},
                 ("Donald Trump",))])  # fmt: skip
    names = _canonical(db)
    assert names["the U.S. president"] == "the U.S. president"


def test_config_aliases_follow_the_config(tmp_path: Path) -> None:
    when = datetime(2026, 1, 20, 9, tzinfo=UTC)
    t1 = 'Vova said "fine".'
    a1 = article("v1", t1, "V1", when)
    db = tmp_path / "v.duckdb"
    store = _build(db, [(a1, [statement(t1, "fine", "Vova")], {}, ())], aliases={"Vova": "Vladimir Putin"})
    assert _query(db, "SELECT DISTINCT speaker FROM said_by('Vova')") == [("Vladimir Putin",)]
    store.set_config_aliases({})  # the alias was removed from config.toml
    assert _query(db, "SELECT speaker FROM v_statements") == [("Vova",)]
    assert _query(db, "SELECT count(*) FROM speaker_aliases") == [(0,)]


def test_who_speaker_uses_the_canonical_names(analyst_demo_db: Path, cli) -> None:
    rows = _jsonl(cli("who", "--db", analyst_demo_db, "--speaker", "Donald J. Trump", "--format", "jsonl").output)
    assert rows and {r["speaker"] for r in rows} == {"Donald Trump"}
    assert len(rows) == _query(analyst_demo_db, "SELECT count(*) FROM said_by('Donald J. Trump')")[0][0]


def test_week_is_the_utc_week_in_any_session_time_zone(tmp_path: Path) -> None:
    late_sunday = datetime(2026, 1, 25, 23, 30, tzinfo=UTC)  # already Monday (W05) in Tokyo
    t1 = 'Peskov said "late".'
    a1 = article("w1", t1, "W1", late_sunday)
    db = tmp_path / "w.duckdb"
    _build(db, [(a1, [statement(t1, "late", "Dmitry Peskov")], {}, ())])
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'Asia/Tokyo'")
        assert con.execute("SELECT week FROM v_statements").fetchall() == [("2026-W04",)]


def test_a_database_from_before_the_analyst_model_is_upgraded_on_first_use(tmp_path: Path, cli) -> None:
    from saidwhat.storage.db import migrations

    db = tmp_path / "old.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL)"
        )
        version, name, sql = migrations()[0]
        con.execute(sql)
        con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [version, name])
    assert cli("speakers", "--db", db, "--format", "csv").output.startswith("speaker,speaker_type,")
    assert _query(db, "SELECT max(version) FROM schema_version")[0][0] == migrations()[-1][0]


def test_snapshot_out_that_cannot_be_a_folder_is_one_line(analyst_demo_db: Path, tmp_path: Path, cli) -> None:
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    out = tmp_path / "a-file" / "snap"
    result = cli("snapshot", "--db", analyst_demo_db, "--out", out, ok=False)
    assert isinstance(result.exception, OutputPathError)
    assert "cannot make this folder" in str(result.exception) and "give another --out directory" in str(
        result.exception
    )
