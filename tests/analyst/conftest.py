"""Fixtures for the analysts' side: the demo database (built once), copies of it, a CLI runner."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def analyst_demo_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database built by `saidwhat demo` (the real ingest flow over the sample corpus), read-only by convention."""
    try:
        db, _ = request.getfixturevalue("demo_db")  # shared with the pipeline tests when they run too
        return Path(db)
    except pytest.FixtureLookupError:
        pass
    db = tmp_path_factory.mktemp("analyst-demo") / "demo.duckdb"
    result = subprocess.run(
        [sys.executable, "-c", "from saidwhat.cli import main; main()", "demo", "--db", str(db)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        env={**__import__("os").environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return db


@pytest.fixture()
def demo_copy(analyst_demo_db: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database that a test may change."""
    target = tmp_path / "demo.duckdb"
    shutil.copyfile(analyst_demo_db, target)
    return target


@pytest.fixture()
def cli():
    """Invoke `saidwhat ARGS...` in-process; fails the test on a non-zero exit."""
    from saidwhat.cli import app

    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(app, [str(a) for a in args], catch_exceptions=not ok)
        if ok:
            assert result.exit_code == 0, f"saidwhat {' '.join(map(str, args))}: {result.output}"
        return result

    return invoke


def analyst_config(tmp_path: Path, topics: str | None = None, aliases: str = "") -> Path:
    """The shipped config.toml with storage under tmp_path, optionally other topics and aliases."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('path = "data/saidwhat.duckdb"', f'path = "{tmp_path / "saidwhat.duckdb"}"')
    text = text.replace('spool_dir = "data/spool"', f'spool_dir = "{tmp_path / "spool"}"')
    text = text.replace('out_dir = "digest"', f'out_dir = "{tmp_path / "digest"}"')
    text = text.replace("per_host_delay_seconds = 1.0", "per_host_delay_seconds = 0.0")
    if topics is not None:
        head, _, rest = text.partition("[topics.")
        _, _, tail = rest.partition("[speakers.aliases]")
        text = head + topics + "\n[speakers.aliases]" + tail
    if aliases:
        text += "\n" + aliases + "\n"
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path
