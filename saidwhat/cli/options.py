"""The options several commands share, defined once (typer ``Annotated`` types).

A command takes ``config: ConfigOption = None`` and gets the same flag, help
text and type as every other command with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from saidwhat.cli.output import OutputFormat

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="config.toml to use (default: $SAIDWHAT_CONFIG, ./config.toml, or the built-in one)"),
]
DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="DuckDB file (default: \\[storage] path in the config; without a config file, "
                 "demo.duckdb when that one is missing)"),
]  # fmt: skip
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table, csv or jsonl")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's logs")]
