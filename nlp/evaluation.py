"""Quote-attribution metric (PolNeAR style), the project's own implementation.

It follows the metric described in the shared evaluation README and gives the
same figures as the reference scorer:

* gold tracks: ``speech`` (a speech cue and content of >= 4 words) and
  ``direct`` (content with a quoted segment of >= 3 words);
* a gold is *found* by a prediction covering >= 50% of its content
  (one-to-one greedy matching by overlap, speaker-correct pairs first);
* a prediction is *correct* when >= 50% of it lies in some gold content;
* the speaker is *right* when the speaker span overlaps the gold source, or
  the last word of the speaker name is a word of the gold source text
  (pronoun names get no name credit);
* end-to-end figures require both the quote and the speaker.

Gold and predictions are plain dicts so this module has no spaCy dependency.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saidwhat.core.errors import InputFileError

Span = tuple[int, int]

MIN_SPEECH_WORDS = 4
MIN_DIRECT_WORDS = 3
FOUND_FRAC = 0.5
CORRECT_FRAC = 0.5
TRACKS = ("speech", "direct")

# Speech cues (only used when a gold record lacks its is_speech flag): a cue
# counts as speech when its lowercased text contains one of these forms as a
# whole word, or "according to".
SPEECH_FORMS = frozenset(
    (
        "say",
        "says",
        "said",
        "saying",
        "tell",
        "tells",
        "told",
        "telling",
        "add",
        "adds",
        "added",
        "adding",
        "state",
        "states",
        "stated",
        "stating",
        "announce",
        "announces",
        "announced",
        "announcing",
        "claim",
        "claims",
        "claimed",
        "claiming",
        "argue",
        "argues",
        "argued",
        "arguing",
        "insist",
        "insists",
        "insisted",
        "insisting",
        "warn",
        "warns",
        "warned",
        "warning",
        "ask",
        "asks",
        "asked",
        "asking",
        "explain",
        "explains",
        "explained",
        "explaining",
        "note",
        "notes",
        "noted",
        "noting",
        "write",
        "writes",
        "wrote",
        "written",
        "writing",
        "tweet",
        "tweets",
        "tweeted",
        "tweeting",
        "post",
        "posts",
        "posted",
        "posting",
        "respond",
        "responds",
        "responded",
        "responding",
        "reply",
        "replies",
        "replied",
        "replying",
        "declare",
        "declares",
        "declared",
        "declaring",
        "deny",
        "denies",
        "denied",
        "denying",
        "acknowledge",
        "acknowledges",
        "acknowledged",
        "acknowledging",
        "admit",
        "admits",
        "admitted",
        "admitting",
        "suggest",
        "suggests",
        "suggested",
        "suggesting",
        "predict",
        "predicts",
        "predicted",
        "predicting",
        "promise",
        "promises",
        "promised",
        "promising",
        "vow",
        "vows",
        "vowed",
        "vowing",
        "urge",
        "urges",
        "urged",
        "urging",
        "describe",
        "describes",
        "described",
        "describing",
        "report",
        "reports",
        "reported",
        "reporting",
        "call",
        "calls",
        "called",
        "calling",
        "accuse",
        "accuses",
        "accused",
        "accusing",
        "criticize",
        "criticizes",
        "criticized",
        "criticizing",
        "repeat",
        "repeats",
        "repeated",
        "repeating",
        "recall",
        "recalls",
        "recalled",
        "recalling",
        "confirm",
        "confirms",
        "confirmed",
        "confirming",
        "stress",
        "stresses",
        "stressed",
        "stressing",
    )
)
PRONOUNS = frozenset(
    (
        "i",
        "me",
        "my",
        "we",
        "us",
        "our",
        "you",
        "your",
        "he",
        "him",
        "his",
        "she",
        "her",
        "it",
        "its",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "who",
        "whom",
        "someone",
        "somebody",
        "one",
    )
)
_OPEN_QUOTES, _CLOSE_QUOTES = '"\u201c', '"\u201d'
_QUOTED_RE = re.compile(f"[{_OPEN_QUOTES}]([^{_OPEN_QUOTES}{_CLOSE_QUOTES}]*)[{_CLOSE_QUOTES}]")
_WORD_RE = re.compile(r"\w")
_EDGE_RE = re.compile(r"^[^\w]+|[^\w]+$")
_POSSESSIVE_RE = re.compile(r"['\u2019]s$")


_SPEECH_RE = re.compile(
    r"\b(?:"
    + "|".join(sorted({re.escape(f) for f in SPEECH_FORMS} | {r"according\s+to"}, key=len, reverse=True))
    + r")\b"
)


# ---------------------------------------------------------------- span helpers
def merge_spans(spans: Iterable[Iterable[int]]) -> list[Span]:
    """Sorted, non-overlapping, non-empty spans covering the same characters."""
    out: list[list[int]] = []
    for s, e in sorted((int(a), int(b)) for a, b in spans):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def shared_chars(a: list[Span], b: list[Span]) -> int:
    return sum(max(0, min(e, be) - max(s, bs)) for s, e in a for bs, be in b)


def total_len(spans: list[Span]) -> int:
    return sum(e - s for s, e in spans)


def count_words(text: str) -> int:
    return sum(1 for tok in text.split() if _WORD_RE.search(tok))


def has_quoted_segment(text: str, min_words: int = MIN_DIRECT_WORDS) -> bool:
    return any(count_words(m.group(1)) >= min_words for m in _QUOTED_RE.finditer(text))


def is_speech_cue(cue_text: str) -> bool:
    return bool(_SPEECH_RE.search(cue_text.lower()))


def _norm_word(token: str) -> str:
    token = _EDGE_RE.sub("", token.lower())
    return _EDGE_RE.sub("", _POSSESSIVE_RE.sub("", token))


def source_words(text: str) -> set[str]:
    words: set[str] = set()
    for token in text.split():
        word = _norm_word(token)
        if word:
            words.add(word)
            words.update(re.findall(r"\w+", word))
    return words


def name_key(name: Any) -> str | None:
    """Last word of a speaker name, normalised; None for empty names and pronouns."""
    if not isinstance(name, str) or not name.split():
        return None
    key = _norm_word(name.split()[-1])
    return key if key and key not in PRONOUNS else None


# ---------------------------------------------------------------- records
@dataclass
class Gold:
    """One gold attribution, with the derived spans the metric needs."""

    source: list[Span]
    content: list[Span]
    source_text: str
    content_text: str
    is_speech: bool
    is_direct: bool
    cue_text: str = ""
    words: set[str] = field(default_factory=set)

    @property
    def content_len(self) -> int:
        return total_len(self.content)

    def in_track(self, track: str) -> bool:
        if not self.content:
            return False
        if track == "speech":
            return self.is_speech and count_words(self.content_text) >= MIN_SPEECH_WORDS
        return self.is_direct


@dataclass
class GoldDoc:
    id: str
    text: str
    golds: list[Gold]


@dataclass
class Pred:
    """One predicted statement as the metric sees it."""

    quote: list[Span]
    speaker_span: Span | None
    speaker: str | None
    line: int = 0
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str | None:
        return name_key(self.speaker)

    @property
    def length(self) -> int:
        return total_len(self.quote)


def _text_of(text: str, spans: list[Span]) -> str:
    return " ".join(text[s:e] for s, e in spans)


def gold_doc_from_json(obj: dict[str, Any]) -> GoldDoc:
    """A gold document from one line of the gold JSONL."""
    text = obj["text"]
    golds = []
    for a in obj.get("attributions", []):
        norm = sorted({(int(s), int(e)) for s, e in a.get("source", []) if int(e) > int(s)})
        content = sorted({(int(s), int(e)) for s, e in a.get("content", []) if int(e) > int(s)})
        cue = sorted({(int(s), int(e)) for s, e in a.get("cue", []) if int(e) > int(s)})
        source_text, content_text = _text_of(text, norm), _text_of(text, content)
        cue_text = _text_of(text, cue)
        is_direct = bool(a["is_direct"]) if "is_direct" in a else has_quoted_segment(content_text)
        is_speech = bool(a["is_speech"]) if "is_speech" in a else is_speech_cue(cue_text)
        golds.append(
            Gold(
                merge_spans(norm),
                merge_spans(content),
                source_text,
                content_text,
                is_speech,
                is_direct,
                cue_text,
                source_words(source_text),
            )
        )
    return GoldDoc(obj["id"], text, golds)


def load_gold(path: Path, limit: int | None = None) -> list[GoldDoc]:
    """The gold documents of a JSONL file; a line that is not one is an InputFileError naming it."""
    fix = "give the gold JSONL that export_jsonl.py writes (one object per line: id, text, attributions)"
    docs = []
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            where = f"{path} line {lineno}"
            try:
                docs.append(gold_doc_from_json(json.loads(raw.decode("utf-8"))))
            except UnicodeDecodeError:
                raise InputFileError(f"{where}: not UTF-8 text: {fix}") from None
            except json.JSONDecodeError as exc:
                raise InputFileError(f"{where}: not valid JSON ({exc.msg}): {fix}") from None
            except KeyError as exc:
                raise InputFileError(f"{where}: no {exc} field: {fix}") from None
            except (AttributeError, TypeError, ValueError):
                raise InputFileError(f"{where}: not a gold document: {fix}") from None
            if limit is not None and len(docs) >= limit:
                break
    return docs


class PredictionError(ValueError):
    """A malformed prediction line."""


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def pred_from_json(obj: dict[str, Any], text_len: int, where: str = "prediction") -> Pred:
    """Validate one prediction object (same rules as the reference scorer)."""
    qs, qe = obj.get("quote_start"), obj.get("quote_end")
    if not (_int(qs) and _int(qe)) or not 0 <= qs < qe:
        raise PredictionError(f"{where}: need integers 0 <= quote_start < quote_end")
    ss, se = obj.get("speaker_start"), obj.get("speaker_end")
    if (ss is None) != (se is None):
        raise PredictionError(f"{where}: give both speaker_start and speaker_end, or neither")
    if ss is not None and (not (_int(ss) and _int(se)) or not 0 <= ss < se):
        raise PredictionError(f"{where}: need integers 0 <= speaker_start < speaker_end")
    pieces = obj.get("quote_spans")
    if pieces is not None:
        if (
            not isinstance(pieces, list)
            or not pieces
            or not all(
                isinstance(p, list) and len(p) == 2 and _int(p[0]) and _int(p[1]) and qs <= p[0] < p[1] <= qe
                for p in pieces
            )
        ):
            raise PredictionError(f"{where}: bad quote_spans")
        quote = merge_spans(pieces)
    else:
        quote = [(qs, qe)]
    speaker = obj.get("speaker")
    if speaker is not None and not isinstance(speaker, str):
        raise PredictionError(f"{where}: 'speaker' must be a string or null")
    if qe > text_len or (se is not None and se > text_len):
        raise PredictionError(f"{where}: offsets beyond the end of the text ({text_len} chars)")
    return Pred(quote, (ss, se) if ss is not None else None, speaker, data=obj)


def doc_key(value: str, ids: set[str] | dict[str, Any]) -> str:
    """A prediction's ``doc`` as a gold id: the id itself, a file name or a path stem."""
    if value in ids:
        return value
    name = Path(value).name
    return name if name in ids else Path(name).stem


