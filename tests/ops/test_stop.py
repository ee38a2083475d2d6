"""Stopping a run leaves nothing behind (issue 19).

`saidwhat run` without a Prefect API starts Prefect's temporary API server, and
with ``[nlp] n_process = 2`` a pool of NLP worker processes. Stopped with
SIGTERM it exits 143 within 10 s with every one of those processes gone and
the run recorded as cancelled; killed with SIGKILL, its children exit by
themselves within 30 s; the next run converges to the database of a run that
was never interrupted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import psutil

from saidwhat.demo.server import Route
from saidwhat.nlp.pool import shutdown_pool

from .conftest import query
from .publishers import ARTICLES, FaultySite, Item, article_html, feed_route, slow, write_config
from .test_crash_and_cli import ROOT, snapshot

FIRST_BATCH = 50  # flows.ingest.FETCH_BATCH: the NLP of the first batch runs while the second is fetched
SECOND_BATCH = 10


def slow_site(site: FaultySite) -> str:
    """A feed of 60 articles: the first 50 pages quick, the last 10 slow, so a run is caught while
    its NLP workers analyse the first batch and its fetcher waits on the second."""
    slugs = list(ARTICLES)
    items = []
    for i in range(FIRST_BATCH + SECOND_BATCH):
        slug = slugs[i % len(slugs)]
        html = article_html(slug).replace(b"</article>", f"<p>Stop report number {i}.</p></article>".encode())
        site.routes[f"/news/{i}"] = slow(Route(html), 0.01 if i < FIRST_BATCH else 1.5)
        items.append(Item(f"stop-{i}", site.url(f"/news/{i}"), title=f"{ARTICLES[slug][0]} ({i})"))
    site.routes["/stop.xml"] = feed_route(items)
    return site.url("/stop.xml")


def stop_config(folder: Path, workers: int) -> Path:
    folder.mkdir()
    config = write_config(folder, per_host_concurrency=1, read_timeout=5.0)
    with config.open("a", encoding="utf-8") as handle:
        handle.write(f"n_process = {workers}\n")  # the last table of write_config is [nlp]
    return config


def start_run(config: Path, feed_url: str, stderr: Path) -> subprocess.Popen:
    """`saidwhat run` as an operator starts it: no Prefect API configured, so Prefect's temporary server.

    Its output goes to a file: the run's children inherit it, and a pipe
    would keep a test waiting for as long as a leftover child lives.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    env.update(PREFECT_LOGGING_LEVEL="WARNING", PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180")  # fmt: skip
    command = [sys.executable, "-m", "saidwhat", "run", "--config", str(config), "--feed", feed_url]
    with stderr.open("w", encoding="utf-8") as log:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)


def is_server(process: psutil.Process) -> bool:
    return "uvicorn" in process.cmdline() and "prefect.server.api.server:create_app" in process.cmdline()


def is_pool_worker(process: psutil.Process) -> bool:
    return any("multiprocessing.spawn" in part for part in process.cmdline())


def tree_when_busy(run: subprocess.Popen, stderr: Path, timeout: float = 300) -> list[psutil.Process]:
    """The run's descendants once its temporary server and both NLP workers are up."""
    deadline = time.monotonic() + timeout
    while True:
        assert run.poll() is None, "the run ended before it could be stopped:\n" + stderr.read_text()
        assert time.monotonic() < deadline, "the run never started its server and workers:\n" + stderr.read_text()
        try:
            tree = psutil.Process(run.pid).children(recursive=True)
            if sum(map(is_server, tree)) == 1 and sum(map(is_pool_worker, tree)) >= 2:
                return tree
        except psutil.Error:  # a process ended while being listed: look again
            pass
        time.sleep(0.1)


