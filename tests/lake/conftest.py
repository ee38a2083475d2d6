"""A real, throw-away PostgreSQL server for the DuckLake tests, and lake configs.

The server runs from a temporary folder on a free port on 127.0.0.1 with
trust authentication, and is stopped at the end of the session. PostgreSQL
refuses to run as root, so as root it runs as the ``postgres`` system user
that the Debian package creates. The tests skip (with the reason) only when
the server binaries or the lake extension packages cannot be found; CI
installs both (.ci/run, `make test`).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port


def _postgres_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.insert(0, found)
    if shutil.which("pg_config"):
        bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
        if bindir:
            candidates.append(str(Path(bindir) / "initdb"))
    for candidate in candidates:
        folder = Path(candidate).resolve().parent
        if all((folder / tool).is_file() for tool in ("initdb", "pg_ctl", "createdb")):
            return folder
    return None


@dataclass(frozen=True)
class PostgresServer:
    bin_dir: Path
    port: int

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def create_database(self) -> str:
        """A new empty database (one per test, so lakes never meet)."""
        name = "lake_" + uuid.uuid4().hex[:12]
        subprocess.run(
            [str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        return name


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql")
    for module in ("duckdb_extension_ducklake", "duckdb_extension_postgres_scanner"):
        try:
            __import__(module)
        except ImportError:
            pytest.skip(f'{module} is not installed: pip install -e ".[lake]" to run the DuckLake tests')
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    home = Path(tempfile.mkdtemp(prefix="saidwhat-pg-"))
    if as_root:
        shutil.chown(home, user="postgres")
    data = home / "data"
    port = free_port()
    subprocess.run(
        [*run_as, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
         "--no-sync"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    subprocess.run(
        [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(home / "server.log"), "-w", "-t", "60",
         "-o", f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
         "start"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    try:
        yield PostgresServer(bin_dir, port)
    finally:
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True, timeout=60,
        )  # fmt: skip
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture()
def lake_dsn(postgres: PostgresServer) -> str:
    return postgres.dsn(postgres.create_database())


def lake_config(
    tmp_path: Path, catalog: str, feeds: list | None = None, name: str = "lake.toml", proxy: str = ""
) -> Path:
    """The shipped config.toml with the ducklake backend (data under tmp_path) and the given feeds.

    ``proxy``: the demo site's server, which answers for the demo's host name (saidwhat.demo.run).
    """
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = re.sub(r"\[\[feeds\]\]\n(?:\w+ = .*\n)+", "", text)
    for old, new in {
        'path = "data/saidwhat.duckdb"': f'path = "{tmp_path / "unused.duckdb"}"',
        'backend = "duckdb"': 'backend = "ducklake"',
        'catalog = ""': f"catalog = {_toml(catalog)}",
        'data_path = ""': f'data_path = "{tmp_path / "lake-data"}"',
        'spool_dir = "data/spool"': f'spool_dir = "{tmp_path / "spool"}"',
        'out_dir = "digest"': f'out_dir = "{tmp_path / "digest"}"',
        "per_host_delay_seconds = 1.0": "per_host_delay_seconds = 0.0",
        'proxy = ""': f"proxy = {_toml(proxy)}",
    }.items():
        assert old in text, f"config.toml lost its line {old}"
        text = text.replace(old, new)
    for feed in feeds or []:
        text += f"\n[[feeds]]\nname = {_toml(feed.name)}\nurl = {_toml(feed.url)}\n"
        text += f"publisher = {_toml(feed.publisher)}\n"
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
