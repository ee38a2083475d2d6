"""Write the weekly digest files: two CSVs and a bar chart.

- UTF-8 and RFC 4180 (CRLF line ends, fields with quotes, commas or line
  breaks are quoted and inner quotes doubled), so values survive Python's csv
  module and DuckDB's read_csv unchanged; ``excel=True`` adds a BOM so Excel
  detects UTF-8.
- Empty fields mean "no value"; list values are joined with "; ".
- Every file is written to a temporary file in the same directory and renamed
  over the target, so a reader never sees half a file.
- The same rows give the same bytes: no timestamps in the content, and the
  PNG is written without a Software/date chunk.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from saidwhat.storage.digest import NO_TOPIC

LIST_SEPARATOR = "; "
CHART_SPEAKERS = 12


def csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(str(v) for v in value)
    return str(value)


def csv_bytes(rows: Iterable[dict[str, Any]], columns: Sequence[str], excel: bool = False) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_value(row.get(c)) for c in columns])
    return ("\ufeff" if excel else "").encode("utf-8") + buffer.getvalue().encode("utf-8")


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; the digest is for sharing
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def chart_png(
    week: str, speakers: Sequence[str], topic_counts: dict[str, Counter[str]], topic: str | None = None
) -> bytes:
    """A horizontal bar per speaker (most statements on top), segments per topic."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = list(speakers[:CHART_SPEAKERS])
    height = 1.6 + 0.42 * max(len(shown), 3)
    fig = Figure(figsize=(10, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    title = f"Top speakers by statements, {week}" + (f" — topic {topic}" if topic else "")
    ax.set_title(title, loc="left", fontsize=12)
    if not shown:
        ax.text(0.5, 0.5, f"No statements in {week}", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        topics = sorted({t for s in shown for t in topic_counts[s]}, key=lambda t: (t == NO_TOPIC, t))
        colors = [
            (0.75, 0.75, 0.75, 1.0) if t == NO_TOPIC else c for t, c in zip(topics, _palette(len(topics)), strict=True)
        ]
        labels = [_short(s) for s in shown]
        positions = list(range(len(shown)))[::-1]
        left = [0] * len(shown)
        for topic_name, color in zip(topics, colors, strict=True):
            values = [topic_counts[s][topic_name] for s in shown]
            ax.barh(positions, values, left=left, color=color, label=topic_name, height=0.7)
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_yticks(positions, labels)
        ax.set_xlim(0, max(left) * 1.08)
        ax.set_xlabel("statements (a statement with several topics counts in each)")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(loc="lower right", fontsize=8, frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _palette(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab20" if n > 10 else "tab10"]
    return [cmap(i % cmap.N) for i in range(n)]


def _short(name: str, width: int = 40) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"
