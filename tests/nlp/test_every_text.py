"""Never crash, never lose a document (issue 13 item 7): the statements component runs over every text
under ../shared (the corpus and the evaluation sets) and the demo corpus without one exception.

Texts are taken as the pipeline would meet them: .txt files as they are, HTML pages (also gzipped)
through the project's extractor, feeds through the project's feed parser (title + summary), and the
long strings of the JSON files (article bodies of the benchmarks' ground truth).  The PolNeAR set has
840 documents, which alone take five minutes on a shared two-core machine; it is sampled with a fixed
seed (``POLNEAR_SAMPLE`` documents, the same ones on every run) -- all of them run, with zero
exceptions, in every ``saidwhat eval --gold ../shared/eval/polnear-train.jsonl``.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import shared_path

POLNEAR_SAMPLE = 100
BATCH = 16
SAMPLE_SEED = 13
MIN_JSON_TEXT = 200  # shorter JSON strings are titles, URLs and dates, not article text
FEED_SUFFIXES = (".xml", ".rss", ".atom")


def _json_strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        if len(value) >= MIN_JSON_TEXT and " " in value:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


def _html_text(body: bytes) -> str | None:
    from saidwhat.extract import ExtractionFailed, extract_page

    try:
        return extract_page(body).text
    except ExtractionFailed:
        return None


def _feed_texts(path: Path) -> Iterator[str]:
    from saidwhat.extract.html import summary_text
    from saidwhat.feeds.parse import FeedParseError, parse_feed

    try:
        feed = parse_feed(path.resolve().as_uri(), path.read_bytes())
    except FeedParseError:
        return
    for item in feed.items:
        text = summary_text(item.title, item.summary)
        if text.strip():
            yield text


def texts_of(folder: Path) -> Iterator[tuple[str, str]]:
    """(label, text) for every text in ``folder``, as described in the module docstring."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        label, name = str(path), path.name.lower()
        if name.endswith(".txt"):
            yield label, path.read_text(encoding="utf-8", errors="replace")
        elif name.endswith((".html", ".htm", ".html.gz")):
            raw = path.read_bytes()
            text = _html_text(gzip.decompress(raw) if name.endswith(".gz") else raw)
            if text:
                yield label, text
        elif name.endswith(FEED_SUFFIXES):
            for i, text in enumerate(_feed_texts(path)):
                yield f"{label} item {i}", text
        elif name.endswith(".json"):
            data = json.loads(path.read_bytes().decode("utf-8", errors="replace"))
            for i, text in enumerate(_json_strings(data)):
                yield f"{label} string {i}", text
        elif name.endswith(".jsonl"):
            objects = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            with_text = [obj for obj in objects if isinstance(obj.get("text"), str)]
            if len(with_text) > POLNEAR_SAMPLE:
                with_text = random.Random(SAMPLE_SEED).sample(with_text, POLNEAR_SAMPLE)
            for obj in with_text:
                yield f"{label} {obj.get('id')}", obj["text"]


def test_the_component_never_raises_on_any_text(nlp_sm) -> None:
    from saidwhat.demo.server import corpus_root
    from saidwhat.nlp.statements import analysis_of

    texts = [*texts_of(shared_path("corpus")), *texts_of(shared_path("eval")), *texts_of(corpus_root())]
    assert len(texts) > 400
    failures = []
    for start in range(0, len(texts), BATCH):
        batch = texts[start : start + BATCH]
        try:  # batched, as the pipeline runs; one by one only to name the text of a failure
            docs = list(nlp_sm.pipe(text for _, text in batch))
        except Exception:
            docs = []
            for label, text in batch:
                try:
                    nlp_sm(text)
                except Exception as exc:  # collected so that one run names every failing text
                    failures.append(f"{label}: {type(exc).__name__}: {exc}")
            continue
        for (label, text), doc in zip(batch, docs, strict=True):
            for st in analysis_of(doc).statements:  # every offset points into the text
                if not 0 <= st.quote_start < st.quote_end <= len(text):
                    failures.append(f"{label}: quote offsets {st.quote_start}..{st.quote_end} outside the text")
    assert failures == []
