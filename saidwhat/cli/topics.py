"""Tuning topics: `saidwhat label` records analysts' judgements, `saidwhat topics report` scores the definitions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from saidwhat.cli.analyst import ConfigOption, DbOption, FormatOption, _s
from saidwhat.cli.output import OutputFormat, write_rows
from saidwhat.core.errors import SaidwhatError

err = Console(stderr=True)
topics_app = typer.Typer(help="Score topic definitions against labelled statements.", no_args_is_help=True)

SCORE_COLUMNS = ["topic", "labelled", "precision", "recall", "true_positives", "false_positives", "false_negatives",
                 "true_negatives", "stale", "orphaned"]  # fmt: skip
DISAGREEMENT_COLUMNS = ["topic", "statement_id", "label", "tagged", "speaker", "quote", "evidence"]
# What a narrow terminal leaves out first (--format csv has every column).
SCORE_OPTIONAL = ["orphaned", "stale", "true_negatives", "false_negatives", "false_positives", "true_positives"]
DISAGREEMENT_OPTIONAL = ["topic", "evidence", "speaker"]


def label(
    statement_id: Annotated[str | None, typer.Argument(help="statement_id (from `saidwhat who --format csv`)")] = None,
    answer: Annotated[str | None, typer.Argument(help="yes or no: is the statement about the topic?")] = None,
    topic: Annotated[str | None, typer.Option("--topic", help="Topic name from config.toml")] = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--from", help="CSV with topic, label and statement_id (or url and quote_contains) columns"),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Record whether a statement is about a topic (`saidwhat label ID --topic T yes`), or import a CSV of labels.

    Labels live in the topic_labels table, which reprocess and retag never touch;
    `saidwhat topics report` scores the topic definitions against them.
    """
    from saidwhat.flows.labels import import_labels, label_statement

    if from_file is not None:
        if statement_id or answer or topic:
            raise SaidwhatError("--from takes topics and labels from the file: give no STATEMENT_ID, answer or --topic")
        result = import_labels(from_file, _s(config), _s(db))
        rows = [{"file": str(from_file), "rows": result.rows, "labels": result.labels,
                 "unmatched": len(result.unmatched)}]  # fmt: skip
        write_rows(rows, ["file", "rows", "labels", "unmatched"], fmt, title="Labels imported", wrap=("file",))
        if result.unmatched:
            lines = ", ".join(str(n) for n in result.unmatched[:20]) + (" ..." if len(result.unmatched) > 20 else "")
            err.print(f"{len(result.unmatched)} rows matched no stored statement (lines {lines})", highlight=False)
        return
    if not (statement_id and answer and topic):
        raise SaidwhatError("use: saidwhat label STATEMENT_ID --topic TOPIC yes|no, or saidwhat label --from FILE.csv")
    row = label_statement(statement_id, topic, answer, _s(config), _s(db))
    write_rows([row], ["statement_id", "topic", "label"], fmt, title="Label recorded")


@topics_app.command("report")
def report(
    topic: Annotated[str | None, typer.Option("--topic", help="Only this topic (default: every labelled one)")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Precision and recall of the topic definitions in config.toml against labelled statements, and disagreements.

    The definitions are evaluated now on the stored text (no model, no network), so an edit
    to config.toml shows here before `saidwhat retag`. csv prints the disagreements only.
    """
    from saidwhat.flows.labels import topic_report

    scores, disagreements = topic_report(topic, _s(config), _s(db))
    score_rows = [
        {
            "topic": s.topic, "labelled": s.labelled,
            "precision": _ratio(s.precision), "recall": _ratio(s.recall),
            "true_positives": s.true_positives, "false_positives": s.false_positives,
            "false_negatives": s.false_negatives, "true_negatives": s.true_negatives,
            "stale": s.stale, "orphaned": s.orphaned,
        }
        for s in scores
    ]  # fmt: skip
    rows = [
        {"topic": d.topic, "statement_id": d.statement_id, "label": "yes" if d.label else "no",
         "tagged": "yes" if d.tagged else "no", "speaker": d.speaker, "quote": d.quote, "evidence": d.evidence}
        for d in disagreements
    ]  # fmt: skip
    if fmt is OutputFormat.jsonl:
        write_rows([{"row": "score", **r} for r in score_rows], ["row", *SCORE_COLUMNS], fmt)
        write_rows([{"row": "disagreement", **r} for r in rows], ["row", *DISAGREEMENT_COLUMNS], fmt)
        return
    if fmt is OutputFormat.table:
        write_rows(
            score_rows, SCORE_COLUMNS, fmt, title="Current topic definitions against the labels",
            optional=SCORE_OPTIONAL,
        )  # fmt: skip
        stale = sum(s.stale for s in scores)
        if stale:
            err.print(f"{stale} labelled statements are tagged differently in the database: run `saidwhat retag`")
    write_rows(
        rows, DISAGREEMENT_COLUMNS, fmt, title=f"{len(rows)} disagreements", wrap=("quote", "evidence"),
        optional=DISAGREEMENT_OPTIONAL,
    )  # fmt: skip


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def register(app: typer.Typer) -> None:
    app.command("label")(label)
    app.add_typer(topics_app, name="topics")
