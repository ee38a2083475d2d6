"""The weekly digest through the CLI: exact CSV round trips, byte-identical re-runs, a valid PNG."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from saidwhat.core.errors import OutputPathError
from saidwhat.storage import Store
from saidwhat.storage.digest import IsoWeek
from tests.analyst.records import analysed, article, statement

STATEMENT_HEADER = ("week,published_at,speaker,speaker_role,quote,kind,cue,topics,publisher,title,url,article_id,"
                    "statement_id,topic_evidence")  # fmt: skip

# Quotes written for this test: inner quotation marks, commas, line breaks, non-ASCII.
Q_COMMAS = 'There is no date, "no May", no June.\nThere is work.'
Q_SIMPLE = "We are ready"
Q_UNICODE = "«Nous verrons» — c’est tout, merci"
Q_CRLF = 'Line one,\r\nline "two"'


@pytest.fixture()
def digest_db(tmp_path: Path) -> Path:
    t1 = f'Dmitry Peskov told reporters: "{Q_COMMAS}"\nHe added more.'
    t2 = f'"{Q_SIMPLE}," Putin said in Moscow.\nVladimir Putin spoke on Tuesday.'
    t3 = f'Emmanuel Macron said "{Q_UNICODE}".'
    t4 = f'Peskov said "{Q_CRLF}" later.'
    t5 = 'Peskov said "next week" then.'
    w04 = datetime(2026, 1, 21, 9, 30, tzinfo=UTC)
    a1 = article("d1", t1, 'Kremlin: "no date", again', w04, publisher="Wire, One")
    a2 = article("d2", t2, "Putin in Moscow", datetime(2026, 1, 19, 8, tzinfo=UTC), publisher="Wire Two")
    a3 = article("d3", t3, "Macron", None, fetched=datetime(2026, 1, 25, 23, 59, tzinfo=UTC))  # no date: fetch time
    a4 = article("d4", t4, "Peskov again", datetime(2026, 1, 21, 10, 0, tzinfo=UTC))
    a5 = article("d5", t5, "Next week", datetime(2026, 1, 26, 0, 0, tzinfo=UTC))  # W05: not in the W04 digest
    db = tmp_path / "digest.duckdb"
    store = Store(db)
    store.add_articles([a1, a2, a3, a4, a5])
    store.save_analyses([
        analysed(a1, [statement(t1, Q_COMMAS, "Dmitry Peskov", role="Kremlin spokesman", cue="told reporters")],
                 {"Dmitry Peskov": {"Peskov"}}, ("Dmitry Peskov",), topics=[("moscow-meeting", "denials")]),
        analysed(a2, [statement(t2, Q_SIMPLE, "Putin")], {"Vladimir Putin": {"Putin"}}, ("Vladimir Putin",),
                 topics=[("moscow-meeting",)]),
        analysed(a3, [statement(t3, Q_UNICODE, "Emmanuel Macron")], {}, ("Emmanuel Macron",)),
        analysed(a4, [statement(t4, Q_CRLF, "Peskov")], {}, (), topics=[("denials",)]),
        analysed(a5, [statement(t5, "next week", "Peskov")], {}, ()),
    ], "1")  # fmt: skip
    return db


def _files(out: Path, week: str = "2026-W04") -> tuple[Path, Path, Path]:
    return out / f"statements-{week}.csv", out / f"speakers-{week}.csv", out / f"speakers-{week}.png"


def _digest(cli, db: Path, out: Path, *extra: str):
    return cli("digest", "--db", db, "--week", "2026-W04", "--out", out, "--format", "jsonl", *extra)


def test_statements_csv_round_trips_through_csv_and_duckdb(prefect_harness, digest_db: Path, tmp_path, cli) -> None:
    out = tmp_path / "out"
    _digest(cli, digest_db, out)
    statements_csv, _, _ = _files(out)
    raw = statements_csv.read_bytes()
    assert raw.startswith(STATEMENT_HEADER.encode() + b"\r\n")  # no BOM, CRLF records
    with statements_csv.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["quote"] for r in rows] == [Q_SIMPLE, Q_COMMAS, Q_CRLF, Q_UNICODE]  # by published_at, then speaker
    assert [r["speaker"] for r in rows] == ["Vladimir Putin", "Dmitry Peskov", "Dmitry Peskov", "Emmanuel Macron"]
    assert rows[0]["published_at"] == "2026-01-19T08:00:00Z" and rows[3]["published_at"] == ""
    assert rows[1]["topics"] == "denials; moscow-meeting"
    assert rows[1]["publisher"] == "Wire, One" and rows[1]["title"] == 'Kremlin: "no date", again'
    assert {r["week"] for r in rows} == {"2026-W04"}
    # The same values through DuckDB's reader (empty fields are NULL there).
    con = duckdb.connect()
    cursor = con.execute("SELECT * FROM read_csv(?, header = true, all_varchar = true)", [str(statements_csv)])
    names = [d[0] for d in cursor.description]
    assert ",".join(names) == STATEMENT_HEADER
    via_duckdb = [{k: ("" if v is None else v) for k, v in zip(names, row, strict=True)} for row in cursor.fetchall()]
    assert via_duckdb == rows
    # ... and with DuckDB's type detection, the quotes still come back unchanged.
    detected = con.execute("SELECT quote FROM read_csv(?)", [str(statements_csv)]).fetchall()
    assert [q for (q,) in detected] == [Q_SIMPLE, Q_COMMAS, Q_CRLF, Q_UNICODE]
    # Statement ids lead back to the database.
    ids = {r["statement_id"] for r in rows}
    with duckdb.connect(str(digest_db), read_only=True) as db:
        stored = dict(db.execute("SELECT statement_id, quote FROM v_statements").fetchall())
    assert {stored[i] for i in ids} == {Q_SIMPLE, Q_COMMAS, Q_CRLF, Q_UNICODE}


def test_speakers_csv_and_rerun_is_byte_identical(prefect_harness, digest_db: Path, tmp_path, cli) -> None:
    out = tmp_path / "out"
    result = _digest(cli, digest_db, out)
    files = _files(out)
    first = [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
    with files[1].open(encoding="utf-8", newline="") as handle:
        speakers = list(csv.DictReader(handle))
    assert [s["speaker"] for s in speakers] == ["Dmitry Peskov", "Emmanuel Macron", "Vladimir Putin"]
    peskov = speakers[0]
    assert (peskov["statements"], peskov["articles"], peskov["publishers"]) == ("2", "2", "2")
    assert peskov["top_topics"] == "denials (2); moscow-meeting (1)"
    assert (peskov["first_seen"], peskov["last_seen"]) == ("2026-01-21T09:30:00Z", "2026-01-21T10:00:00Z")
    assert peskov["speaker_role"] == "Kremlin spokesman"
    kinds = {json.loads(line)["kind"] for line in result.output.splitlines()}
    assert kinds == {"statements", "speakers", "chart", "quotes"}

    _digest(cli, digest_db, out)
    assert [hashlib.sha256(f.read_bytes()).hexdigest() for f in files] == first
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left behind


def test_png_is_a_valid_image(prefect_harness, digest_db: Path, tmp_path, cli) -> None:
    import matplotlib.image

    out = tmp_path / "out"
    _digest(cli, digest_db, out)
    png = _files(out)[2]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(png)
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert b"Software" not in png.read_bytes() and b"tIME" not in png.read_bytes()


def test_excel_option_adds_a_bom_and_topic_filters(prefect_harness, digest_db: Path, tmp_path, cli) -> None:
    out = tmp_path / "excel"
    _digest(cli, digest_db, out, "--excel", "--topic", "denials")
    statements_csv, speakers_csv, _ = _files(out)
    assert statements_csv.read_bytes().startswith(b"\xef\xbb\xbfweek,")
    assert speakers_csv.read_bytes().startswith(b"\xef\xbb\xbfweek,")
    rows = list(csv.DictReader(io.StringIO(statements_csv.read_bytes().decode("utf-8-sig"), newline="")))
    assert [r["quote"] for r in rows] == [Q_COMMAS, Q_CRLF]


def test_empty_week_writes_headers_and_a_chart(prefect_harness, digest_db: Path, tmp_path, cli) -> None:
    out = tmp_path / "empty"
    cli("digest", "--db", digest_db, "--week", "2025-W30", "--out", out)
    statements_csv, speakers_csv, png = _files(out, "2025-W30")
    assert statements_csv.read_bytes() == (STATEMENT_HEADER + "\r\n").encode()
    assert speakers_csv.read_bytes().startswith(b"week,speaker,")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_digest_of_the_demo_week(prefect_harness, analyst_demo_db: Path, tmp_path, cli) -> None:
    out = tmp_path / "demo"
    cli("digest", "--db", analyst_demo_db, "--week", "2026-W04", "--out", out, "--topic", "moscow-meeting")
    with _files(out)[0].open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 10 and all("moscow-meeting" in r["topics"] for r in rows)
    keys = [(r["published_at"], r["speaker"] == "", r["speaker"]) for r in rows]  # no speaker: last
    assert keys == sorted(keys)


def test_bad_week_is_one_line_error(cli, digest_db: Path, tmp_path) -> None:
    result = cli("digest", "--db", digest_db, "--week", "2026-54", "--out", tmp_path, ok=False)
    assert result.exit_code != 0
    assert "YYYY-Www" in str(result.exception)


def test_iso_weeks() -> None:
    assert str(IsoWeek.last_complete(date(2026, 1, 28))) == "2026-W04"
    assert str(IsoWeek.last_complete(date(2026, 1, 4))) == "2025-W52"  # Sunday of 2026-W01
    assert str(IsoWeek.last_complete(date(2026, 1, 5))) == "2026-W01"
    week = IsoWeek.parse("2026-w4")
    assert (str(week), week.start.isoformat(), week.end.isoformat()) == (
        "2026-W04", "2026-01-19T00:00:00+00:00", "2026-01-26T00:00:00+00:00",
    )  # fmt: skip


def test_out_that_cannot_be_a_folder_is_one_line_before_any_work(digest_db: Path, tmp_path, cli) -> None:
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    out = tmp_path / "a-file" / "digest"
    result = cli("digest", "--db", digest_db, "--week", "2025-W30", "--out", out, ok=False)
    assert isinstance(result.exception, OutputPathError)
    assert str(result.exception).startswith(f"{out}: cannot make this folder")
    assert "give another --out or set [digest] out_dir in config.toml" in str(result.exception)
