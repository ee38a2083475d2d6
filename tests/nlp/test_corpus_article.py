"""A real article from the shared corpus."""

from __future__ import annotations

from tests.nlp.conftest import shared_file


def test_moscow_article(nlp_sm) -> None:
    text = shared_file("corpus", "000_ad2205bc339bf577.txt").read_text(encoding="utf-8")
    statements = nlp_sm(text)._.statements

    def find(piece: str):
        return next(
            s
            for s in statements
            if any(piece in text[a:b] for a, b in (s.quote_spans or ((s.quote_start, s.quote_end),)))
        )

    putin = find('"Next time in Moscow."')
    assert putin.speaker == "Vladimir Putin"
    assert text[putin.quote_start : putin.quote_end] == '"Next time in Moscow."'
    trump = find('"I think he\'s ready to make a deal,"')
    assert trump.speaker == "Donald Trump"
    assert trump.cue == "said"
    # "He said it was ..." after "Trump's response was classic Trump. He didn't say no."
    assert find('"interesting"').speaker == "Donald Trump"