def alive(processes: list[psutil.Process]) -> list[str]:
    found = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                found.append(f"{process.pid} {' '.join(process.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            pass
    return found


def gone_within(processes: list[psutil.Process], seconds: float, started: float) -> list[str]:
    """The processes still alive ``seconds`` after ``started`` (empty as soon as all are gone)."""
    while (left := alive(processes)) and time.monotonic() < started + seconds:
        time.sleep(0.1)
    return left


def end(processes: list[psutil.Process]) -> None:
    """Whatever a failing test leaves behind must not load the shared machine."""
    for process in processes:
        with suppress(psutil.Error):
            process.kill()


def test_stopped_and_killed_runs_leave_nothing_behind_and_the_next_run_converges(cli, tmp_path):
    with FaultySite({"/robots.txt": Route(b"User-agent: *\n", "text/plain")}).start() as site:
        feed_url = slow_site(site)
        # The uninterrupted reference, in this process (against the test session's Prefect server).
        reference = stop_config(tmp_path / "reference", workers=1)
        assert cli.run(reference, "--feed", feed_url).exit_code == 0
        expected = snapshot(tmp_path / "reference" / "ops.duckdb")
        assert len(expected["articles"]) == FIRST_BATCH + SECOND_BATCH and expected["statements"]

        config = stop_config(tmp_path / "stopped", workers=2)
        db = tmp_path / "stopped" / "ops.duckdb"

        # 1. SIGTERM: exit 143 within 10 s, every process of the run's tree gone, the run cancelled.
        log = tmp_path / "sigterm.log"
        run = start_run(config, feed_url, log)
        tree = tree_when_busy(run, log)
        try:
            run.send_signal(signal.SIGTERM)
            stopped_at = time.monotonic()
            code = run.wait(timeout=30)
            took = time.monotonic() - stopped_at
            left = gone_within(tree, 10, stopped_at)
        finally:
            end(tree)
        assert code == 143, log.read_text()
        assert took < 10, f"the run took {took:.1f}s to stop"
        assert left == [], f"still alive 10 s after SIGTERM: {left}"
        assert query(db, "SELECT status, message FROM runs") == [("cancelled", "stopped by SIGTERM")]
        assert log.read_text().rstrip().endswith("stopped by SIGTERM")

        # 2. SIGKILL: the run cannot clean up; its children notice and exit within 30 s.
        log = tmp_path / "sigkill.log"
        run = start_run(config, feed_url, log)
        tree = tree_when_busy(run, log)
        try:
            run.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            run.wait(timeout=30)
            left = gone_within(tree, 30, killed_at)
        finally:
            end(tree)
        assert left == [], f"still alive 30 s after SIGKILL: {left}"
        print(f"SIGTERM: stopped in {took:.1f}s; SIGKILL: children gone in {time.monotonic() - killed_at:.1f}s")

        # 3. The next run resumes and converges to the uninterrupted run.
        try:
            assert cli.run(config, "--feed", feed_url).exit_code == 0
        finally:
            shutdown_pool()  # this process's own NLP workers, started by that run

    assert snapshot(db) == expected
    statuses = [status for (status,) in query(db, "SELECT status FROM runs ORDER BY started_at")]
    assert statuses == ["cancelled", "interrupted", "completed"]


def quick_site(site: FaultySite, pages: int) -> str:
    slugs = list(ARTICLES)
    items = []
    for i in range(pages):
        slug = slugs[i % len(slugs)]
        html = article_html(slug).replace(b"</article>", f"<p>Reprocess report number {i}.</p></article>".encode())
        site.routes[f"/news/{i}"] = Route(html)
        items.append(Item(f"re-{i}", site.url(f"/news/{i}"), title=f"{ARTICLES[slug][0]} ({i})"))
    site.routes["/re.xml"] = feed_route(items)
    return site.url("/re.xml")


def test_a_stopped_reprocess_exits_130_with_its_workers_gone_and_a_rerun_completes(cli, tmp_path):
    with FaultySite({"/robots.txt": Route(b"User-agent: *\n", "text/plain")}).start() as site:
        config = stop_config(tmp_path / "re", workers=2)
        text = config.read_text(encoding="utf-8").replace("n_process = 2", "n_process = 1")
        config.write_text(text, encoding="utf-8")
        assert cli.run(config, "--feed", quick_site(site, 200)).exit_code == 0
    db = tmp_path / "re" / "ops.duckdb"
    before = snapshot(db)
    config.write_text(text.replace("n_process = 1", "n_process = 2"), encoding="utf-8")

    log = tmp_path / "reprocess.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    command = [sys.executable, "-m", "saidwhat", "reprocess", "--all", "--config", str(config)]
    with log.open("w", encoding="utf-8") as output:
        run = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output)
    deadline = time.monotonic() + 300
    tree: list[psutil.Process] = []
    while sum(map(is_pool_worker, tree)) < 2:
        assert run.poll() is None, "reprocess ended before it could be stopped:\n" + log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        with suppress(psutil.Error):
            tree = psutil.Process(run.pid).children(recursive=True)
        time.sleep(0.1)
    time.sleep(1.0)  # the workers are analysing now
    try:
        run.send_signal(signal.SIGINT)
        stopped_at = time.monotonic()
        code = run.wait(timeout=30)
        took = time.monotonic() - stopped_at
        left = gone_within(tree, 10, stopped_at)
    finally:
        end(tree)
    assert code == 130, log.read_text()
    assert took < 10 and left == [], (took, left)
    assert "stopped by SIGINT" in log.read_text()

    rerun = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert snapshot(db) == before
