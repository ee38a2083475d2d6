"""`saidwhat eval` on a canonical-speaker gold (news-dev): the figures of score_canonical.py, plus the
breakdown by error type and by rule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from saidwhat.nlp.canonical_eval import canonical_summary, is_canonical_gold, load_canonical_gold, score_canonical
from tests.conftest import run_cli
from tests.nlp.conftest import shared_file

TEXT = (
    '"We will win," Mary Smith said. "And we will win big."\n\n'
    "The ministry said the crossing would reopen. Two officials said the talks had stalled."
)
GOLD = [
    {"doc": "d1", "quote": '"We will win,"', "quote_start": 0, "quote_end": 14, "speaker": "Mary Smith",
     "required": True},
    {"doc": "d1", "quote": '"And we will win big."', "quote_start": 32, "quote_end": 54, "speaker": "Mary Smith",
     "required": True},
    {"doc": "d1", "quote": "the crossing would reopen", "quote_start": 74, "quote_end": 99,
     "speaker": "the ministry", "required": True},
    {"doc": "d1", "quote": "the talks had stalled", "quote_start": 119, "quote_end": 140,
     "speaker": "two officials", "required": False},
]  # fmt: skip


def _pred(start: int, end: int, speaker: str | None, rule: str, pieces: list[list[int]] | None = None) -> dict:
    obj = {"doc": "texts/d1.txt", "quote_start": start, "quote_end": end, "speaker": speaker, "rule": rule}
    if pieces:
        obj["quote_spans"] = pieces
    return obj


PREDS = [
    _pred(0, 54, "Mary Smith", "quote_cue", [[0, 14], [32, 54]]),  # one split quote finds both pieces
    _pred(0, 14, "Mary Smith", "quote_cue"),  # a duplicate: the gold item already credits one prediction
    _pred(74, 99, "Russia", "clause"),  # wrong speaker
    _pred(119, 140, "two officials", "clause"),  # an optional item: right, not required
    _pred(100, 118, "Peskov", "clause"),  # nothing there
]


def _write(folder: Path) -> Path:
    (folder / "texts").mkdir()
    (folder / "texts" / "d1.txt").write_text(TEXT, encoding="utf-8")
    gold = folder / "gold.jsonl"
    gold.write_text("".join(json.dumps(g) + "\n" for g in GOLD), encoding="utf-8")
    return gold


def test_gold_format_is_detected_from_the_file(tmp_path: Path) -> None:
    gold = _write(tmp_path)
    assert is_canonical_gold(gold)
    polnear = tmp_path / "polnear.jsonl"
    polnear.write_text('{"id": "a", "text": "x", "attributions": []}\n', encoding="utf-8")
    assert not is_canonical_gold(polnear)


def test_hand_made_case_scores_like_the_reference(tmp_path: Path) -> None:
    gold = _write(tmp_path)
    report = score_canonical(load_canonical_gold(gold), PREDS)
    fig = report.figures
    assert (fig["found"], fig["n_gold"], fig["good"], fig["n_pred"]) == (2, 3, 2, 5)
    errors = {(e.side, e.error) for e in report.errors}
    assert errors == {
        ("gold", "wrong_speaker"), ("prediction", "duplicate"), ("prediction", "wrong_speaker"),
        ("prediction", "spurious"),
    }  # fmt: skip
    assert report.by_rule["quote_cue"] == {"n": 2, "good": 1, "found": 2}
    assert report.by_rule["clause"] == {"n": 3, "good": 1, "found": 0}

    scorer = shared_file("eval", "score_canonical.py")
    pred = tmp_path / "pred.jsonl"
    pred.write_text("".join(json.dumps(p) + "\n" for p in PREDS), encoding="utf-8")
    ref = subprocess.run(
        [sys.executable, str(scorer), "--gold", str(gold), "--pred", str(pred)], capture_output=True, text=True
    )
    assert ref.stdout.strip().splitlines()[-1] == canonical_summary(fig)


def test_eval_on_news_dev_gives_the_reference_figures(tmp_path: Path) -> None:
    """Five news-dev articles through `saidwhat eval`: its last line is score_canonical.py's on its predictions."""
    source = shared_file("eval", "news-dev", "gold.jsonl")
    scorer = shared_file("eval", "score_canonical.py")
    lines = source.read_text(encoding="utf-8").splitlines()
    docs = list(dict.fromkeys(json.loads(line)["doc"] for line in lines))[:5]
    (tmp_path / "texts").mkdir()
    for doc in docs:
        text = (source.parent / "texts" / f"{doc}.txt").read_bytes()
        (tmp_path / "texts" / f"{doc}.txt").write_bytes(text)
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(line + "\n" for line in lines if json.loads(line)["doc"] in docs), encoding="utf-8")
    pred = tmp_path / "pred.jsonl"

    result = run_cli("eval", "--gold", str(gold), "--pred-out", str(pred), "--errors", "3")
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "Errors by type" in out and "Precision and recall by rule" in out
    ref = subprocess.run(
        [sys.executable, str(scorer), "--gold", str(gold), "--pred", str(pred)], capture_output=True, text=True
    )
    ours = out.strip().splitlines()[-1]
    assert ours == ref.stdout.strip().splitlines()[-1]
    assert "n_pred=0" not in ours
    rules = {json.loads(line)["rule"] for line in pred.read_text(encoding="utf-8").splitlines()}
    assert rules and None not in rules
