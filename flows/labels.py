"""Analysts' topic labels: record them, import them from CSV, and score the topic definitions against them.

``saidwhat label`` and ``saidwhat topics report`` call these functions
directly (no Prefect flow: they are quick, local edits and reads). The report
evaluates the topic definitions in config.toml *now* on the labelled
statements' stored text -- no network, no model -- so an analyst can edit a
topic and see its precision and recall before running `saidwhat retag`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saidwhat.config import Config, config_for, open_store
from saidwhat.core.errors import SaidwhatError
from saidwhat.nlp.topics import StatementContext, TopicDecision, TopicTagger, paragraph_around
from saidwhat.storage import Store
from saidwhat.storage.analyst import Analyst
from saidwhat.storage.labels import LabelledStatement, Labels, StatementRef, TopicLabel, url_path

YES = frozenset({"yes", "y", "true", "t", "1"})
NO = frozenset({"no", "n", "false", "f", "0"})
CSV_HELP = (
    "columns topic, label (yes/no) and either statement_id, or url and quote_contains (see README, 'Tuning a topic')"
)


def parse_answer(value: str, where: str) -> bool:
    answer = value.strip().lower()
    if answer in YES:
        return True
    if answer in NO:
        return False
    raise SaidwhatError(f"{where}: label {value!r} is neither yes nor no (use yes/no, true/false or 1/0)")


def _store(config: Config) -> Store:
    store = open_store(config.storage)  # a DuckDB file or a DuckLake ([storage] backend)
    if not store.exists():
        raise SaidwhatError(store.db.missing_message())
    Analyst(store).ensure_schema()
    return store


def _check_topic(topic: str, config: Config) -> None:
    known = [t.name for t in config.topics]
    if topic not in known:
        raise SaidwhatError(
            f"unknown topic {topic!r}: topics in {config.source or 'the config'} are {', '.join(known) or 'none'}"
        )


def label_statement(
    statement_id: str, topic: str, answer: str, config_path: str | None = None, db_path: str | None = None
) -> dict[str, Any]:
    """Record one judgement; the statement and topic must exist."""
    config = config_for(config_path, db_path, reading=True)
    _check_topic(topic, config)
    labels = Labels(_store(config))
    label = parse_answer(answer, "saidwhat label")
    if not labels.known_statements([statement_id]):
        raise SaidwhatError(
            f"no statement {statement_id!r}: take statement_id from `saidwhat who --format csv` or v_statements"
        )
    labels.record([TopicLabel(statement_id, topic, label, "cli")])
    return {"statement_id": statement_id, "topic": topic, "label": "yes" if label else "no"}


@dataclass(frozen=True, slots=True)
class ImportResult:
    rows: int
    labels: int
    unmatched: list[int]  # CSV line numbers that matched no stored statement


def import_labels(path: Path, config_path: str | None = None, db_path: str | None = None) -> ImportResult:
    """Record the labels of a CSV file (see CSV_HELP); rows whose statement is not stored are reported, not fatal.

    Several rows may land on the same statement and topic (a quote stored as one
    statement, labelled in parts): the statement is about the topic if any of them says yes.
    """
    config = config_for(config_path, db_path, reading=True)
    labels = Labels(_store(config))
    rows = list(_read_csv(path))
    refs: dict[str, list[StatementRef]] | None = None  # by article URL and by its path, read on first need
    known: set[str] = set()
    decided: dict[tuple[str, str], bool] = {}
    unmatched = []
    for line, row in rows:
        where = f"{path}:{line}"
        topic = row.get("topic", "").strip()
        if not topic:
            raise SaidwhatError(f"{where}: no topic; {CSV_HELP}")
        _check_topic(topic, config)
        label = parse_answer(row.get("label", ""), where)
        if row.get("statement_id", "").strip():
            ids = [row["statement_id"].strip()]
        elif row.get("url", "").strip() and row.get("quote_contains", "").strip():
            refs = _by_url(labels.statement_refs()) if refs is None else refs
            ids = _find(refs, row["url"].strip(), row["quote_contains"])
            known.update(ids)
        else:
            raise SaidwhatError(f"{where}: a row needs statement_id, or url and quote_contains; {CSV_HELP}")
        if not ids:
            unmatched.append(line)
        for sid in ids:
            decided[(sid, topic)] = decided.get((sid, topic), False) or label
    by_id = {sid for sid, _ in decided} - known
    stored = labels.known_statements(sorted(by_id)) if by_id else set()
    missing = by_id - stored
    unmatched += [line for line, row in rows if row.get("statement_id", "").strip() in missing]
    source = path.name
    recorded = labels.record(
        [TopicLabel(sid, topic, label, source) for (sid, topic), label in decided.items() if sid not in missing]
    )
    return ImportResult(len(rows), recorded, sorted(unmatched))


def _read_csv(path: Path) -> Iterable[tuple[int, dict[str, str]]]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise SaidwhatError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "topic" not in reader.fieldnames or "label" not in reader.fieldnames:
            raise SaidwhatError(f"{path}: the first line must name the columns: {CSV_HELP}")
        for row in reader:
            yield reader.line_num, {k: (v or "") for k, v in row.items() if k}


def _by_url(refs: list[StatementRef]) -> dict[str, list[StatementRef]]:
    by_url: dict[str, list[StatementRef]] = {}
    for ref in refs:
        by_url.setdefault(ref.url, []).append(ref)
        if ref.url_path != ref.url:
            by_url.setdefault(ref.url_path, []).append(ref)
    return by_url


def _find(refs: dict[str, list[StatementRef]], url: str, quote_contains: str) -> list[str]:
    """Statements of the article at ``url`` (a full URL, or only its path) whose quote contains the text."""
    needle = " ".join(quote_contains.split())
    key = url_path(url) if url.startswith("/") else url
    return [r.statement_id for r in refs.get(key, []) if needle in " ".join(r.quote.split())]


# ------------------------------------------------------------------ report
@dataclass(frozen=True, slots=True)
class TopicScore:
    topic: str
    labelled: int
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int
    stale: int  # labelled statements whose stored tags differ from the definition now (run retag)
    orphaned: int  # labels whose statement is no longer stored

    @property
    def precision(self) -> float | None:
        tagged = self.true_positives + self.false_positives
        return self.true_positives / tagged if tagged else None

    @property
    def recall(self) -> float | None:
        relevant = self.true_positives + self.false_negatives
        return self.true_positives / relevant if relevant else None


@dataclass(frozen=True, slots=True)
class Disagreement:
    topic: str
    statement_id: str
    label: bool
    tagged: bool
    speaker: str | None
    quote: str
    evidence: str


def explain(decision: TopicDecision) -> str:
    """Evidence as one line: 'about "summit" in quote; about "Moscow" in context'."""
    return "; ".join(f'{e.rule} "{e.phrase}" in {e.place}' for e in decision.evidence)


def topic_report(
    topic: str | None = None, config_path: str | None = None, db_path: str | None = None
) -> tuple[list[TopicScore], list[Disagreement]]:
    """Precision and recall of the current definition of each labelled topic (or ``topic``) against the labels."""
    config = config_for(config_path, db_path, reading=True)
    if topic:
        _check_topic(topic, config)
    labels = Labels(_store(config))
    statements, orphaned = labels.labelled(topic)
    labelled_topics = labels.topics()
    topics = [t for t in labelled_topics if t == topic or (not topic and t in {s.name for s in config.topics})]
    if not topics:
        which = f"topic {topic!r}" if topic else "any configured topic"
        raise SaidwhatError(
            f"no labels for {which}: record some with `saidwhat label STATEMENT_ID --topic T yes|no`"
            " or `saidwhat label --from FILE.csv`"
        )
    tagger = TopicTagger(config.topics)
    scores, disagreements = [], []
    for name in topics:
        counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
        stale = 0
        mine = [s for s in statements if s.topic == name]
        for s in mine:
            decision = _decide(tagger, s, name)
            key = ("t" if decision.tagged == s.label else "f") + ("p" if decision.tagged else "n")
            counts[key] += 1
            stale += decision.tagged != (name in s.stored_topics)
            if decision.tagged != s.label:
                disagreements.append(
                    Disagreement(name, s.statement_id, s.label, decision.tagged, s.speaker, s.quote, explain(decision))
                )
        scores.append(
            TopicScore(
                name, len(mine), counts["tp"], counts["fp"], counts["fn"], counts["tn"], stale, orphaned.get(name, 0)
            )
        )
    return scores, disagreements


def _decide(tagger: TopicTagger, s: LabelledStatement, topic: str) -> TopicDecision:
    context = StatementContext(s.quote, s.sentence, paragraph_around(s.text, s.sentence_start, s.sentence_end), s.title)
    return next(d for d in tagger.decide(context) if d.topic == topic)
