"""The project's metric against hand-made cases and against the reference scorer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from saidwhat.nlp.evaluation import (
    GoldDoc,
    evaluate,
    gold_doc_from_json,
    name_key,
    pred_from_json,
    read_predictions,
    score,
)
from tests.nlp.conftest import shared_file

TEXT = 'Putin said, "Next time in Moscow, my friend." Aides said the trip was likely to happen.'


def _gold() -> GoldDoc:
    return gold_doc_from_json(
        {
            "id": "d1",
            "text": TEXT,
            "attributions": [
                {"source": [[0, 5]], "cue": [[6, 10]], "content": [[12, 45]]},
                {"source": [[46, 51]], "cue": [[52, 56]], "content": [[57, 86]]},
            ],
        }
    )


def _pred(qs: int, qe: int, speaker: str | None = None, span: tuple[int, int] | None = None):
    obj = {"doc": "d1", "quote_start": qs, "quote_end": qe, "speaker": speaker}
    if span:
        obj.update(speaker_start=span[0], speaker_end=span[1])
    return pred_from_json(obj, len(TEXT))


def test_flags_computed_from_text() -> None:
    direct, indirect = _gold().golds
    assert direct.is_direct and direct.is_speech
    assert not indirect.is_direct and indirect.in_track("speech")


def test_perfect_predictions_score_one() -> None:
    res = score([_gold()], {"d1": [_pred(12, 45, span=(0, 5)), _pred(57, 86, speaker="aides")]})
    for key in ("speech_f1", "direct_f1", "speaker_acc", "e2e_speech_f1", "e2e_direct_f1"):
        assert res[key] == 1.0, key


def test_pronoun_names_get_no_credit() -> None:
    assert name_key("he") is None
    assert name_key("Donald Trump's") == "trump"
    res = score([_gold()], {"d1": [_pred(12, 45, speaker="he")]})
    assert res["speaker_acc"] == 0.0 and res["direct_f1"] == 1.0


def test_spurious_prediction_lowers_precision() -> None:
    res = score([_gold()], {"d1": [_pred(12, 45, "Putin"), _pred(0, 10, "Putin")]})
    assert res["quote_precision"] == 0.5


def test_same_figures_as_reference_scorer(tmp_path: Path) -> None:
    """`saidwhat eval` on a few documents prints the figures score.py computes from its predictions."""
    gold_src = shared_file("eval", "polnear-train.jsonl")
    scorer = shared_file("eval", "score.py")
    typer = pytest.importorskip("typer")
    from typer.testing import CliRunner

    from saidwhat.cli.eval import eval_command

    gold = tmp_path / "gold.jsonl"
    with open(gold_src, encoding="utf-8") as src, open(gold, "w", encoding="utf-8") as out:
        for _, line in zip(range(6), src, strict=False):
            out.write(line)
    pred = tmp_path / "pred.jsonl"
    app = typer.Typer()
    app.command("eval")(eval_command)
    app.command("noop")(lambda: None)  # keep "eval" a subcommand
    result = CliRunner().invoke(app, ["eval", "--gold", str(gold), "--pred-out", str(pred), "--errors", "2"])
    assert result.exit_code == 0, result.output
    assert "Precision and recall by rule" in result.output and "quote_cue" in result.output
    ours = result.output.strip().splitlines()[-1]

    ref = subprocess.run(
        [sys.executable, str(scorer), "--gold", str(gold), "--pred", str(pred)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert ours == ref.stdout.strip().splitlines()[-1]
    assert "n_pred=0" not in ours

    ref_json = json.loads(
        subprocess.run(
            [sys.executable, str(scorer), "--gold", str(gold), "--pred", str(pred), "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    docs = [gold_doc_from_json(json.loads(line)) for line in gold.read_text(encoding="utf-8").splitlines()]
    preds, ignored = read_predictions(pred, docs)
    figures = evaluate(docs, preds).figures
    assert ignored == 0
    for key, value in figures.items():
        assert ref_json[key] == pytest.approx(value), key


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"id": "a", "text": "x", "attributions": []}\n\xff\xfe\n', "line 2: not UTF-8 text"),
        (b"\x00\x01garbage\n", "line 1: not valid JSON"),
        (b'{"id": "a", "attributions": []}\n', "line 1: no 'text' field"),
        (b"[1, 2]\n", "line 1: not a gold document"),
    ],
)
def test_eval_names_the_bad_line_of_a_gold_file(tmp_path: Path, content: bytes, message: str) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_bytes(content)
    result = subprocess.run(
        [sys.executable, "-m", "saidwhat", "eval", "--gold", str(gold)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0] and "export_jsonl.py" in lines[0], result.stderr


def test_eval_checks_pred_out_before_running_the_model(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "a", "text": "Peskov said no.", "attributions": []}\n', encoding="utf-8")
    pred_out = tmp_path / "a-folder"
    pred_out.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "saidwhat", "eval", "--gold", str(gold), "--pred-out", str(pred_out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot write this file" in lines[0] and "give another --pred-out" in lines[0]
    assert result.stdout == ""  # stopped before the model ran and printed figures
