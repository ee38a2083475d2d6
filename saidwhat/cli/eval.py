"""`saidwhat eval`: run the full NLP pipeline over a gold JSONL file and score it.

Two gold formats, detected from the file.  PolNeAR documents (``export_jsonl.py``): the
figures of the shared reference scorer ``score.py`` (see ``nlp.evaluation``), last line

    speech_f1=.. direct_f1=.. speaker_acc=.. e2e_speech_f1=.. e2e_direct_f1=.. n_pred=..

Canonical-speaker statements (news-dev, texts in ``texts/`` beside the gold): the figures
of ``score_canonical.py`` (see ``nlp.canonical_eval``), last line

    recall=.. precision=.. f1=.. n_pred=.. n_gold=..

Both print precision and recall per extraction rule and the errors by type.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from saidwhat.config import nlp_settings
from saidwhat.core.paths import output_file
from saidwhat.nlp.canonical_eval import (
    CanonicalGold,
    canonical_summary,
    error_counts,
    is_canonical_gold,
    load_canonical_gold,
    score_canonical,
)
from saidwhat.nlp.evaluation import (
    TRACKS,
    ErrorCase,
    GoldDoc,
    Pred,
    Report,
    evaluate,
    load_gold,
    pred_from_json,
    summary_line,
)

ERROR_SEED = 13  # fixed so `--errors N` shows the same sample on every run
CONTEXT_CHARS = 160

# Tables need room: when output is not a terminal (a pipe, CI logs), do not squeeze them to 80 columns.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def _prediction(doc_id: str, text: str, statement: Any) -> dict[str, Any]:
    from saidwhat.cli.extract_files import statement_json

    return statement_json(doc_id, text, statement)


def predict(
    docs: list[GoldDoc] | list[tuple[str, str]],
    model: str,
    batch_size: int = 32,
    n_process: int = 1,
    parse: str | None = None,
    statements_config: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run ``load_pipeline`` + ``nlp.pipe`` over the gold texts (GoldDocs or (id, text) pairs);
    prediction objects, in doc order."""
    from saidwhat.nlp.pipeline import analyze, load_pipeline
    from saidwhat.nlp.speed_paths import describe

    nlp = load_pipeline(model, statements_config, parse=parse)
    console.print(f"NLP speed paths: {describe(nlp)}", markup=False, soft_wrap=True)
    objects: list[dict[str, Any]] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"Parsing with {model}", total=len(docs))
        pairs = [(d.id, d.text) if isinstance(d, GoldDoc) else d for d in docs]
        texts = (text for _, text in pairs)
        analyses = analyze(nlp, texts, batch_size=batch_size, n_process=n_process)
        for (doc_id, text), analysis in zip(pairs, analyses, strict=True):
            objects.extend(_prediction(doc_id, text, s) for s in analysis.statements)
            progress.advance(task)
    return objects


def group_predictions(objects: list[dict[str, Any]], docs: list[GoldDoc]) -> dict[str, list[Pred]]:
    lengths = {d.id: len(d.text) for d in docs}
    grouped: dict[str, list[Pred]] = {d.id: [] for d in docs}
    for obj in objects:
        grouped[obj["doc"]].append(pred_from_json(obj, lengths[obj["doc"]], f"prediction for {obj['doc']}"))
    return grouped


def _figures_table(fig: dict[str, Any]) -> Table:
    table = Table(title="Quote attribution", title_justify="left")
    for name in (
        "track",
        "gold",
        "found",
        "P",
        "R",
        "F1",
        "spk ok",
        "spk acc",
        "e2e found",
        "e2e P",
        "e2e R",
        "e2e F1",
    ):
        table.add_column(name, justify="left" if name == "track" else "right")
    for t in TRACKS:
        table.add_row(
            t, str(fig[f"{t}_gold"]), str(fig[f"{t}_found"]), f"{fig['quote_precision']:.3f}",
            f"{fig[f'{t}_recall']:.3f}", f"{fig[f'{t}_f1']:.3f}",
            f"{fig[f'{t}_speaker_correct']}/{fig[f'{t}_speaker_pairs']}", f"{fig[f'{t}_speaker_acc']:.3f}",
            str(fig[f"{t}_found_with_speaker"]), f"{fig['e2e_precision']:.3f}", f"{fig[f'e2e_{t}_recall']:.3f}",
            f"{fig[f'e2e_{t}_f1']:.3f}",
        )  # fmt: skip
    return table


