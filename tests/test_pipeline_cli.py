"""The whole pipeline through the CLI: local HTTP server, real flow, real DuckDB file."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from saidwhat.demo.server import LocalSite, Route
from tests.conftest import DEMO_TEST_PORT, run_cli, shared_path
from tests.demo_gold import score_demo_db


def _query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


# ------------------------------------------------------------------ demo


def test_demo_prints_putin_and_trump_on_the_moscow_meeting(demo_db: tuple[Path, str]) -> None:
    _, stdout = demo_db
    assert "Who said what about a Trump–Putin meeting in Moscow" in stdout
    assert "Vladimir Putin" in stdout
    assert "Donald Trump" in stdout


def test_demo_stores_the_corpus(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    [(articles, statements, feeds)] = _query(
        db, "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM statements), (SELECT count(*) FROM feeds)"
    )
    assert articles >= 25 and statements >= 60 and feeds == 4
    [(putin, trump)] = _query(
        db,
        "SELECT count(*) FILTER (speaker = 'Vladimir Putin'), count(*) FILTER (speaker = 'Donald Trump')"
        " FROM v_statements WHERE list_contains(topics, 'moscow-meeting')",
    )
    assert putin >= 5 and trump >= 5


def test_the_same_story_through_two_feeds_is_stored_once(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    rows = _query(
        db,
        "SELECT a.article_id, count(s.guid) FROM articles a JOIN article_sources s USING (article_id)"
        " WHERE a.url LIKE '%witkoff-heads-to-moscow%' GROUP BY a.article_id",
    )
    assert len(rows) == 1 and rows[0][1] == 2


def test_unfetchable_pages_fall_back_to_the_feed_summary(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    rows = dict(_query(db, "SELECT guid, fallback_reason FROM articles WHERE text_source = 'feed_summary'"))
    assert "HTTP 404" in rows["ledger-2026-01-22-dmitriev-business-delegation"]
    paywalled = rows["tag:meridianpost.example,2026-01-18:inside-the-kremlins-summit-planning"]
    assert "fewer than" in paywalled
    [(errors,)] = _query(db, "SELECT count(*) FROM fetch_errors")
    assert errors == 2


def test_demo_attributions_match_the_hand_made_gold(demo_db: tuple[Path, str]) -> None:
    score = score_demo_db(demo_db[0])
    assert score.recall >= 0.90, score.misses[:10]
    assert score.speaker_accuracy >= 0.85, [m for m in score.misses if m["why"] != "missed"][:10]


def test_moscow_meeting_precision_and_recall_on_the_demo_gold(demo_db: tuple[Path, str], tmp_path: Path) -> None:
    """Issue 14's target, measured as an analyst would: gold -> labels CSV -> label --from -> topics report."""
    db = tmp_path / "labelled.duckdb"
    db.write_bytes(demo_db[0].read_bytes())
    labels = tmp_path / "gold-labels.csv"
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "saidwhat.demo.gold_labels", "--out", str(labels)], check=True, timeout=60)
    imported = run_cli("label", "--from", str(labels), "--db", str(db), "--format", "jsonl")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["labels"] >= 290
    report = run_cli("topics", "report", "--topic", "moscow-meeting", "--db", str(db), "--format", "jsonl")
    assert report.returncode == 0, report.stderr
    score = json.loads(report.stdout.splitlines()[0])
    assert float(score["precision"]) >= 0.90 and float(score["recall"]) >= 0.90, score
    assert score["stale"] == 0  # the demo's ingest stored the same tags the report computes


def test_running_the_demo_again_adds_nothing(demo_db: tuple[Path, str], tmp_path: Path) -> None:
    db, _ = demo_db
    copy = tmp_path / "again.duckdb"
    copy.write_bytes(db.read_bytes())
    before = _query(copy, "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM statements)")
    result = run_cli("demo", "--db", str(copy), "--port", str(DEMO_TEST_PORT))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "0 new articles, 0 new statements" in " ".join(result.stderr.split())
    assert _query(copy, "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM statements)") == before


# ------------------------------------------------------------------- who


