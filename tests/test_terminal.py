"""On a real terminal (a pseudo-terminal), Prefect's log lines go through the console of the
progress bars: each lands on a line of its own, never inside a bar."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

from saidwhat.demo.server import LocalSite, corpus_routes
from tests.conftest import ROOT

BAR = "━"
LOG_LINE = re.compile(r"\d\d:\d\d:\d\d\.\d{3} \| (INFO|WARNING)")


def _run_in_a_terminal(args: list[str], env: dict[str, str], timeout: float = 600) -> str:
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "saidwhat", *args], stdin=follower, stdout=follower, stderr=follower,
        cwd=ROOT, env=env, close_fds=True,
    )  # fmt: skip
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process has ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(leader)
    assert process.returncode == 0, b"".join(chunks)[-3000:].decode("utf-8", "replace")
    return b"".join(chunks).decode("utf-8", "replace")


def test_prefect_log_lines_never_land_inside_a_progress_bar(project_config: Path, tmp_path: Path) -> None:
    with LocalSite(corpus_routes()) as site:
        env = {**os.environ, "COLUMNS": "120", "LINES": "40", "TERM": "xterm-256color",
               "PREFECT_LOGGING_LEVEL": "INFO", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}  # fmt: skip
        output = _run_in_a_terminal(
            ["run", "--config", str(project_config), "--db", str(tmp_path / "t.duckdb"), "--verbose",
             "--feed", site.url("/feeds/northgate.xml")],
            env,
        )  # fmt: skip
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", output)  # every cursor move or colour: a break
    segments = [s for s in re.split(r"[\r\n]", plain) if s.strip()]
    logs = [s for s in segments if LOG_LINE.search(s)]
    assert logs, "the run logged nothing at INFO: the test would prove nothing"
    assert any(BAR in s for s in segments), "no progress bar was drawn"
    assert not [s for s in logs if BAR in s]