def read_predictions(path: Path, docs: list[GoldDoc]) -> tuple[dict[str, list[Pred]], int]:
    """Predictions grouped by gold doc id, and how many named unknown documents."""
    by_id = {d.id: d for d in docs}
    grouped: dict[str, list[Pred]] = {d.id: [] for d in docs}
    ignored = 0
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path} line {lineno}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise PredictionError(f"{where}: not valid JSON ({exc.msg})") from None
            if not isinstance(obj, dict) or not isinstance(obj.get("doc"), str) or not obj["doc"]:
                raise PredictionError(f"{where}: expected an object with a non-empty 'doc'")
            key = doc_key(obj["doc"], by_id)
            if key not in by_id:
                ignored += 1
                continue
            pred = pred_from_json(obj, len(by_id[key].text), where)
            pred.line = lineno
            grouped[key].append(pred)
    return grouped, ignored


# ---------------------------------------------------------------- scoring
def speaker_right(pred: Pred, gold: Gold) -> bool:
    if not gold.source:
        return False
    if pred.speaker_span is not None and shared_chars([pred.speaker_span], gold.source) >= 1:
        return True
    key = pred.key
    return key is not None and key in gold.words


def greedy_match(preds: list[Pred], golds: list[Gold]) -> list[tuple[Pred, Gold]]:
    """One-to-one pairs with overlap >= 50% of the gold, largest overlap first."""
    candidates = []
    for pi, pred in enumerate(preds):
        for gi, gold in enumerate(golds):
            ov = shared_chars(pred.quote, gold.content)
            if ov > 0 and ov >= FOUND_FRAC * gold.content_len:
                candidates.append((-ov, not speaker_right(pred, gold), pi, gi))
    candidates.sort()
    used_p, used_g, pairs = set(), set(), []
    for _, _, pi, gi in candidates:
        if pi not in used_p and gi not in used_g:
            used_p.add(pi)
            used_g.add(gi)
            pairs.append((preds[pi], golds[gi]))
    return pairs


