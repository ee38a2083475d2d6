"""The ingest flow on a local two-worker Dask cluster stores exactly what the default runner stores."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

pytest.importorskip("prefect_dask")

from saidwhat.demo.server import LocalSite, corpus_routes

ROOT = Path(__file__).resolve().parents[2]
FEEDS = ("/feeds/ledger.xml", "/feeds/meridian.xml", "/feeds/northgate.xml")


def _config(tmp_path: Path, kind: str) -> Path:
    """The shipped config with its own database, no per-host delay and the given runner."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('path = "data/saidwhat.duckdb"', f'path = "{tmp_path / kind / "saidwhat.duckdb"}"')
    text = text.replace('spool_dir = "data/spool"', f'spool_dir = "{tmp_path / kind / "spool"}"')
    text = text.replace("per_host_delay_seconds = 1.0", "per_host_delay_seconds = 0.0")
    text = text.replace('kind = "threads"', f'kind = "{kind}"')
    (tmp_path / kind).mkdir()
    path = tmp_path / kind / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _rows(db: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            "articles": con.execute(
                "SELECT article_id, text_hash, text_source, extractor_version IS NOT NULL FROM articles ORDER BY 1"
            ).fetchall(),
            "statements": con.execute(
                "SELECT article_id, quote_start, quote_end, kind, quote, speaker, topics FROM statements"
                " ORDER BY 1, 2, 3"
            ).fetchall(),
            "mentions": con.execute("SELECT * FROM mentions ORDER BY ALL").fetchall(),
        }


def test_dask_runner_stores_the_same_rows_as_the_default_runner(tmp_path: Path, prefect_harness: None) -> None:
    from saidwhat.flows.ingest import ingest

    results = {}
    with LocalSite(corpus_routes()) as site:
        for kind in ("threads", "dask"):
            config = _config(tmp_path, kind)
            ingest(config_path=str(config), feed_urls=[site.url(path) for path in FEEDS])
            results[kind] = _rows(tmp_path / kind / "saidwhat.duckdb")
    threads, dask = results["threads"], results["dask"]
    assert len(threads["articles"]) >= 20
    assert all(analysed for *_, analysed in threads["articles"])
    assert len(threads["statements"]) > 100
    assert dask["articles"] == threads["articles"]
    assert dask["statements"] == threads["statements"]
    assert dask["mentions"] == threads["mentions"]


def test_runner_settings_build_a_dask_task_runner() -> None:
    from prefect_dask import DaskTaskRunner

    from saidwhat.config import RunnerSettings
    from saidwhat.flows.runners import dask_runner

    remote = dask_runner(RunnerSettings(kind="dask", address="tcp://10.0.0.1:8786"))
    assert isinstance(remote, DaskTaskRunner) and remote.address == "tcp://10.0.0.1:8786"
    local = dask_runner(RunnerSettings(kind="dask", workers=3))
    assert local.cluster_kwargs["n_workers"] == 3 and local.cluster_kwargs["threads_per_worker"] == 1