def test_who_jsonl_carries_the_documented_fields(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    result = run_cli("who", "--db", str(db), "--about", "moscow-meeting", "--speaker", "Putin", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows
    assert set(rows[0]) >= {"speaker", "quote", "kind", "cue", "published_at", "publisher", "title", "url", "topics"}
    assert {row["speaker"] for row in rows} == {"Vladimir Putin"}
    assert all("moscow-meeting" in row["topics"] for row in rows)


def test_who_filters_by_date_publisher_kind_and_limit(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    result = run_cli(
        "who", "--db", str(db), "--since", "2026-01-10", "--until", "2026-01-15", "--kind", "direct",
        "--limit", "5", "--format", "csv",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("published_at,speaker,quote,kind")
    assert 1 <= len(lines) - 1 <= 5
    import csv
    import io

    for row in csv.DictReader(io.StringIO(result.stdout)):
        assert "2026-01-10" <= row["published_at"][:10] < "2026-01-15"
        assert row["kind"] == "direct"


def test_who_with_a_bad_date_is_one_clear_line(demo_db: tuple[Path, str]) -> None:
    result = run_cli("who", "--db", str(demo_db[0]), "--since", "last week")
    assert result.returncode == 2
    assert "use YYYY-MM-DD" in result.stderr and "Traceback" not in result.stderr


def test_who_on_a_missing_database_says_what_to_do(tmp_path: Path) -> None:
    result = run_cli("who", "--db", str(tmp_path / "none.duckdb"))
    assert result.returncode == 2
    assert "run `saidwhat run` or `saidwhat demo` first" in result.stderr


# -------------------------------------------------------- run against feeds


@pytest.fixture()
def guardian_site() -> Iterator[LocalSite]:
    """The real Guardian feed, its links pointing at real article pages on 127.0.0.1."""
    feed = shared_path("corpus", "rss-parser-feeds", "input", "guardian.rss").read_bytes()
    pages = sorted(shared_path("corpus", "scrapinghub-article-extraction-benchmark", "html").glob("*.html.gz"))
    feed = feed.replace(b"https://www.theguardian.com", b"{{BASE_URL}}")
    routes: dict = {"/us.rss": Route(feed, "application/rss+xml")}
    for i, path in enumerate(re.findall(rb"<link>\{\{BASE_URL\}\}(/[^<]+)</link>", feed)):
        with gzip.open(pages[i % len(pages)]) as page:
            routes[path.decode()] = Route(page.read())
    with LocalSite(routes) as site:
        yield site


def test_run_against_a_real_feed_then_again_adds_nothing(
    guardian_site: LocalSite, project_config: Path, tmp_path: Path
) -> None:
    db = tmp_path / "guardian.duckdb"
    feed_url = guardian_site.url("/us.rss")
    first = run_cli("run", "--config", str(project_config), "--db", str(db), "--feed", feed_url)
    assert first.returncode == 0, first.stderr[-3000:]
    [(articles, statements)] = _query(db, "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM statements)")
    assert articles == 55 and statements > 100
    assert _query(db, "SELECT DISTINCT publisher FROM articles") == [
        ("127.0.0.1:" + feed_url.split(":")[2].split("/")[0],)
    ]
    second = run_cli("run", "--config", str(project_config), "--db", str(db), "--feed", feed_url)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "0 new articles, 0 new statements" in " ".join(second.stderr.split())
    assert _query(db, "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM statements)") == [
        (articles, statements)
    ]


def test_run_exits_non_zero_when_no_feed_answers(project_config: Path, tmp_path: Path) -> None:
    with LocalSite({}) as site:
        dead = site.url("/gone.rss")
    result = run_cli("run", "--config", str(project_config), "--db", str(tmp_path / "x.duckdb"), "--feed", dead)
    assert result.returncode == 1
    assert "nothing could be processed" in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------ extract


def test_extract_finds_putin_and_trump_in_the_starting_article() -> None:
    path = shared_path("corpus", "000_ad2205bc339bf577.txt")
    result = run_cli("extract", str(path))
    assert result.returncode == 0, result.stderr
    text = path.read_text(encoding="utf-8")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    for row in rows:
        # The speaker's words: the slice, or the pieces of a split quote joined with " … ".
        pieces = row.get("quote_spans") or [[row["quote_start"], row["quote_end"]]]
        assert " … ".join(text[s:e] for s, e in pieces) == row["quote"]
        assert row["doc"] == str(path)
    putin = [r for r in rows if "Next time in Moscow." in r["quote"]]
    trump = [r for r in rows if "I think he's ready to make a deal," in r["quote"]]
    assert putin and putin[0]["speaker"] == "Vladimir Putin"
    assert trump and trump[0]["speaker"] == "Donald Trump"


def test_extract_reads_html_through_trafilatura(tmp_path: Path) -> None:
    from saidwhat.demo.server import corpus_root

    page = corpus_root() / "articles" / "putin-says-invitation-stands.html"
    result = run_cli("extract", str(page), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    speakers = {json.loads(line)["speaker"] for line in result.stdout.splitlines()}
    assert "Vladimir Putin" in speakers


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.txt", None, "no such file"),
        ("notes.pdf", b"%PDF-1.4", "unsupported file type .pdf"),
        ("latin1.txt", "caf\xe9".encode("latin-1"), "not UTF-8 text"),
    ],
)
def test_extract_rejects_bad_files_in_one_line(tmp_path: Path, name: str, content: bytes | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = run_cli("extract", str(path))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_missing_model_says_how_to_install_it(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[nlp]\nmodel = "en_core_web_xx_missing"\n', encoding="utf-8")
    text = tmp_path / "a.txt"
    text.write_text('"We will see," Peskov said.', encoding="utf-8")
    result = run_cli("extract", str(text), "--config", str(config))
    assert result.returncode == 2
    assert "spaCy model 'en_core_web_xx_missing' is not installed" in result.stderr
    assert "Traceback" not in result.stderr