@dataclass
class DocOutcome:
    """Per-document verdicts, used for the error breakdown."""

    correct: list[bool] = field(default_factory=list)  # per prediction
    e2e_correct: list[bool] = field(default_factory=list)  # per prediction
    matched: dict[int, tuple[Pred, bool]] = field(default_factory=dict)  # gold index -> (pred, speaker right)


def _reference_golds(pred: Pred, golds: list[Gold]) -> list[Gold]:
    overlaps = [(shared_chars(pred.quote, g.content), g) for g in golds]
    ref = [g for ov, g in overlaps if ov > 0 and (ov >= FOUND_FRAC * g.content_len or ov >= CORRECT_FRAC * pred.length)]
    return ref or [max(overlaps, key=lambda x: x[0])[1]]


def score_doc(doc: GoldDoc, preds: list[Pred], res: dict[str, Any]) -> DocOutcome:
    """Add one document's counts to ``res``; returns its verdicts."""
    outcome = DocOutcome()
    golds = [g for g in doc.golds if g.content_len > 0]
    all_content = merge_spans([s for g in golds for s in g.content])
    res["n_pred"] += len(preds)
    for pred in preds:
        correct = shared_chars(pred.quote, all_content) >= CORRECT_FRAC * pred.length
        e2e = correct and any(not g.source or speaker_right(pred, g) for g in _reference_golds(pred, golds))
        outcome.correct.append(correct)
        outcome.e2e_correct.append(e2e)
        res["n_pred_correct"] += correct
        res["n_pred_e2e_correct"] += e2e
    for track in TRACKS:
        in_track = [g for g in golds if g.in_track(track)]
        res[f"{track}_gold"] += len(in_track)
        for pred, gold in greedy_match(preds, in_track):
            res[f"{track}_found"] += 1
            if not gold.source:
                res[f"{track}_found_with_speaker"] += 1
                continue
            ok = speaker_right(pred, gold)
            res[f"{track}_speaker_pairs"] += 1
            res[f"{track}_speaker_correct"] += ok
            res[f"{track}_found_with_speaker"] += ok
    union = [g for g in golds if g.in_track("speech") or g.in_track("direct")]
    index = {id(g): i for i, g in enumerate(golds)}
    for pred, gold in greedy_match(preds, union):
        ok = speaker_right(pred, gold)
        outcome.matched[index[id(gold)]] = (pred, ok)
        if gold.source:
            res["speaker_pairs"] += 1
            res["speaker_correct"] += ok
    return outcome


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def new_result(n_docs: int) -> dict[str, Any]:
    res: dict[str, Any] = {
        "n_docs": n_docs,
        "n_pred": 0,
        "n_pred_correct": 0,
        "n_pred_e2e_correct": 0,
        "speaker_pairs": 0,
        "speaker_correct": 0,
    }
    for track in TRACKS:
        for key in ("gold", "found", "found_with_speaker", "speaker_pairs", "speaker_correct"):
            res[f"{track}_{key}"] = 0
    return res


