"""Fixtures of the ops suite: fast retries, an isolated network, a CLI runner against LocalSite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from saidwhat.demo.server import Route
from saidwhat.fetch.retry import RetryPolicy

from .publishers import FaultySite

FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.05, max_delay=0.2, max_retry_after=2.0)


@pytest.fixture()
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The production backoff (seconds) shrunk to milliseconds; the same attempts and conditions."""
    from saidwhat.fetch import retry as retry_module
    from saidwhat.flows.tasks import poll_feed

    monkeypatch.setattr(retry_module, "DEFAULT_POLICY", FAST_RETRY)
    monkeypatch.setattr(retry_module, "policy_for", lambda settings: FAST_RETRY)
    monkeypatch.setattr(poll_feed, "retry_delay_seconds", [0.05])


@pytest.fixture()
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Links in real feeds point at the internet: make them fail at once, the same way everywhere."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # the discard port: connection refused
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture()
def site() -> Iterator[FaultySite]:
    with FaultySite({"/robots.txt": Route(b"User-agent: *\nDisallow: /private/\n", "text/plain")}).start() as s:
        yield s


class Cli:
    """`saidwhat ...` in this process (Prefect runs against the session's test harness)."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def run(self, config: Path, *args: str) -> Any:
        from saidwhat.cli import app

        return self.runner.invoke(app, ["run", "--config", str(config), *args], catch_exceptions=True)


@pytest.fixture()
def cli(prefect_harness: None, fast_retries: None) -> Cli:
    return Cli()


def query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def counts(db: Path) -> dict[str, int]:
    tables = ("articles", "article_sources", "statements", "mentions", "fetch_errors")
    return {t: query(db, f"SELECT count(*) FROM {t}")[0][0] for t in tables}
