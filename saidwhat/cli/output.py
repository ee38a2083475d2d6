"""Rows out to the terminal: rich tables by default, CSV or JSON lines for scripts."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    jsonl = "jsonl"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def write_rows(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    fmt: OutputFormat,
    title: str | None = None,
    stream: TextIO | None = None,
    wrap: Sequence[str] = ("quote",),
) -> None:
    stream = stream or sys.stdout
    if fmt is OutputFormat.jsonl:
        for row in rows:
            stream.write(json.dumps({c: _plain(row.get(c)) for c in columns}, ensure_ascii=False) + "\n")
        return
    if fmt is OutputFormat.csv:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
        return
    table = Table(title=title, show_lines=True, expand=True)
    for column in columns:
        table.add_column(column, overflow="fold", ratio=4 if column in wrap else 1, min_width=8)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    Console(file=stream, width=max(120, Console().width)).print(table)