def _kind_table(report: Report) -> Table:
    table = Table(title="Predictions by kind", title_justify="left")
    for name in ("kind", "n", "correct", "precision", "e2e correct", "e2e precision"):
        table.add_column(name, justify="left" if name == "kind" else "right")
    for kind, c in sorted(report.by_kind.items(), key=lambda kv: -kv[1]["n"]):
        table.add_row(
            kind,
            str(c["n"]),
            str(c["correct"]),
            f"{c['correct'] / c['n']:.3f}",
            str(c["e2e_correct"]),
            f"{c['e2e_correct'] / c['n']:.3f}",
        )
    return table


def _error_table(report: Report) -> Table:
    counts = Counter((e.error, e.kind) for e in report.errors)
    table = Table(
        title="Errors (missed: by gold track; wrong speaker, spurious: by predicted kind)", title_justify="left"
    )
    for name in ("error", "kind", "count"):
        table.add_column(name, justify="right" if name == "count" else "left")
    for (error, kind), n in sorted(counts.items(), key=lambda kv: (kv[0][0], -kv[1])):
        table.add_row(error, kind, str(n))
    return table


def _rule_table(report: Report) -> Table:
    union = max(1, report.union_gold)
    table = Table(
        title=f"Precision and recall by rule (recall: share of the {report.union_gold} speech+direct gold found)",
        title_justify="left",
    )
    for name in ("rule", "n", "correct", "P", "e2e P", "found", "R", "e2e found", "e2e R"):
        table.add_column(name, justify="left" if name == "rule" else "right")
    for rule, c in sorted(report.by_rule.items(), key=lambda kv: -kv[1]["n"]):
        n = max(1, c["n"])
        table.add_row(
            rule, str(c["n"]), str(c["correct"]), f"{c['correct'] / n:.3f}", f"{c['e2e_correct'] / n:.3f}",
            str(c["found"]), f"{c['found'] / union:.3f}", str(c["e2e_found"]), f"{c['e2e_found'] / union:.3f}",
        )  # fmt: skip
    return table


def _show_errors(report: Report, docs: list[GoldDoc], n: int) -> None:
    texts = {d.id: d.text for d in docs}
    sample: list[ErrorCase] = list(report.errors)
    random.Random(ERROR_SEED).shuffle(sample)
    for case in sample[:n]:
        text = texts[case.doc_id]
        start, end = case.span
        before = text[max(0, start - CONTEXT_CHARS) : start].replace("\n", " ⏎ ")
        inside = text[start:end].replace("\n", " ⏎ ")
        after = text[end : end + CONTEXT_CHARS].replace("\n", " ⏎ ")
        console.rule(f"[bold]{case.error}[/] {case.kind}  {case.doc_id} [{start}:{end}]", align="left")
        console.print(case.detail, markup=False)
        console.print(f"…{before}[reverse]{inside}[/]{after}…", soft_wrap=True, markup=True)


