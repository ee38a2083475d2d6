"""The reading room: a small read-only web page over one saidwhat database (`saidwhat web`).

- Starlette + Jinja2, served by uvicorn (installed with Prefect); plain HTML forms, no JavaScript.
- Each request opens the database read-only, runs its query and closes it (storage.quotes), so the
  hourly writer waits for one query at most.
- Every value reaches the page through Jinja2 with autoescaping on, so a quote containing
  ``<script>`` is shown as text; every query is parameterised in storage/.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from saidwhat.core.errors import SaidwhatError
from saidwhat.core.excerpt import excerpt
from saidwhat.reports import csv_bytes
from saidwhat.storage import Store
from saidwhat.storage.digest import STATEMENT_COLUMNS
from saidwhat.storage.quotes import (
    QUOTE_COLUMNS,
    cluster_members,
    filter_choices,
    provenance,
    quote_marks,
    quotes,
    statement_rows,
)
from saidwhat.storage.store import StatementFilter

PAGE_ROWS = 200
FILTER_FIELDS = ("view", "q", "speaker", "topic", "publisher", "kind", "from", "to")


class BadFilter(SaidwhatError):
    """A filter value the page cannot use (a malformed date)."""


def _day(value: str, field: str) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise BadFilter(f"{field} {value!r} is not a date: use YYYY-MM-DD") from None
    return day.replace(tzinfo=UTC)


def filters_from(request: Request) -> dict[str, str]:
    """The page's filter fields from the query string (missing ones empty)."""
    params = request.query_params
    values = {name: params.get(name, "").strip() for name in FILTER_FIELDS}
    values["view"] = "clusters" if values["view"] == "clusters" else "statements"
    return values


def statement_filter(values: dict[str, str], limit: int | None) -> StatementFilter:
    until = _day(values["to"], "to")
    return StatementFilter(
        topic=values["topic"] or None,
        speaker=values["speaker"] or None,
        since=_day(values["from"], "from"),
        until=until + timedelta(days=1) if until else None,  # "to" is inclusive on the page
        publisher=values["publisher"] or None,
        kind=values["kind"] or None,
        text=values["q"] or None,
        limit=limit,
    )


def create_app(db: Path | Store) -> Starlette:
    """The reading room for the DuckDB file at ``db``, or for a Store of either backend."""
    store = db if isinstance(db, Store) else Store(Path(db))
    env = Environment(loader=PackageLoader("saidwhat.web", "templates"), autoescape=True)
    # The one timestamp format of every saidwhat output: ISO 8601 in UTC with Z.
    env.filters["when"] = lambda v: v.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(v, datetime) else ""
    # A link from a feed could be javascript:...; only http(s) URLs become links.
    env.filters["http_only"] = lambda url: url if str(url).lower().startswith(("http://", "https://")) else "#"
    env.filters["day"] = env.filters["when"]

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(db=store.path.name, **context), status_code=status)

    def error(message: str, status: int) -> HTMLResponse:
        return page("error.html", status=status, message=message)

    def index(request: Request) -> Response:
        values = filters_from(request)
        try:
            where = statement_filter(values, PAGE_ROWS + 1)
            rows = quotes(store, where) if values["view"] == "clusters" else statement_rows(store, where)
            choices = filter_choices(store)
        except SaidwhatError as exc:
            return error(str(exc), 400)
        query = request.url.query
        return page(
            "index.html", values=values, rows=rows[:PAGE_ROWS], more=len(rows) > PAGE_ROWS, choices=choices,
            csv_url="/download.csv" + (f"?{query}" if query else ""),
        )  # fmt: skip

    def download(request: Request) -> Response:
        values = filters_from(request)
        try:
            where = statement_filter(values, None)
        except SaidwhatError as exc:
            return error(str(exc), 400)
        if values["view"] == "clusters":
            body, name = csv_bytes(quotes(store, where), QUOTE_COLUMNS), "quotes.csv"
        else:
            body, name = csv_bytes(statement_rows(store, where), STATEMENT_COLUMNS), "statements.csv"
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    def statement(request: Request) -> Response:
        try:
            row = provenance(store, request.path_params["statement_id"])
        except SaidwhatError as exc:
            return error(str(exc), 404)
        paragraphs = excerpt(row["article_text"], quote_marks(row), context=len(row["article_text"]))
        members = cluster_members(store, row["cluster_id"])
        return page("statement.html", row=row, paragraphs=paragraphs, members=members)

    return Starlette(
        routes=[
            Route("/", index),
            Route("/download.csv", download),
            Route("/statement/{statement_id}", statement),
        ]
    )
