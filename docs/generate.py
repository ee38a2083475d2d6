"""Regenerate the example outputs in README.md and docs/analysts.md from a fresh demo database (`make docs`).

A generated block sits between two HTML comments; the first names what to run:

    <!-- make-docs: saidwhat who --db demo.duckdb --speaker Peskov --limit 1 --format jsonl -->
    ```
    ...output, rewritten by this script...
    ```
    <!-- /make-docs -->

``saidwhat ...`` runs the CLI (stdout, then stderr, at 80 columns) in a folder that holds the
demo database as ``demo.duckdb``; ``sql: QUERY`` runs QUERY read-only on it with DuckDB's
Python client. The outputs are made deterministic: the run id, the local server's port and
the progress bars' clocks are replaced by fixed values.

    python docs/generate.py            # rewrite the blocks
    python docs/generate.py --check    # exit 1 (and show the difference) when a block is stale
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = (ROOT / "README.md", ROOT / "docs" / "analysts.md")
WIDTH = "80"
BLOCK = re.compile(r"(<!-- make-docs: (?P<spec>.+?) -->\n)(?P<body>.*?)(<!-- /make-docs -->)", re.DOTALL)
# Values that differ from run to run, and what the docs show instead.
NORMALISE = (
    (re.compile(r"\b\d{8}T\d{6}Z-[0-9a-f]{8}\b"), "20260126T090000Z-0123abcd"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:8765"),
    (re.compile(r"\b\d:\d\d:\d\d\b"), "0:00:01"),
    (re.compile(r"^\d\d:\d\d:\d\d\.\d{3} \| ", re.MULTILINE), "09:00:00.000 | "),
    (re.compile(r"Flow run '[a-z]+-[a-z]+'"), "Flow run 'demo'"),
)


def normalise(text: str) -> str:
    for pattern, fixed in NORMALISE:
        text = pattern.sub(fixed, text)
    return "\n".join(line.rstrip() for line in text.splitlines())


def run_saidwhat(args: list[str], folder: Path) -> str:
    env = {**os.environ, "COLUMNS": WIDTH, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "NO_COLOR": "1",
           "PYTHONUNBUFFERED": "1"}  # fmt: skip
    env.pop("SAIDWHAT_CONFIG", None)
    # stdout and stderr in one pipe, unbuffered: the lines in the order a terminal shows them.
    result = subprocess.run(
        [sys.executable, "-m", "saidwhat", *args], cwd=folder, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=900,
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"saidwhat {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-2000:]}")
    return result.stdout


def run_sql(query: str, folder: Path) -> str:
    import duckdb

    with duckdb.connect(str(folder / "demo.duckdb"), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return str(con.sql(query))


def render(spec: str, folder: Path) -> str:
    if spec.startswith("sql:"):
        query = spec.removeprefix("sql:").strip()
        return f"```sql\n{query}\n```\n```\n{normalise(run_sql(query, folder))}\n```\n"
    if not spec.startswith("saidwhat "):
        raise SystemExit(f"unknown make-docs block {spec!r}: start it with 'saidwhat ' or 'sql:'")
    output = normalise(run_saidwhat(spec.split()[1:], folder))
    return f"```\n$ {spec}\n{output}\n```\n"


def regenerate(text: str, folder: Path) -> str:
    return BLOCK.sub(lambda m: m.group(1) + render(m.group("spec"), folder) + m.group(4), text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a document differs, change nothing")
    options = parser.parse_args()
    stale = []
    with tempfile.TemporaryDirectory(prefix="saidwhat-docs-") as tmp:
        folder = Path(tmp)
        os.environ.setdefault("PREFECT_HOME", str(folder / "prefect"))
        # The demo block (if any) builds demo.duckdb; every other block reads it.
        ordered = sorted(DOCUMENTS, key=lambda p: "make-docs: saidwhat demo" not in p.read_text(encoding="utf-8"))
        for document in ordered:
            old = document.read_text(encoding="utf-8")
            if not (folder / "demo.duckdb").exists() and "make-docs: saidwhat demo" not in old:
                run_saidwhat(["demo"], folder)
            new = regenerate(old, folder)
            if new == old:
                continue
            stale.append(document)
            if options.check:
                diff = difflib.unified_diff(old.splitlines(), new.splitlines(), str(document), "generated", lineterm="")
                print("\n".join(diff))
            else:
                document.write_text(new, encoding="utf-8")
    if stale and options.check:
        print(f"stale: {', '.join(str(p.relative_to(ROOT)) for p in stale)}: run `make docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
