"""Re-tagging benchmark: `saidwhat retag` over N stored statements (issue 14's target: 10,000 in under 5 s).

    python bench/retag.py --statements 10000 [--from-db demo.duckdb] [--repeat 3]

Retag needs no network and no model: it re-reads every statement's quote and
sentence and its article's stored text (for the context), evaluates the
topics of config.toml (about / refers_to / not_about / all_of phrase groups,
and Matcher patterns if a topic has them) and writes topics and
topic_evidence back. The bench database is the demo corpus's (from
``--from-db``, or built here with `saidwhat demo`, which needs the spaCy model
once) with its articles and statements copied under new ids until it holds at
least ``--statements`` statements; the copies are then retagged with the
shipped config.toml by the real CLI in a child process. Reported: the whole
command's wall time (interpreter start, config, schema check, reads, tagging,
writes), the median over ``--repeat`` runs, and the CPU time it used (user +
system, all threads): on a machine that other jobs share, the wall time
grows with the load average (printed too) while the CPU time does not. Every
run changes nothing after the first (the tags are already right), so the
first run, which writes every row's evidence, is reported separately.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 5.0


def _saidwhat(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "saidwhat", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=1800
    )


def demo_db(workdir: Path, env: dict[str, str]) -> Path:
    db = workdir / "demo.duckdb"
    result = _saidwhat("demo", "--db", str(db), "--port", "0", env=env)
    if result.returncode != 0:
        sys.exit(f"bench: saidwhat demo failed: {result.stderr[-2000:]}")
    return db


def grow(source: Path, target: Path, statements: int) -> int:
    """Copy ``source`` to ``target`` and duplicate its articles and statements until there are enough."""
    shutil.copyfile(source, target)
    with duckdb.connect(str(target)) as con:
        have = con.execute("SELECT count(*) FROM statements").fetchone()[0]
        if have == 0:
            sys.exit(f"bench: {source} has no statements")
        copies = -(-statements // have) - 1
        for k in range(1, copies + 1):
            con.execute(
                "INSERT INTO articles SELECT * REPLACE (article_id || '-' || ?::VARCHAR AS article_id,"
                " canonical_url || '#copy' || ?::VARCHAR AS canonical_url)"
                " FROM articles WHERE article_id NOT LIKE '%-%'",
                [k, k],
            )
            con.execute(
                "INSERT INTO statements SELECT * REPLACE (statement_id || '-' || ?::VARCHAR AS statement_id,"
                " article_id || '-' || ?::VARCHAR AS article_id, [] AS topics, NULL AS topic_evidence)"
                " FROM statements WHERE statement_id NOT LIKE '%-%'",
                [k, k],
            )
        con.execute("UPDATE statements SET topics = [], topic_evidence = NULL")
        return con.execute("SELECT count(*) FROM statements").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--statements", type=int, default=10_000)
    parser.add_argument("--from-db", type=Path, help="a database made by `saidwhat demo` (default: make one)")
    parser.add_argument("--repeat", type=int, default=3, help="runs after the first; the median is reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="saidwhat-bench-retag-") as tmp:
        workdir = Path(tmp)
        env = {**os.environ, "PREFECT_HOME": str(workdir / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        env.pop("PREFECT_API_URL", None)  # the plain command, no Prefect server
        source = args.from_db or demo_db(workdir, env)
        db = workdir / "bench.duckdb"
        # Migrate the source's copy first, so that the timed runs do not include a schema upgrade.
        shutil.copyfile(source, workdir / "migrated.duckdb")
        _saidwhat("status", "--db", str(workdir / "migrated.duckdb"), "--section", "counts", env=env)
        count = grow(workdir / "migrated.duckdb", db, args.statements)
        config = str(ROOT / "config.toml")
        times, cpus = [], []
        for run in range(args.repeat + 1):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            result = _saidwhat("retag", "--db", str(db), "--config", config, "--format", "jsonl", env=env)
            elapsed = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            if result.returncode != 0:
                sys.exit(f"bench: retag failed: {result.stderr[-2000:]}")
            summary = json.loads(result.stdout)
            print(
                f"run {run}: {summary['statements']} statements, {summary['changed']} changed,"
                f" {elapsed:.2f} s wall, {cpu:.2f} s CPU, load average {os.getloadavg()[0]:.1f}"
            )
            times.append(elapsed)
            cpus.append(cpu)
        median = statistics.median(times[1:]) if args.repeat else times[0]
        cpu_median = statistics.median(cpus[1:]) if args.repeat else cpus[0]
        verdict = "OK" if max(times[0], median) < TARGET_SECONDS else "OVER (see the CPU time and the load)"
        print(
            f"retag: {count} statements; first run (writes every tag and its evidence) {times[0]:.2f} s wall"
            f" {cpus[0]:.2f} s CPU; median of {args.repeat} later runs {median:.2f} s wall {cpu_median:.2f} s CPU;"
            f" target < {TARGET_SECONDS:g} s wall: {verdict}"
        )


if __name__ == "__main__":
    main()
