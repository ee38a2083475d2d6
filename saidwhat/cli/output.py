"""Rows out to the terminal: rich tables by default, CSV or JSON lines for scripts.

Tables take the terminal's width (rich's console width: the terminal, else
$COLUMNS, else 80), with no minimum. Long text wraps inside its cell, at
words; a header, a number, a name of one word or a timestamp is never split.
When the terminal is too narrow for every column, the least useful columns
(``optional``, dropped in that order) are left out and the caption says
which; CSV and JSON lines always carry every column and never depend on the
terminal.
"""

from __future__ import annotations

import csv
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.table import Table

# A column that wraps (a quote, a message) gets at least this many characters,
# or the table leaves out optional columns to make room.
MIN_WRAPPED_WIDTH = 30
# A single word longer than this (a URL, a path) may be folded rather than widen the table.
MAX_UNBROKEN_WIDTH = 26
# A column of names (speaker, publisher) wraps at words beyond this width, leaving room for the quote.
PREFERRED_WIDTH = 18


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    jsonl = "jsonl"


def timestamp(value: datetime) -> str:
    """The one timestamp format of every output: ISO 8601 in UTC with ``Z`` (2026-01-05T08:30:00Z).

    A naive value is a DuckDB TIMESTAMP, which saidwhat always stores in UTC.
    """
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 statement', '2 statements', '0 statements' ('1 entry', '2 entries' with ``many``)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def _plain(value: Any) -> Any:
    """A JSON value."""
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _cell(value: Any) -> str:
    """A CSV field or table cell."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def console_width() -> int:
    """The width tables are drawn at (the terminal's, $COLUMNS, or 80)."""
    return Console().width


def write_rows(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    fmt: OutputFormat,
    title: str | None = None,
    stream: TextIO | None = None,
    wrap: Sequence[str] = ("quote",),
    optional: Sequence[str] = (),
    caption: str | None = None,
) -> None:
    """Print ``rows`` as a table, CSV or JSON lines.

    ``wrap`` names the long-text columns that share the spare width; ``optional``
    the columns a narrow terminal may leave out, first to go first.
    """
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
    cells = {c: [_cell(row.get(c)) for row in rows] for c in columns}
    width = Console(file=stream).width
    shown, hidden = fit_columns(columns, cells, width, wrap, optional)
    notes = [caption] if caption else []
    if hidden:
        notes.append(f"hidden at this width: {', '.join(hidden)} (--format csv has every column)")
    wrapping = any(c in wrap for c in shown)
    # With long text, the table takes the whole width and the text columns get what the others leave;
    # the others keep at least their header and longest word, and at most PREFERRED_WIDTH unless one word is wider.
    table = Table(
        title=title, caption="\n".join(notes) or None, show_lines=wrapping,
        box=box.HEAVY_HEAD, expand=wrapping, caption_justify="left",
    )  # fmt: skip
    for column in shown:
        if column in wrap:
            table.add_column(column, overflow="fold", ratio=1)
        else:
            narrowest = _min_width(column, cells[column])
            table.add_column(column, overflow="fold", min_width=narrowest, max_width=max(narrowest, PREFERRED_WIDTH))
    for index in range(len(rows)):
        table.add_row(*(cells[c][index] for c in shown))
    Console(file=stream, width=width).print(table)


def _min_width(column: str, values: Sequence[str]) -> int:
    """The narrowest a column may be: its header and its longest word (a timestamp is one word)."""
    longest_word = max((len(word) for value in values for word in value.split()), default=0)
    return max(len(column), min(longest_word, MAX_UNBROKEN_WIDTH))


def _preferred_width(column: str, values: Sequence[str]) -> int:
    """The width a column takes in a table: all of it, up to PREFERRED_WIDTH, never below its minimum."""
    longest = max((len(value) for value in values), default=0)
    narrowest = _min_width(column, values)
    return max(narrowest, min(max(longest, len(column)), PREFERRED_WIDTH))


def fit_columns(
    columns: Sequence[str],
    cells: dict[str, list[str]],
    width: int,
    wrap: Sequence[str],
    optional: Sequence[str],
) -> tuple[list[str], list[str]]:
    """The columns that fit in ``width`` without splitting a header or a word, and those left out."""
    shown = list(columns)
    hidden: list[str] = []

    def needed(names: Sequence[str]) -> int:
        # HEAVY_HEAD box: one border per column plus one, and one space of padding each side.
        total = len(names) * 3 + 1
        for name in names:
            total += MIN_WRAPPED_WIDTH if name in wrap else _preferred_width(name, cells[name])
        return total

    for name in optional:
        if needed(shown) <= width:
            break
        if name in shown:
            shown.remove(name)
            hidden.append(name)
    return shown, hidden


class _ConsoleLogHandler(logging.Handler):
    """Log records printed through a rich console, so that they land above its progress bars."""

    def __init__(self, console: Console, like: logging.Handler, detailed: bool) -> None:
        super().__init__(like.level)
        self.console = console
        # Only warnings and errors show by default: one plain line each ("WARNING: ..."), not Prefect's
        # time | level | flow run name prefix; with --verbose, Prefect's own format.
        plain = logging.Formatter("%(levelname)s: %(message)s")
        self.setFormatter((like.formatter or plain) if detailed else plain)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # Wrapped at the console width like everything else it prints (an 80-column terminal stays tidy).
            self.console.print(self.format(record), markup=False, highlight=False)
        except Exception:  # a log line must never break the run
            self.handleError(record)


@contextmanager
def logs_through(console: Console) -> Iterator[None]:
    """Route Prefect's (and any) terminal log handlers through ``console`` for the duration.

    Prefect's console handler writes to the stderr it found at start-up, under a
    live progress bar; printed through the bar's console, a line goes above it.
    """
    terminal = {sys.stderr, sys.__stderr__, sys.stdout, sys.__stdout__}
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    detailed = logging.getLogger("prefect").getEffectiveLevel() < logging.WARNING
    swapped: list[tuple[logging.Logger, logging.Handler, logging.Handler]] = []
    for logger in loggers:
        for handler in list(logger.handlers):
            if isinstance(handler, logging.StreamHandler) and getattr(handler, "stream", None) in terminal:
                replacement = _ConsoleLogHandler(console, handler, detailed)
                logger.removeHandler(handler)
                logger.addHandler(replacement)
                swapped.append((logger, handler, replacement))
    try:
        yield
    finally:
        for logger, handler, replacement in swapped:
            logger.removeHandler(replacement)
            logger.addHandler(handler)
