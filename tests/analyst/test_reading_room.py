"""`saidwhat web` on the demo database, driven by a real headless Chromium (Debian's `chromium`, via Playwright).

Skips, saying why, only when Playwright or a Chromium binary is missing (`.ci/run` installs both).
With SAIDWHAT_WRITE_DOCS=1 the run also writes docs/reading-room.png, the README's screenshot.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from saidwhat.storage import Store
from saidwhat.storage.digest import STATEMENT_COLUMNS
from tests.analyst.records import analysed, article, statement

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _chromium() -> str:
    for candidate in (os.environ.get("SAIDWHAT_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        found = candidate and shutil.which(candidate)
        if found:
            return found
    pytest.skip("no Chromium found (install Debian's chromium: `apt-get install -y chromium`, as .ci/run does)")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
    )
    executable = _chromium()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def room_db(analyst_demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo database plus one article whose quote is hostile HTML, written by the real save path."""
    db = tmp_path_factory.mktemp("room") / "demo.duckdb"
    shutil.copyfile(analyst_demo_db, db)
    text = f'Mallory Quinn, a hacker, said: "{HOSTILE}"\nNothing else happened.'
    hostile = article("hostile", text, "A <b>bold</b> headline", datetime(2026, 1, 20, 12, tzinfo=UTC), "Wire <i>X</i>")
    store = Store(db)
    store.add_articles([hostile])
    store.save_analyses(
        [analysed(hostile, [statement(text, f'"{HOSTILE}"', "Mallory Quinn")], {}, ("Mallory Quinn",))], "1"
    )
    return db


@pytest.fixture(scope="module")
def room(room_db: Path) -> Iterator[str]:
    """`saidwhat web` on a free port; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "saidwhat", "web", "--db", str(room_db), "--port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        line = process.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert match, f"no URL in {line!r}"
        yield match.group(0)
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_filter_open_download_and_escape(browser, room: str, room_db: Path, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    # Filter by speaker.
    page.goto(room)
    page.fill("input[name=speaker]", "Peskov")
    page.click("#apply")
    page.wait_for_url(re.compile(r"speaker=Peskov"))
    speakers = page.locator("#results td.speaker").all_inner_texts()
    assert speakers and set(speakers) == {"Dmitry Peskov"}
    if os.environ.get("SAIDWHAT_WRITE_DOCS") == "1":
        page.screenshot(path=str(ROOT / "docs" / "reading-room.png"))

    # Download the current filter as CSV, in the digest's format, and read it back.
    with page.expect_download() as download:
        page.click("#download")
    saved = tmp_path / "statements.csv"
    download.value.save_as(saved)
    with saved.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == STATEMENT_COLUMNS
    assert len(rows) == len(speakers) and {r["speaker"] for r in rows} == {"Dmitry Peskov"}

    # Open a statement: the article with the quote and the speaker mention highlighted.
    page.click("#results a:has-text('We are not talking about dates yet. We are talking')")
    page.wait_for_url(re.compile(r"/statement/"))
    assert page.inner_text("#title") == "Putin says Moscow invitation to Trump ‘still stands’"
    marked = page.locator("#article mark.quote").all_inner_texts()
    assert any("We are not talking about dates yet" in m for m in marked)
    assert "Peskov" in page.locator("#article mark.speaker").all_inner_texts()
    assert page.locator("#cluster tbody tr").count() == 4  # the copies in other articles

    # Switch to quote clusters: the echoes are one row.
    page.goto(room + "?speaker=Peskov&view=clusters")
    clusters = page.locator("#results tbody tr").count()
    assert 0 < clusters < len(speakers)

    # A hostile quote, headline and publisher are shown as text, never run.
    page.goto(room + "?speaker=Mallory")
    assert HOSTILE in page.inner_text("#results td.quote")
    page.click("#results td.quote a")
    page.wait_for_url(re.compile(r"/statement/"))
    assert page.inner_text("#title") == "A <b>bold</b> headline"
    assert HOSTILE in page.inner_text("#article mark.quote")
    assert page.evaluate("window.__pwned") is None and not dialogs

    # A malformed date is a message, not a crash.
    page.goto(room + "?from=yesterday")
    assert "is not a date" in page.inner_text("#error")
    page.close()

    # Each request closed its read-only connection: a writer can open the file while the server runs.
    with duckdb.connect(str(room_db)) as con:
        assert con.execute("SELECT count(*) FROM statements").fetchone()[0] > 0


def test_binds_to_localhost_and_reports_a_busy_port(room: str, room_db: Path) -> None:
    port = int(room.rsplit(":", 1)[1].strip("/"))
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "saidwhat", "web", "--db", str(room_db), "--port", str(port)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 2 and time.monotonic() - start < 60
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr
