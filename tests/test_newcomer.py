"""A newcomer's first hour, through the CLI: tables that fit, the default database, filters
that explain themselves, one timestamp format, status --errors, digest/snapshot/extract."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT, run_cli

TIMESTAMP = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\b")


def _widths(text: str) -> list[int]:
    return [len(line) for line in text.splitlines()]


def _headers(text: str) -> list[str]:
    """The header cells of a rich table (the line between ┃ borders)."""
    line = next(line for line in text.splitlines() if line.startswith("┃"))
    return [cell.strip() for cell in line.strip("┃").split("┃")]


def _no_config_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "SAIDWHAT_CONFIG"}


# ------------------------------------------------------------- 1. output that fits


@pytest.mark.parametrize("columns", [80, 200])
@pytest.mark.parametrize(
    "args",
    [
        ("who", "--speaker", "Peskov"),
        ("speakers",),
        ("status",),
        ("status", "--errors"),
    ],
)
def test_tables_fit_the_terminal_without_splitting_headers_or_dates(
    demo_db: tuple[Path, str], columns: int, args: tuple[str, ...]
) -> None:
    db, _ = demo_db
    result = run_cli(*args, "--db", str(db), env={"COLUMNS": str(columns)})
    assert result.returncode == 0, result.stderr
    assert max(_widths(result.stdout)) <= columns
    known = {"published_at", "speaker", "quote", "kind", "publisher", "statements", "aliases", "run_id",
             "status", "errors", "name", "healthy", "last_error", "table", "rows", "stage", "message", "url",
             "articles", "publishers", "first_seen", "last_seen", "started_at", "new_statements", "finished_at",
             "feeds_polled", "new_articles", "consecutive_failures", "last_ok_at", "occurred_at",
             "error_class"}  # fmt: skip
    for line in result.stdout.splitlines():
        if line.startswith("┃"):
            assert set(_headers(line)) <= known, line  # a whole header name in every header cell
    if args[0] == "who":
        # Each row's date is whole on its first line: one full timestamp per row.
        rows = [line for line in result.stdout.splitlines() if line.startswith("│ 2026")]
        assert rows and all(TIMESTAMP.search(line) for line in rows)


def test_the_topic_report_fits_an_80_column_terminal(demo_db: tuple[Path, str], tmp_path: Path) -> None:
    db = tmp_path / "labelled.duckdb"
    shutil.copyfile(demo_db[0], db)
    labels = tmp_path / "labels.csv"
    subprocess.run([sys.executable, "-m", "saidwhat.demo.gold_labels", "--out", str(labels)], check=True, timeout=60)
    assert run_cli("label", "--from", str(labels), "--db", str(db)).returncode == 0
    result = run_cli("topics", "report", "--topic", "moscow-meeting", "--db", str(db), env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    assert max(_widths(result.stdout)) <= 80
    assert _headers(result.stdout) == ["topic", "labelled", "precision", "recall", "true_positives"]
    assert "hidden at this width: orphaned, stale" in result.stdout
    disagreements = [line for line in result.stdout.splitlines() if line.startswith("┃ statement_id")]
    assert disagreements and "quote" in disagreements[0]


def test_a_wide_terminal_shows_every_column_and_a_narrow_one_says_what_it_hides(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    wide = run_cli("who", "--db", str(db), "--limit", "3", env={"COLUMNS": "200"})
    assert _headers(wide.stdout) == ["published_at", "speaker", "quote", "kind", "publisher"]
    assert "hidden at this width" not in wide.stdout
    narrow = run_cli("who", "--db", str(db), "--limit", "3", env={"COLUMNS": "80"})
    assert _headers(narrow.stdout) == ["published_at", "speaker", "quote"]
    assert "hidden at this width: publisher, kind" in narrow.stdout


def test_csv_and_jsonl_do_not_depend_on_the_terminal(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    for fmt in ("csv", "jsonl"):
        outputs = {
            run_cli("who", "--db", str(db), "--format", fmt, env={"COLUMNS": str(c)}).stdout for c in (40, 80, 300)
        }
        assert len(outputs) == 1


def test_who_shows_50_rows_and_says_how_to_see_more(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    [(total,)] = duckdb.connect(str(db), read_only=True).execute("SELECT count(*) FROM v_statements").fetchall()
    result = run_cli("who", "--db", str(db), env={"COLUMNS": "200"})
    assert result.returncode == 0
    assert f"50 of {total} statements" in result.stdout
    assert f"{total - 50} more not shown: --limit N shows N, --all shows every one" in result.stderr
    every = run_cli("who", "--db", str(db), "--all", "--format", "jsonl")
    assert len(every.stdout.splitlines()) == total
    assert len(run_cli("who", "--db", str(db), "--format", "csv").stdout.splitlines()) == total + 1


def test_demo_ends_with_the_15_latest_statements_the_summary_and_what_to_try(demo_db: tuple[Path, str]) -> None:
    _, stdout = demo_db
    assert "the latest 15 of" in stdout
    assert len([line for line in stdout.splitlines() if TIMESTAMP.search(line)]) == 15


# ------------------------------------------------------------- 2./3. default database, works from anywhere


def test_after_the_demo_readers_find_demo_duckdb_without_a_config(demo_db: tuple[Path, str], tmp_path: Path) -> None:
    db, _ = demo_db
    shutil.copy(db, tmp_path / "demo.duckdb")
    result = run_cli("who", "--speaker", "peskov", "--limit", "2", cwd=tmp_path, env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    assert "Dmitry Peskov" in result.stdout
    assert run_cli("status", "--section", "counts", cwd=tmp_path).returncode == 0


def test_with_a_config_whose_database_is_missing_the_error_names_the_db_to_pass(
    demo_db: tuple[Path, str], tmp_path: Path
) -> None:
    db, _ = demo_db
    shutil.copy(db, tmp_path / "demo.duckdb")
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    result = run_cli("who", cwd=tmp_path)
    assert result.returncode == 2
    assert "data/saidwhat.duckdb ([storage] path in config.toml) does not exist yet: pass --db demo.duckdb" in (
        " ".join(result.stderr.split())
    )


def test_the_demo_takes_a_free_port_when_its_default_is_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    from saidwhat.demo import server

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        monkeypatch.setattr(server, "DEMO_PORT", busy.getsockname()[1])
        with server.serve_corpus() as site:
            assert site.proxy_url != f"http://127.0.0.1:{server.DEMO_PORT}"
            assert site.base_url == server.DEMO_ORIGIN
        with (
            pytest.raises(server.SaidwhatError, match="pass another --port"),
            server.serve_corpus(port=server.DEMO_PORT),
        ):
            pass


# ------------------------------------------------------------- 4. filters that explain themselves


def test_publisher_and_speaker_match_any_word_in_any_case(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    result = run_cli("who", "--db", str(db), "--publisher", "meridian", "--all", "--format", "jsonl")
    publishers = {json.loads(line)["publisher"] for line in result.stdout.splitlines()}
    assert publishers == {"Meridian Post — World"}
    both = run_cli("who", "--db", str(db), "--publisher", "MERIDIAN POST", "--speaker", "PESKOV", "--format", "jsonl")
    rows = [json.loads(line) for line in both.stdout.splitlines()]
    assert rows and {r["speaker"] for r in rows} == {"Dmitry Peskov"}
    # A word is a whole word: "meri" is not "Meridian".
    assert run_cli("who", "--db", str(db), "--publisher", "meri", "--format", "jsonl").stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--kind", "quote"), "--kind 'quote' is not a statement kind: use one of direct, indirect, mixed"),
        (("--about", "nosuchtopic"), "unknown topic 'nosuchtopic': known topics are moscow-meeting"),
        (("--since", "2026-01-20", "--until", "2026-01-10"), "--since 2026-01-20 is not before --until 2026-01-10"),
    ],
)
def test_unknown_values_and_impossible_ranges_exit_2(
    demo_db: tuple[Path, str], args: tuple[str, ...], message: str
) -> None:
    db, _ = demo_db
    result = run_cli("who", "--db", str(db), *args)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


def test_an_empty_result_says_which_filter_matched_nothing_and_what_exists(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    result = run_cli("who", "--db", str(db), "--publisher", "Reuters", "--speaker", "Peskov")
    assert result.returncode == 0
    stderr = " ".join(result.stderr.split())
    assert "--publisher 'Reuters' matches no statement; publishers: " in stderr
    assert "Meridian Post — World, Northgate Wire — World" in stderr
    assert "--speaker" not in stderr.split("publishers:")[0]
    late = run_cli("who", "--db", str(db), "--since", "2027-01-01")
    assert "--since 2027-01-01T00:00:00Z matches no statement: statements are published from 2026-01-" in (
        " ".join(late.stderr.split())
    )
    together = run_cli("who", "--db", str(db), "--speaker", "Zelenskyy", "--publisher", "meridian", "--kind", "mixed")
    if not together.stdout:
        assert "no statement matches all of these filters together" in " ".join(together.stderr.split())


# ------------------------------------------------------------- 5. one timestamp format, status


def test_every_output_writes_times_as_iso_utc_with_z(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    rows = list(csv.DictReader(io.StringIO(run_cli("who", "--db", str(db), "--limit", "3", "--format", "csv").stdout)))
    assert all(TIMESTAMP.fullmatch(row["published_at"]) for row in rows)
    line = json.loads(run_cli("who", "--db", str(db), "--limit", "1", "--format", "jsonl").stdout.splitlines()[0])
    assert TIMESTAMP.fullmatch(line["published_at"])
    runs = list(csv.DictReader(io.StringIO(run_cli("status", "--db", str(db), "--section", "runs",
                                                    "--format", "csv").stdout)))  # fmt: skip
    assert TIMESTAMP.fullmatch(runs[0]["started_at"]) and TIMESTAMP.fullmatch(runs[0]["finished_at"])
    table = run_cli("speakers", "--db", str(db), "--limit", "1", env={"COLUMNS": "200"}).stdout
    assert TIMESTAMP.search(table)
    assert "+00:00" not in table + line["published_at"]


def test_status_csv_and_jsonl_need_no_section(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    result = run_cli("status", "--db", str(db), "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {row["section"] for row in rows} == {"runs", "feeds", "counts"}
    lines = [json.loads(line) for line in run_cli("status", "--db", str(db), "--format", "jsonl").stdout.splitlines()]
    assert {line["section"] for line in lines} == {"runs", "feeds", "counts"}
    feeds = list(csv.DictReader(io.StringIO(run_cli("status", "--db", str(db), "--section", "feeds",
                                                     "--format", "csv").stdout)))  # fmt: skip
    with duckdb.connect(str(db), read_only=True) as con:
        [(configured,)] = con.execute("SELECT count(*) FROM feeds").fetchall()
    assert "section" not in feeds[0] and len(feeds) == configured


def test_status_errors_lists_the_fetch_errors_of_a_run(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    [(run_id,)] = duckdb.connect(str(db), read_only=True).execute("SELECT min(run_id) FROM runs").fetchall()
    result = run_cli("status", "--db", str(db), "--errors", "--run", run_id, "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    errors = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(errors) == 2 and {e["run_id"] for e in errors} == {run_id}
    assert any("HTTP 404" in e["message"] for e in errors)
    table = run_cli("status", "--db", str(db), "--errors", "--run", run_id, env={"COLUMNS": "100"})
    assert f"2 errors in run {run_id}" in table.stdout
    unknown = run_cli("status", "--db", str(db), "--errors", "--run", "nope")
    assert unknown.returncode == 2 and "no run 'nope'" in unknown.stderr


# ------------------------------------------------------------- 6. digest, snapshot, extract


def test_an_empty_digest_week_names_the_weeks_that_have_statements(demo_db: tuple[Path, str], tmp_path: Path) -> None:
    db, _ = demo_db
    result = run_cli("digest", "--db", str(db), "--week", "2025-W10", "--out", str(tmp_path / "d"))
    assert result.returncode == 0, result.stderr
    assert "0 statements (0 quotes) by 0 speakers" in result.stdout
    stderr = " ".join(result.stderr.split())
    assert re.search(r"no statements in 2025-W10; the latest weeks with statements: 2026-W\d\d \(\d+ statements\)",
                     stderr)  # fmt: skip
    assert "pass --week 2026-W" in stderr


def test_digest_defaults_to_the_last_complete_iso_week(demo_db: tuple[Path, str], tmp_path: Path) -> None:
    from saidwhat.storage.digest import IsoWeek

    db, _ = demo_db
    week = str(IsoWeek.last_complete())
    result = run_cli("digest", "--db", str(db), "--out", str(tmp_path / "d"), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "d" / f"statements-{week}.csv").exists()
    # The demo's statements are from January 2026: the default week is empty (unless run then), and the hint
    # names the weeks that have some.
    with duckdb.connect(str(db), read_only=True) as con:
        [(in_week,)] = con.execute("SELECT count(*) FROM v_statements WHERE week = ?", [week]).fetchall()
    if not in_week:
        assert f"no statements in {week}; the latest weeks with statements: 2026-W" in " ".join(result.stderr.split())


def test_a_snapshot_folder_works_after_it_is_moved(demo_db: tuple[Path, str], tmp_path: Path) -> None:
    db, _ = demo_db
    assert run_cli("snapshot", "--db", str(db), "--out", str(tmp_path / "snap")).returncode == 0
    moved = tmp_path / "elsewhere" / "copy"
    shutil.move(tmp_path / "snap", moved)
    script = (moved / "snapshot.sql").read_text(encoding="utf-8")
    assert str(tmp_path) not in script
    query = f"{script}\nSELECT count(*) FROM said_about('moscow-meeting');"
    out = subprocess.run(
        [sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(); "
         "print(con.execute(sys.stdin.read()).fetchall())"],
        input=query, capture_output=True, text=True, cwd=moved, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert int(re.search(r"\d+", out.stdout).group()) > 0


def test_extract_reads_the_txt_and_html_files_of_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("“We will see,” Peskov said.\n", encoding="utf-8")
    (folder / "b.txt").write_text("“Not now,” Trump said.\n", encoding="utf-8")
    (folder / "notes.md").write_text("ignored", encoding="utf-8")
    result = run_cli("extract", str(folder), cwd=tmp_path, env=_no_config_env())
    assert result.returncode == 0, result.stderr
    docs = {Path(json.loads(line)["doc"]).name for line in result.stdout.splitlines()}
    assert docs == {"a.txt", "b.txt"}
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("extract", str(empty))
    assert result.returncode == 2 and "no .txt, .html or .htm files in this folder" in result.stderr


# ------------------------------------------------------------- 8. plurals


def test_counts_agree_in_number() -> None:
    from saidwhat.cli.output import plural

    assert plural(1, "statement") == "1 statement"
    assert plural(2, "error") == "2 errors"
    assert plural(0, "speaker") == "0 speakers"


def test_every_help_text_shows_its_config_sections() -> None:
    """`[storage] path` in an option's help must not vanish as rich markup in `--help`."""
    import click
    from typer.main import get_command
    from typer.testing import CliRunner

    from saidwhat.cli import app

    def commands(group: click.Command, path: tuple[str, ...] = ()):
        yield path, group
        for name, sub in getattr(group, "commands", {}).items():
            yield from commands(sub, (*path, name))

    checked = 0
    for path, command in commands(get_command(app)):
        sections = {s for p in command.params for s in re.findall(r"\[[a-z_]+\]", getattr(p, "help", None) or "")}
        if not sections:
            continue
        result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "250"}, terminal_width=250)
        shown = " ".join(result.output.replace("│", " ").split())
        for section in sections:
            assert section in shown, (path, section)
            checked += 1
    assert checked >= 4