def finish(res: dict[str, Any]) -> dict[str, Any]:
    """Turn counts into precision, recall, F1 and accuracies."""
    n = res["n_pred"]
    res["quote_precision"] = res["n_pred_correct"] / n if n else 0.0
    res["e2e_precision"] = res["n_pred_e2e_correct"] / n if n else 0.0
    for track in TRACKS:
        gold = res[f"{track}_gold"]
        recall = res[f"{track}_found"] / gold if gold else 0.0
        e2e_recall = res[f"{track}_found_with_speaker"] / gold if gold else 0.0
        res[f"{track}_recall"], res[f"{track}_f1"] = recall, _f1(res["quote_precision"], recall)
        res[f"e2e_{track}_recall"], res[f"e2e_{track}_f1"] = e2e_recall, _f1(res["e2e_precision"], e2e_recall)
        pairs = res[f"{track}_speaker_pairs"]
        res[f"{track}_speaker_acc"] = res[f"{track}_speaker_correct"] / pairs if pairs else 0.0
    pairs = res["speaker_pairs"]
    res["speaker_acc"] = res["speaker_correct"] / pairs if pairs else 0.0
    return res


def score(docs: list[GoldDoc], preds: dict[str, list[Pred]]) -> dict[str, Any]:
    """All figures for predictions grouped by document id."""
    res = new_result(len(docs))
    for doc in docs:
        score_doc(doc, preds.get(doc.id, []), res)
    return finish(res)


