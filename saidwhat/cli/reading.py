"""Reading commands: `saidwhat show STATEMENT_ID` (a statement in its article) and `saidwhat web` (the reading room)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from saidwhat.cli.options import ConfigOption, DbOption
from saidwhat.cli.output import plural, timestamp
from saidwhat.core.errors import SaidwhatError
from saidwhat.core.excerpt import excerpt

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

STYLES = {"quote": "bold black on yellow", "speaker": "bold underline cyan"}


def _store(config: Path | None, db: Path | None):
    from saidwhat.config import store_to_read
    from saidwhat.storage.analyst import Analyst

    store, _ = store_to_read(config, db)  # a DuckDB file or a DuckLake ([storage] backend)
    if not store.exists():
        raise SaidwhatError(store.db.missing_message())
    Analyst(store).ensure_schema()
    return store


def _when(value: Any) -> str:
    return timestamp(value) if isinstance(value, datetime) else "date unknown"


def show(
    statement_id: Annotated[
        str, typer.Argument(help="statement_id (from `who --format csv`), or its first 6+ characters")
    ],
    context: Annotated[int, typer.Option("--context", min=0, help="Paragraphs shown before and after")] = 1,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Show a statement in its article: headline, publisher, date, URL and the paragraphs around the quote."""
    from saidwhat.storage.quotes import cluster_members, provenance, quote_marks

    store = _store(config, db)
    row = provenance(store, statement_id)
    out.print(Text(row["title"] or "(no headline)", style="bold"))
    out.print(Text(f"{row['publisher']} · {_when(row['published_at'])}"))
    out.print(Text(row["url"], style="blue"), soft_wrap=True)  # a URL cut in two cannot be copied
    speaker = row["speaker"] or "speaker unknown"
    facts = [("speaker", speaker), ("kind", row["kind"]), ("cue", row["cue"] or "-"), ("id", row["statement_id"])]
    line = Text()
    for label, value in facts:
        line.append(f"{label} ", "dim")
        line.append(f"{value}  ", STYLES["speaker"] if label == "speaker" else "")
    out.print(line)
    out.print()
    for paragraph in excerpt(row["article_text"], quote_marks(row), context=context):
        text = Text()
        for piece in paragraph.pieces:
            text.append(piece.text, style=STYLES.get(piece.mark or "", ""))
        out.print(text)
        out.print()
    others = [m for m in cluster_members(store, row["cluster_id"]) if m["statement_id"] != row["statement_id"]]
    if others:
        also = plural(len(others), "other statement")
        out.print(Text(f"Also carried ({also} in quote cluster {row['cluster_id']}):", "dim"))
        for member in others:
            out.print(Text(f"  {member['statement_id']}  {_when(member['published_at'])}  {member['publisher']}"))


def web(
    db: DbOption = None,
    config: ConfigOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (default: this host only)")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: any free port)")] = 8000,
) -> None:
    """Serve the reading room: a read-only web page to filter statements and quote clusters and read them in context."""
    import socket

    import uvicorn

    from saidwhat.web import create_app

    store = _store(config, db)
    app = create_app(store)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        raise SaidwhatError(f"cannot listen on {host}:{port} ({exc.strerror}): choose another --port") from None
    # The bound address is printed before serving, so a script (or a test) can start it on port 0 and read the URL.
    bound_host, bound_port = sock.getsockname()[:2]
    where = f"http://{bound_host}:{bound_port}/"
    err.print(f"Reading room for {store.describe()} at {where} (Ctrl+C to stop)", soft_wrap=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])


def register(app: typer.Typer) -> None:
    app.command("show")(show)
    app.command("web")(web)
