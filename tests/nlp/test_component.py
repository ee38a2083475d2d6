"""The component's data survives serialization and multiprocessing."""

from __future__ import annotations

from spacy.tokens import Doc, DocBin

from saidwhat.nlp.pipeline import analyze
from saidwhat.nlp.statements import analysis_of

TEXT = (
    "U.S. special envoy Steve Witkoff arrived in Moscow on Tuesday.\n\n"
    '"We had a very productive meeting," Witkoff said. "Both sides want peace."\n\n'
    "A Kremlin official said the talks would continue next week."
)


def test_doc_bytes_round_trip(nlp_sm) -> None:
    doc = nlp_sm(TEXT)
    before = analysis_of(doc)
    assert before.statements
    copy = Doc(nlp_sm.vocab).from_bytes(doc.to_bytes())
    assert analysis_of(copy) == before


def test_docbin_round_trip(nlp_sm) -> None:
    db = DocBin(store_user_data=True, docs=[nlp_sm(TEXT)])
    (copy,) = DocBin().from_bytes(db.to_bytes()).get_docs(nlp_sm.vocab)
    assert [s.quote for s in copy._.statements] == [s.quote for s in nlp_sm(TEXT)._.statements]


def test_pipe_with_two_processes(nlp_sm) -> None:
    texts = [TEXT, "The Kremlin said the summit would take place next month.", "No statements here."]
    single = list(analyze(nlp_sm, texts))
    multi = list(analyze(nlp_sm, texts, batch_size=1, n_process=2))
    assert multi == single
    assert [len(a.statements) for a in multi][1:] == [1, 0]


def test_analysis_mentions_and_aliases(nlp_sm) -> None:
    analysis = analysis_of(nlp_sm(TEXT))
    assert {"Steve Witkoff"} <= {m.canonical for m in analysis.mentions if m.label == "PERSON"}
    assert {"Steve Witkoff", "Witkoff"} <= analysis.speaker_aliases["Steve Witkoff"]
    split = analysis.statements[0]
    assert split.speaker == "Steve Witkoff" and len(split.quote_spans) == 2


def test_entities_in_quote(nlp_sm) -> None:
    doc = nlp_sm('"Vladimir Putin is ready to make a deal," Donald Trump said.')
    (statement,) = doc._.statements
    assert statement.entities == ("Vladimir Putin",)
    assert statement.sentence == doc.text
