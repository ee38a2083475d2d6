"""Topics change and the extractor improves: stored articles are re-tagged and re-analysed, never re-fetched."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import duckdb
import pytest

from tests.analyst.conftest import ROOT, analyst_config

ONLY_DAVOS = """[topics.davos]
description = "Anything said at or about the Davos forum"
all_of = [["Davos", "World Economic Forum"]]
"""
# The shipped moscow-meeting topic, unchanged, plus davos.
_SHIPPED = (ROOT / "config.toml").read_text(encoding="utf-8")
DAVOS_AND_MOSCOW = "[topics." + _SHIPPED.partition("[topics.")[2].partition("[speakers.aliases]")[0] + ONLY_DAVOS


def _query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _articles(db: Path) -> list[tuple]:
    return _query(db, "SELECT article_id, url, fetched_at, text_hash, text, title FROM articles ORDER BY article_id")


@pytest.fixture()
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Refuse every connection except to this machine (the Prefect test server lives on loopback)."""
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def guarded(self, address):  # type: ignore[no-untyped-def]
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") and not host.startswith("/"):
            attempts.append(address)
            raise OSError(f"network access in a test: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    return attempts


def test_retag_applies_changed_topics_without_network(
    prefect_harness, demo_copy: Path, tmp_path: Path, cli, no_network
) -> None:
    before_articles = _articles(demo_copy)
    [(moscow_before, davos_before)] = _query(
        demo_copy,
        "SELECT count(*) FILTER (list_contains(topics, 'moscow-meeting')),"
        " count(*) FILTER (list_contains(topics, 'davos')) FROM statements",
    )
    assert moscow_before > 0 and davos_before == 0

    config = analyst_config(tmp_path, topics=DAVOS_AND_MOSCOW)
    result = json.loads(cli("retag", "--config", config, "--db", demo_copy, "--format", "jsonl").output)
    assert result["topics"] == ["moscow-meeting", "davos"] and result["changed"] > 0
    [(moscow_after, davos_after)] = _query(
        demo_copy,
        "SELECT count(*) FILTER (list_contains(topics, 'moscow-meeting')),"
        " count(*) FILTER (list_contains(topics, 'davos')) FROM statements",
    )
    assert moscow_after == moscow_before  # unchanged definition, unchanged tags
    assert davos_after > 0
    # The new topic is found through the context too: a quote tagged davos need not say "Davos".
    assert _query(demo_copy, "SELECT count(*) FROM said_about('davos') WHERE quote NOT ILIKE '%davos%'")[0][0] > 0

    config = analyst_config(tmp_path, topics=ONLY_DAVOS)
    cli("retag", "--config", config, "--db", demo_copy)
    assert _query(demo_copy, "SELECT count(*) FROM said_about('moscow-meeting')") == [(0,)]
    assert _query(demo_copy, "SELECT count(*) FROM said_about('davos')") == [(davos_after,)]

    assert _articles(demo_copy) == before_articles  # nothing fetched, nothing rewritten
    assert no_network == []


def test_reprocess_replaces_statements_and_keeps_articles(
    prefect_harness, demo_copy: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch, no_network
) -> None:
    from saidwhat import nlp

    config = analyst_config(tmp_path)
    before_articles = _articles(demo_copy)
    before_ids = {r[0] for r in _query(demo_copy, "SELECT statement_id FROM statements")}
    [(old_version,)] = _query(demo_copy, "SELECT DISTINCT extractor_version FROM statements")

    # Same version: nothing to do.
    quiet = json.loads(cli("reprocess", "--config", config, "--db", demo_copy, "--format", "jsonl").output)
    assert quiet["articles"] == 0 and quiet["extractor_version"] == old_version

    monkeypatch.setattr(nlp, "EXTRACTOR_VERSION", old_version + "-next")
    result = json.loads(cli("reprocess", "--config", config, "--db", demo_copy, "--format", "jsonl").output)
    assert result["articles"] == len(before_articles) and result["statements"] > 0
    assert result["extractor_version"] == old_version + "-next"
    assert _query(demo_copy, "SELECT DISTINCT extractor_version FROM statements") == [(old_version + "-next",)]
    assert _query(demo_copy, "SELECT DISTINCT extractor_version FROM articles") == [(old_version + "-next",)]
    after_ids = {r[0] for r in _query(demo_copy, "SELECT statement_id FROM statements")}
    assert after_ids and not (after_ids & before_ids)  # every statement was replaced
    assert len(after_ids) == result["statements"]
    assert _articles(demo_copy) == before_articles  # article rows kept as they were
    assert _query(demo_copy, "SELECT count(*) FROM said_about('moscow-meeting')")[0][0] > 0

    again = json.loads(cli("reprocess", "--config", config, "--db", demo_copy, "--format", "jsonl").output)
    assert again["articles"] == 0
    everything = json.loads(
        cli("reprocess", "--all", "--config", config, "--db", demo_copy, "--format", "jsonl").output
    )
    assert everything["articles"] == len(before_articles)
    assert {r[0] for r in _query(demo_copy, "SELECT statement_id FROM statements")} == after_ids
    assert no_network == []


def test_commands_run_without_a_prefect_server(demo_copy: Path, tmp_path: Path) -> None:
    """Without PREFECT_API_URL the commands call the flows' code directly (no temporary server)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"] = "false"  # a flow run would fail instead of starting a server
    config = analyst_config(tmp_path, topics=DAVOS_AND_MOSCOW)
    main = "from saidwhat.cli import main; main()"
    retag = subprocess.run(
        [sys.executable, "-c", main, "retag", "--config", str(config), "--db", str(demo_copy), "--format", "jsonl"],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
    )  # fmt: skip
    assert retag.returncode == 0, retag.stderr[-2000:]
    assert json.loads(retag.stdout)["topics"] == ["moscow-meeting", "davos"]
    out = tmp_path / "digest"
    digest = subprocess.run(
        [sys.executable, "-c", main, "digest", "--db", str(demo_copy), "--week", "2026-W04", "--topic", "davos",
         "--out", str(out), "--format", "csv"],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
    )  # fmt: skip
    assert digest.returncode == 0, digest.stderr[-2000:]
    assert (out / "statements-2026-W04.csv").read_bytes().startswith(b"week,published_at,speaker,")


HOLD = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("ready", flush=True)
sys.stdin.read()
"""


def test_retag_and_reprocess_on_a_held_database_refuse_before_writing(demo_copy: Path, tmp_path: Path) -> None:
    """Consistent with each other: one line naming the cause and the fix, nothing written, nothing spooled."""
    import os
    import subprocess
    import sys

    config = analyst_config(tmp_path, topics=DAVOS_AND_MOSCOW)  # retag would change topics
    config.write_text(
        config.read_text(encoding="utf-8").replace("lock_patience_seconds = 60", "lock_patience_seconds = 0.5"),
        encoding="utf-8",
    )
    content = "SELECT statement_id, topics, extractor_version FROM statements ORDER BY statement_id"
    aliases = "SELECT * FROM speaker_aliases ORDER BY alias"
    before = (_query(demo_copy, content), _query(demo_copy, aliases))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    main = "from saidwhat.cli import main; main()"
    reader = subprocess.Popen([sys.executable, "-c", HOLD, str(demo_copy)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert reader.stdout.readline().strip() == "ready"
        for command in ("retag", "reprocess"):
            result = subprocess.run(
                [sys.executable, "-c", main, command, "--all", "--config", str(config), "--db", str(demo_copy)]
                if command == "reprocess"
                else [sys.executable, "-c", main, command, "--config", str(config), "--db", str(demo_copy)],
                capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
            )  # fmt: skip
            assert result.returncode != 0
            # At most the line that says it is waiting (as every command does), then the one-line refusal.
            *waiting, refusal = result.stderr.strip().splitlines()
            assert len(waiting) <= 1 and all(w.startswith("waiting for the database") for w in waiting), result.stderr
            assert refusal.startswith(f"error: {command} wrote nothing: database {demo_copy} is locked")
            assert "snapshot" in refusal  # the fix
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
    assert (_query(demo_copy, content), _query(demo_copy, aliases)) == before
    assert not (tmp_path / "spool").exists() or not list((tmp_path / "spool").glob("*.jsonl"))