def eval_command(
    gold: Path = typer.Option(
        ...,
        "--gold",
        exists=True,
        dir_okay=False,
        help="Gold JSONL: PolNeAR (export_jsonl.py) or canonical speakers (news-dev), detected from the file",
    ),
    split_name: str | None = typer.Option(None, "--split-name", help="Label for the gold set in the report"),
    errors: int = typer.Option(0, "--errors", min=0, help="Show this many sampled errors with context"),
    pred_out: Path | None = typer.Option(None, "--pred-out", help="Also write the predictions as JSONL here"),
    config: Path | None = typer.Option(None, "--config", help="config.toml (for \\[nlp] model)"),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Only the first N gold documents"),
) -> None:
    """Score the statement extractor against a gold JSONL file."""
    from saidwhat.nlp.pipeline import PARSE_ENV

    canonical = is_canonical_gold(gold)
    canonical_gold = load_canonical_gold(gold, limit) if canonical else None
    docs = [] if canonical else load_gold(gold, limit)
    settings = nlp_settings(config)
    model = settings.model
    if pred_out is not None:
        output_file(pred_out, "give another --pred-out")
    started = time.perf_counter()
    # $SAIDWHAT_NLP_PARSE, when set, overrides [nlp] parse so both modes can be scored from one config.
    parse = os.environ.get(PARSE_ENV) or settings.parse
    inputs = list(canonical_gold.texts.items()) if canonical_gold is not None else docs
    objects = predict(inputs, model, parse=parse, statements_config=settings.statements_config)
    seconds = time.perf_counter() - started
    if pred_out is not None:
        with open(pred_out, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objects)
    label = f"{gold} [{split_name}]" if split_name else str(gold)
    if canonical_gold is not None:
        _report_canonical(canonical_gold, objects, label, model, seconds, errors)
        return
    report = evaluate(docs, group_predictions(objects, docs))
    fig = report.figures
    console.print(
        f"gold: {label}   docs={fig['n_docs']}   predictions={fig['n_pred']}   model={model}"
        f"   pipeline time={seconds:.1f}s",
        markup=False,
    )
    console.print(
        f"correct predictions: {fig['n_pred_correct']}   quote precision={fig['quote_precision']:.3f}"
        f"   e2e precision={fig['e2e_precision']:.3f}"
    )
    console.print(_figures_table(fig))
    console.print(
        f"speaker accuracy (matches against speech+direct gold with a source): "
        f"{fig['speaker_correct']}/{fig['speaker_pairs']} = {fig['speaker_acc']:.3f}"
    )
    console.print(_kind_table(report))
    console.print(_rule_table(report))
    console.print(_error_table(report))
    if errors:
        _show_errors(report, docs, errors)
    console.print(summary_line(fig), markup=False, soft_wrap=True)


def _report_canonical(
    gold: CanonicalGold, objects: list[dict[str, Any]], label: str, model: str, seconds: float, errors: int
) -> None:
    """The news-dev style report: the reference figures, then errors by type and by rule."""
    report = score_canonical(gold, objects)
    fig = report.figures
    console.print(
        f"gold: {label} (canonical speakers)   docs={fig['n_docs']}   predictions={fig['n_pred']}"
        f"   model={model}   pipeline time={seconds:.1f}s",
        markup=False,
    )
    console.print(
        f"required gold found with the right speaker: {fig['found']}/{fig['n_gold']}"
        f"   predictions credited: {fig['good']}/{fig['n_pred']}"
    )
    counts = error_counts(report)
    table = Table(title="Errors by type", title_justify="left")
    for name in ("side", "error", "count"):
        table.add_column(name, justify="right" if name == "count" else "left")
    for (side, error), n in sorted(counts.items(), key=lambda kv: (kv[0][0], -kv[1])):
        table.add_row("required gold" if side == "gold" else "prediction", error, str(n))
    console.print(table)
    n_gold = max(1, fig["n_gold"])
    rules = Table(title="Precision and recall by rule", title_justify="left")
    for name in ("rule", "n", "credited", "P", "found", "R", "errors"):
        rules.add_column(name, justify="left" if name in ("rule", "errors") else "right")
    by_rule_errors = Counter((e.rule, e.error) for e in report.errors if e.side == "prediction")
    for rule, c in sorted(report.by_rule.items(), key=lambda kv: -kv[1]["n"]):
        errs = ", ".join(f"{err} {n}" for (r, err), n in sorted(by_rule_errors.items()) if r == rule)
        rules.add_row(
            rule, str(c["n"]), str(c["good"]), f"{c['good'] / max(1, c['n']):.3f}", str(c["found"]),
            f"{c['found'] / n_gold:.3f}", errs,
        )  # fmt: skip
    console.print(rules)
    if errors:
        sample = list(report.errors)
        random.Random(ERROR_SEED).shuffle(sample)
        for case in sample[:errors]:
            text = gold.texts[case.doc]
            start, end = case.span
            console.rule(f"[bold]{case.error}[/] ({case.side}, {case.rule})  {case.doc} [{start}:{end}]", align="left")
            console.print(case.detail, markup=False)
            before = text[max(0, start - CONTEXT_CHARS) : start].replace("\n", " ⏎ ")
            inside = text[start:end].replace("\n", " ⏎ ")
            after = text[end : end + CONTEXT_CHARS].replace("\n", " ⏎ ")
            console.print(f"…{escape(before)}[reverse]{escape(inside)}[/]{escape(after)}…", soft_wrap=True)
    console.print(canonical_summary(fig), markup=False, soft_wrap=True)