def summary_line(res: dict[str, Any]) -> str:
    return (
        f"speech_f1={res['speech_f1']:.3f} direct_f1={res['direct_f1']:.3f} "
        f"speaker_acc={res['speaker_acc']:.3f} e2e_speech_f1={res['e2e_speech_f1']:.3f} "
        f"e2e_direct_f1={res['e2e_direct_f1']:.3f} n_pred={res['n_pred']}"
    )


# ---------------------------------------------------------------- error analysis
@dataclass(frozen=True)
class ErrorCase:
    """One error: a missed or wrongly attributed gold, or a spurious prediction."""

    doc_id: str
    error: str  # "missed", "wrong_speaker" or "spurious"
    kind: str  # statement kind of the prediction, or the gold track
    span: Span
    detail: str


def _gold_kind(gold: Gold) -> str:
    return "direct" if gold.is_direct else "speech"


def error_cases(doc: GoldDoc, preds: list[Pred], outcome: DocOutcome) -> Iterator[ErrorCase]:
    """Errors of one scored document, for the breakdown and the samples."""
    golds = [g for g in doc.golds if g.content_len > 0]
    for gi, gold in enumerate(golds):
        if not (gold.in_track("speech") or gold.in_track("direct")):
            continue
        span = (gold.content[0][0], gold.content[-1][1])
        if gi not in outcome.matched:
            yield ErrorCase(
                doc.id, "missed", _gold_kind(gold), span, f"gold source={gold.source_text!r} cue={gold.cue_text!r}"
            )
        elif gold.source and not outcome.matched[gi][1]:
            pred = outcome.matched[gi][0]
            yield ErrorCase(
                doc.id,
                "wrong_speaker",
                pred.data.get("kind", "?"),
                span,
                f"pred speaker={pred.speaker!r} mention={pred.data.get('speaker_mention')!r} "
                f"gold source={gold.source_text!r}",
            )
    for pred, correct in zip(preds, outcome.correct, strict=True):
        if not correct:
            span = (pred.quote[0][0], pred.quote[-1][1])
            yield ErrorCase(
                doc.id,
                "spurious",
                pred.data.get("kind", "?"),
                span,
                f"pred speaker={pred.speaker!r} cue={pred.data.get('cue')!r}",
            )


@dataclass
class Report:
    """Figures plus the breakdowns ``saidwhat eval`` prints."""

    figures: dict[str, Any]
    errors: list[ErrorCase]
    by_kind: dict[str, dict[str, int]]  # kind -> {"n", "correct", "e2e_correct"}
    # rule -> {"n", "correct", "e2e_correct", "found", "e2e_found"}; found counts speech+direct gold
    # matched by a prediction of the rule (e2e: with the right speaker), so recall per rule adds up.
    by_rule: dict[str, dict[str, int]] = field(default_factory=dict)
    union_gold: int = 0  # speech+direct gold attributions (the denominator of recall per rule)


def evaluate(docs: list[GoldDoc], preds: dict[str, list[Pred]]) -> Report:
    """Score and collect the per-kind counts and every error case."""
    res = new_result(len(docs))
    errors: list[ErrorCase] = []
    by_kind: dict[str, dict[str, int]] = {}
    by_rule: dict[str, dict[str, int]] = {}
    union_gold = 0
    for doc in docs:
        doc_preds = preds.get(doc.id, [])
        outcome = score_doc(doc, doc_preds, res)
        errors.extend(error_cases(doc, doc_preds, outcome))
        for pred, correct, e2e in zip(doc_preds, outcome.correct, outcome.e2e_correct, strict=True):
            counts = by_kind.setdefault(str(pred.data.get("kind", "?")), {"n": 0, "correct": 0, "e2e_correct": 0})
            counts["n"] += 1
            counts["correct"] += correct
            counts["e2e_correct"] += e2e
            rule = by_rule.setdefault(_rule_of(pred), dict.fromkeys(_RULE_COUNTS, 0))
            rule["n"] += 1
            rule["correct"] += correct
            rule["e2e_correct"] += e2e
        golds = [g for g in doc.golds if g.content_len > 0]
        union_gold += sum(1 for g in golds if g.in_track("speech") or g.in_track("direct"))
        for gi, (pred, speaker_ok) in outcome.matched.items():
            rule = by_rule.setdefault(_rule_of(pred), dict.fromkeys(_RULE_COUNTS, 0))
            rule["found"] += 1
            rule["e2e_found"] += speaker_ok or not golds[gi].source
    return Report(finish(res), errors, by_kind, by_rule, union_gold)


_RULE_COUNTS = ("n", "correct", "e2e_correct", "found", "e2e_found")


def _rule_of(pred: Pred) -> str:
    return str(pred.data.get("rule") or "?")
