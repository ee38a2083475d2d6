"""`saidwhat run` as a process: killed with SIGKILL mid-way it converges to an uninterrupted run;
when nothing can be done it says why in one line and exits non-zero."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from saidwhat.demo.server import Route
from saidwhat.storage import Store

from .conftest import query
from .publishers import ARTICLES, FaultySite, Item, article_html, feed_route, slow, write_config

ROOT = Path(__file__).resolve().parents[2]


def saidwhat(*args: str, cwd: Path | None = None, api_url: str | None = None) -> subprocess.Popen:
    """The real entry point in a child process: against ``api_url`` (the test session's Prefect
    server, which saves each child starting its own), else Prefect's ephemeral API."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    env.update(PREFECT_LOGGING_LEVEL="WARNING", PREFECT_SERVER_ANALYTICS_ENABLED="false", COLUMNS="200")
    if api_url:
        env["PREFECT_API_URL"] = api_url
    command = [sys.executable, "-c", "from saidwhat.cli import main; main()", *args]
    return subprocess.Popen(command, cwd=cwd or ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


def finish(process: subprocess.Popen, timeout: float = 180) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=timeout)
    return process.returncode, stderr


def crash_site(site: FaultySite, pages: int = 10) -> str:
    """A feed of ``pages`` distinct articles, each page a little slow, so a run can be caught mid-way."""
    slugs = list(ARTICLES)
    items = []
    for i in range(pages):
        slug = slugs[i % len(slugs)]
        html = article_html(slug).replace(b"</article>", f"<p>Follow-up report number {i}.</p></article>".encode())
        site.routes[f"/news/{i}"] = slow(Route(html), 0.15)
        items.append(Item(f"story-{i}", site.url(f"/news/{i}"), title=f"{ARTICLES[slug][0]} ({i})"))
    site.routes["/crash.xml"] = feed_route(items)
    return site.url("/crash.xml")


def snapshot(db: Path) -> dict[str, set]:
    """Everything a rerun must reproduce: identities, not timestamps or run ids."""
    return {
        "articles": set(query(db, "SELECT article_id, url, text_source, text_hash, extractor_version FROM articles")),
        "sources": set(query(db, "SELECT feed_url, guid, article_id FROM article_sources")),
        "statements": set(query(db, "SELECT statement_id, article_id, quote, speaker FROM statements")),
        "mentions": set(query(db, "SELECT article_id, start_char, end_char, label FROM mentions")),
    }


def wait_for(condition, timeout: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, "the run ended before it could be killed: " + (process.stderr.read() or "")
        assert time.monotonic() < deadline, "the run never reached the kill point"
        time.sleep(0.02)


def articles_stored(db: Path) -> bool:
    if not db.exists():
        return False
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute("SELECT count(*) FROM articles").fetchone()[0] > 0
    except duckdb.Error:  # the writer holds the file for a moment: look again
        return False


def test_sigkill_at_any_point_then_rerun_equals_an_uninterrupted_run(cli, site, tmp_path):
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    feed_url = crash_site(site)
    # The uninterrupted reference run, in this process.
    (tmp_path / "reference").mkdir()
    reference = write_config(tmp_path / "reference")
    assert cli.run(reference, "--feed", feed_url).exit_code == 0
    expected = snapshot(tmp_path / "reference" / "ops.duckdb")
    assert len(expected["articles"]) == 10 and expected["statements"]

    crashed = tmp_path / "crashed"
    crashed.mkdir()
    config = write_config(crashed, per_host_concurrency=1)
    db = crashed / "ops.duckdb"

    # 1. Killed while fetching pages: nothing of the batch is stored yet.
    site.log.clear()
    run = saidwhat("run", "--config", str(config), "--feed", feed_url, api_url=api)
    wait_for(lambda: len(site.requests_to("/news/3")) > 0, 120, run)
    run.send_signal(signal.SIGKILL)
    run.wait()
    # 2. Killed after the articles were stored, before (or while) they were analysed.
    run = saidwhat("run", "--config", str(config), "--feed", feed_url, api_url=api)
    wait_for(lambda: articles_stored(db), 120, run)
    run.send_signal(signal.SIGKILL)
    run.wait()
    unanalysed = query(db, "SELECT count(*) FROM articles WHERE extractor_version IS NULL")[0][0]
    # 3. The rerun resumes and converges.
    code, stderr = finish(saidwhat("run", "--config", str(config), "--feed", feed_url, api_url=api))

    assert code == 0, stderr
    assert snapshot(db) == expected
    statuses = [s for (s,) in query(db, "SELECT status FROM runs ORDER BY started_at")]
    assert statuses == ["interrupted", "interrupted", "completed"]
    print(f"articles not yet analysed when the second run was killed: {unanalysed} of 10")


def test_invalid_config_exits_non_zero_with_one_line(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[fetch]\nread_timeout = 'soon'\n", encoding="utf-8")
    code, stderr = finish(saidwhat("run", "--config", str(config)), timeout=60)
    assert code != 0
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "read_timeout must be a number" in lines[0], stderr


def test_a_second_run_waits_for_the_lock_then_says_why_in_one_line(prefect_harness, tmp_path):
    from prefect.settings import PREFECT_API_URL

    with FaultySite({"/f.xml": feed_route([Item("x", None, title="t", summary="s")])}).start() as site:
        config = write_config(tmp_path, [("f", site.url("/f.xml"))])
        store = Store(tmp_path / "ops.duckdb")
        text = config.read_text(encoding="utf-8").replace("lock_patience_seconds = 5", "lock_patience_seconds = 1")
        config.write_text(text, encoding="utf-8")
        with store.exclusive_run():  # another ingest holds the database
            started = time.monotonic()
            code, stderr = finish(
                saidwhat("run", "--config", str(config), api_url=PREFECT_API_URL.value()), timeout=120
            )
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code != 0 and len(lines) == 2, stderr
    assert lines[0].startswith("waiting for the database (held by another ingest run) — up to 1 s")  # at once
    assert "another ingest is writing to" in lines[1] and f"pid {os.getpid()}" in lines[1]
    assert time.monotonic() - started < 60
    assert site.log.entries == []  # nothing was fetched while waiting


@pytest.mark.parametrize("patience", [0.5])
def test_run_lock_is_released_by_a_killed_holder(tmp_path, patience):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from storage import Store; s = Store(sys.argv[1]);\n"
         "with s.exclusive_run():\n    print('locked', flush=True); time.sleep(60)",
         str(tmp_path / "x.duckdb")],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "locked"
    store = Store(tmp_path / "x.duckdb")
    from saidwhat.storage import DatabaseLocked

    with pytest.raises(DatabaseLocked), store.exclusive_run(patience):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with store.exclusive_run(patience):
        pass
