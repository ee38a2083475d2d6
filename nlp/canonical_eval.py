"""The canonical-speaker metric of ``news-dev`` (``score_canonical.py``), the project's own implementation.

The gold is one statement per line (``doc``, ``quote``, ``quote_start``, ``quote_end``,
``speaker``, ``required``, ...) with the texts in ``texts/<doc>.txt`` beside the gold
file.  It gives the same figures as the reference scorer in ``--mode spans``:

* recall = required gold items found by a prediction with the right speaker / required items,
  where *found* means the overlap is >= 50% of the gold and >= 50% of the prediction
  (a split quote is scored by its best piece);
* precision = predictions that match a gold item (required or optional: overlap >= 50% of the
  prediction and >= 30% of the gold, right speaker) / predictions; each gold item credits at
  most one prediction, so duplicates count as wrong;
* the speaker is right when the gold name is contained in the predicted one, or both end in the
  same word of more than two letters.

On top of the reference figures it classifies every error (missed, wrong speaker, wrong span,
duplicate, spurious) and counts predictions and found items per extraction rule.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saidwhat.core.errors import InputFileError

Span = tuple[int, int]
_WORD_RE = re.compile(r"[\w']+")
FOUND_FRAC = 0.5  # of the gold and of the prediction, for recall
PRED_FRAC = 0.5  # of the prediction, for precision
GOLD_FRAC = 0.3  # of the gold, for precision
TEXTS_FOLDER = "texts"


def is_canonical_gold(path: Path) -> bool:
    """True when the first object of ``path`` is a canonical-gold statement (not a PolNeAR document)."""
    with open(path, "rb") as fh:
        for raw in fh:
            if raw.strip():
                try:
                    obj = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    return False  # load_gold names the bad line
                return isinstance(obj, dict) and "quote_start" in obj and "speaker" in obj and "text" not in obj
    return False


@dataclass(frozen=True)
class GoldItem:
    doc: str
    quote: str
    start: int
    end: int
    speaker: str
    required: bool
    kind: str = ""


@dataclass
class CanonicalGold:
    """The gold items and the texts they point into."""

    items: list[GoldItem]
    texts: dict[str, str]  # doc id -> text, in gold order

    def items_of(self, doc: str) -> list[GoldItem]:
        return [g for g in self.items if g.doc == doc]


def load_canonical_gold(path: Path, limit: int | None = None) -> CanonicalGold:
    """Gold items of ``path`` and the texts in ``texts/`` beside it; a bad line is an InputFileError."""
    fix = "give a canonical gold JSONL (doc, quote, quote_start, quote_end, speaker, required) with texts/<doc>.txt"
    items: list[GoldItem] = []
    texts: dict[str, str] = {}
    folder = path.parent / TEXTS_FOLDER
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            where = f"{path} line {lineno}"
            try:
                obj = json.loads(raw.decode("utf-8"))
                item = GoldItem(
                    str(obj["doc"]), str(obj["quote"]), int(obj["quote_start"]), int(obj["quote_end"]),
                    str(obj["speaker"]), bool(obj["required"]), str(obj.get("kind", "")),
                )  # fmt: skip
            except UnicodeDecodeError:
                raise InputFileError(f"{where}: not UTF-8 text: {fix}") from None
            except json.JSONDecodeError as exc:
                raise InputFileError(f"{where}: not valid JSON ({exc.msg}): {fix}") from None
            except KeyError as exc:
                raise InputFileError(f"{where}: no {exc} field: {fix}") from None
            except (AttributeError, TypeError, ValueError):
                raise InputFileError(f"{where}: not a gold statement: {fix}") from None
            if item.doc not in texts:
                if limit is not None and len(texts) >= limit:
                    break
                text_path = folder / f"{item.doc}.txt"
                if not text_path.is_file():
                    raise InputFileError(f"{where}: no text {text_path}: the texts go in {folder}/<doc>.txt")
                with text_path.open(encoding="utf-8", newline="") as text_file:
                    texts[item.doc] = text_file.read()
            items.append(item)
    return CanonicalGold(items, texts)


# ---------------------------------------------------------------- the reference rules
def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD_RE.findall(text.replace("’", "'"))]


def speaker_ok(gold: str, pred: str | None) -> bool:
    """The gold name inside the predicted one, or the same last word of more than two letters."""
    if not pred:
        return False
    g, p = gold.lower(), pred.lower()
    if g in p:
        return True
    gw, pw = _words(g), _words(p)
    return bool(gw and pw and gw[-1] == pw[-1] and len(gw[-1]) > 2)


def _pieces(pred: dict[str, Any]) -> list[Span]:
    return [tuple(p) for p in pred.get("quote_spans") or [[pred["quote_start"], pred["quote_end"]]]]


def overlap(gold: GoldItem, pred: dict[str, Any]) -> tuple[float, float]:
    """(share of the gold, share of the prediction) covered, by the best piece of a split quote."""

    def one(start: int, end: int) -> tuple[float, float]:
        shared = max(0, min(gold.end, end) - max(gold.start, start))
        return shared / max(1, gold.end - gold.start), shared / max(1, end - start)

    return max((one(s, e) for s, e in _pieces(pred)), key=min)


# ---------------------------------------------------------------- scoring
@dataclass(frozen=True)
class CanonicalError:
    doc: str
    error: str  # missed, wrong_speaker, wrong_span (gold side); wrong_speaker, wrong_span, duplicate, spurious
    side: str  # "gold" (a required item not found) or "prediction" (a prediction not credited)
    rule: str  # the prediction's rule, or "-" for a missed gold item
    span: Span
    detail: str


@dataclass
class CanonicalReport:
    figures: dict[str, Any]
    errors: list[CanonicalError] = field(default_factory=list)
    by_rule: dict[str, dict[str, int]] = field(default_factory=dict)  # rule -> {"n", "good", "found"}


def _rule(pred: dict[str, Any]) -> str:
    return str(pred.get("rule") or "?")


def score_canonical(gold: CanonicalGold, preds: list[dict[str, Any]]) -> CanonicalReport:
    """Recall, precision and F1 as ``score_canonical.py --mode spans``, plus the breakdowns."""
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for pred in preds:
        by_doc.setdefault(Path(str(pred.get("doc", ""))).name.split(".")[0], []).append(pred)
    by_rule: dict[str, dict[str, int]] = {}
    for pred in preds:
        by_rule.setdefault(_rule(pred), {"n": 0, "good": 0, "found": 0})["n"] += 1
    errors: list[CanonicalError] = []
    required = [g for g in gold.items if g.required]
    found = 0
    for g in required:
        doc_preds = by_doc.get(g.doc, [])
        hits = [p for p in doc_preds if min(overlap(g, p)) >= FOUND_FRAC and speaker_ok(g.speaker, p.get("speaker"))]
        if hits:
            found += 1
            by_rule[_rule(hits[0])]["found"] += 1
            continue
        span_hits = [p for p in doc_preds if min(overlap(g, p)) >= FOUND_FRAC]
        touching = [p for p in doc_preds if max(overlap(g, p)) > 0]
        if span_hits:
            p = span_hits[0]
            error, detail = "wrong_speaker", f"predicted {p.get('speaker')!r}, gold {g.speaker!r}"
        elif touching:
            p = touching[0]
            error, detail = "wrong_span", f"predicted {p.get('quote', '')[:80]!r} ({p.get('speaker')!r})"
        else:
            p, error, detail = None, "missed", f"gold speaker {g.speaker!r}"
        errors.append(CanonicalError(g.doc, error, "gold", _rule(p) if p else "-", (g.start, g.end), detail))
    good = 0
    for doc, doc_preds in by_doc.items():
        items = gold.items_of(doc)
        used: set[int] = set()  # one-to-one: a gold item credits at most one prediction
        for p in doc_preds:
            hit = next(
                (
                    i
                    for i, g in enumerate(items)
                    if i not in used
                    and overlap(g, p)[1] >= PRED_FRAC
                    and overlap(g, p)[0] >= GOLD_FRAC
                    and speaker_ok(g.speaker, p.get("speaker"))
                ),
                None,
            )
            if hit is not None:
                used.add(hit)
                good += 1
                by_rule[_rule(p)]["good"] += 1
                continue
            errors.append(_prediction_error(doc, p, items, used))
    recall = found / max(1, len(required))
    precision = good / len(preds) if preds else 0.0
    f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
    figures = {
        "recall": recall, "precision": precision, "f1": f1, "n_pred": len(preds), "n_gold": len(required),
        "found": found, "good": good, "n_docs": len(gold.texts),
    }  # fmt: skip
    return CanonicalReport(figures, errors, by_rule)


def _prediction_error(doc: str, p: dict[str, Any], items: list[GoldItem], used: set[int]) -> CanonicalError:
    span_match = [
        (i, g) for i, g in enumerate(items) if overlap(g, p)[1] >= PRED_FRAC and overlap(g, p)[0] >= GOLD_FRAC
    ]
    right = [i for i, g in span_match if speaker_ok(g.speaker, p.get("speaker"))]
    span = (int(p["quote_start"]), int(p["quote_end"]))
    said = f"predicted {p.get('speaker')!r}"
    if right:  # every gold item it matches already credits another prediction
        return CanonicalError(doc, "duplicate", "prediction", _rule(p), span, f"{said}, a duplicate")
    if span_match:
        detail = f"{said}, gold {span_match[0][1].speaker!r}"
        return CanonicalError(doc, "wrong_speaker", "prediction", _rule(p), span, detail)
    if any(max(overlap(g, p)) > 0 for g in items):
        return CanonicalError(doc, "wrong_span", "prediction", _rule(p), span, f"{said}, the span differs")
    return CanonicalError(doc, "spurious", "prediction", _rule(p), span, f"{said}, no gold statement here")


def canonical_summary(fig: dict[str, Any]) -> str:
    """The reference scorer's last line."""
    return (
        f"recall={fig['recall']:.3f} precision={fig['precision']:.3f} f1={fig['f1']:.3f} "
        f"n_pred={fig['n_pred']} n_gold={fig['n_gold']}"
    )


def error_counts(report: CanonicalReport) -> Counter[tuple[str, str]]:
    """(side, error) -> count."""
    return Counter((e.side, e.error) for e in report.errors)
