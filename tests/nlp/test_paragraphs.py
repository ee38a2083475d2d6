"""Sentences never run across a line break."""

from __future__ import annotations


def test_sentence_starts_at_each_paragraph(nlp_sm) -> None:
    text = 'He said the talks were "productive"\n\nOf the three candidates tested, voters preferred none'
    doc = nlp_sm(text)
    assert "saidwhat_paragraphs" in nlp_sm.pipe_names
    starts = [sent.start_char for sent in doc.sents]
    assert text.index("Of the three") in starts
    assert all("\n" not in sent.text.strip() for sent in doc.sents)
