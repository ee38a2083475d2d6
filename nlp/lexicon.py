"""The cue, speaker and rule word lists, loaded from ``nlp/data/cues.toml``.

Every word list the attribution rules consult lives in that one file; the
component saves it with the pipeline (``nlp.to_disk``), so a saved pipeline
keeps the lexicon it was built with.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

_IRREGULAR_PAST = frozenset({"said", "told", "wrote", "spoke", "thought"})

DEFAULT_CUES_PATH = Path(__file__).parent / "data" / "cues.toml"


@dataclass(frozen=True)
class Lexicon:
    """Lowercased word sets the rules consult; see cues.toml for their meaning."""

    speech_verbs: frozenset[str]
    quote_only_verbs: frozenset[str]
    object_content_verbs: frozenset[str]
    object_is_content_verbs: frozenset[str]
    predicate_verbs: frozenset[str]  # object verbs that report only with a predicate or a quotation
    quoted_object_verbs: frozenset[str]  # object verbs that report only with a quotation
    particles: dict[str, str]  # verb lemma -> the particle it needs to be a cue
    speech_nouns: frozenset[str]
    source_after: tuple[tuple[str, ...], ...]  # "according to": phrases whose object is the source
    honorifics: frozenset[str]
    name_suffixes: frozenset[str]
    male_honorifics: frozenset[str]
    female_honorifics: frozenset[str]
    unnamed: frozenset[str]
    person_roles: frozenset[str]
    organizations: frozenset[str]
    male_names: frozenset[str]
    female_names: frozenset[str]
    parenthetical_verbs: frozenset[str]
    continuing_verbs: frozenset[str]
    question_verbs: frozenset[str]
    title_nouns: frozenset[str]
    refusal_verbs: frozenset[str]
    negations: frozenset[str]
    time_words: frozenset[str]
    indefinite_determiners: frozenset[str]
    partitive_heads: frozenset[str]
    anonymous_heads: frozenset[str]
    back_references: frozenset[str]
    back_reference_openers: tuple[str, ...]
    documents: frozenset[str]
    org_back_references: frozenset[str]
    non_speakers: frozenset[str]

    def is_cue_verb(self, lemma: str) -> bool:
        return lemma in self.speech_verbs or lemma in self.quote_only_verbs

    def is_past_cue_verb(self, word: str) -> bool:
        """'Stated', 'Added', 'Said': a reporting verb in the past tense, as a word (no parse needed)."""
        word = word.lower()
        if word in _IRREGULAR_PAST:
            return True
        return word.endswith("ed") and any(self.is_cue_verb(stem) for stem in (word[:-1], word[:-2], word[:-3]))


def _words(values: list[str]) -> frozenset[str]:
    return frozenset(v.lower() for v in values)


def lexicon_from_toml(raw: bytes) -> Lexicon:
    """Build a Lexicon from the bytes of a cues file."""
    data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    verbs, nouns, phrases, speakers = data["verbs"], data["nouns"], data["phrases"], data["speakers"]
    rules = data["rules"]
    rule_speakers = rules["speakers"]
    return Lexicon(
        speech_verbs=_words(verbs["speech"]),
        quote_only_verbs=_words(verbs.get("quote_only", [])),
        object_content_verbs=_words(verbs.get("object_content", [])),
        object_is_content_verbs=_words(verbs.get("object_is_content", [])),
        predicate_verbs=_words(verbs.get("predicate", ["call"])),
        quoted_object_verbs=_words(verbs.get("quoted", [])),
        particles={k.lower(): v.lower() for k, v in verbs.get("particles", {}).items()},
        speech_nouns=_words(nouns.get("speech", [])),
        source_after=tuple(tuple(p.lower().split()) for p in phrases.get("source_after", [])),
        honorifics=_words(speakers["honorifics"]),
        name_suffixes=_words(speakers.get("name_suffixes", [])),
        male_honorifics=_words(speakers["male_honorifics"]),
        female_honorifics=_words(speakers["female_honorifics"]),
        unnamed=_words(speakers["unnamed"]),
        person_roles=_words(speakers["person_roles"]),
        organizations=_words(speakers["organizations"]),
        male_names=_words(speakers["male_names"]),
        female_names=_words(speakers["female_names"]),
        parenthetical_verbs=_words(rules["parenthetical_verbs"]),
        continuing_verbs=_words(rules["continuing_verbs"]),
        question_verbs=_words(rules["question_verbs"]),
        title_nouns=_words(rules["title_nouns"]),
        refusal_verbs=_words(rules.get("refusal_verbs", [])),
        negations=_words(rules.get("negations", [])),
        time_words=_words(rules["time_words"]),
        indefinite_determiners=_words(rule_speakers["indefinite_determiners"]),
        partitive_heads=_words(rule_speakers["partitive_heads"]),
        anonymous_heads=_words(rule_speakers["anonymous_heads"]),
        back_references=frozenset(" ".join(p.lower().split()) for p in rule_speakers["back_references"]),
        # Kept with their trailing space: an opener is a whole word ("one " never matches "onetime").
        back_reference_openers=tuple(p.lower() for p in rule_speakers.get("back_reference_openers", [])),
        documents=_words(rule_speakers.get("documents", [])),
        org_back_references=_words(rule_speakers.get("org_back_references", [])),
        non_speakers=_words(rule_speakers.get("non_speakers", [])),
    )


@lru_cache(maxsize=8)
def load_lexicon(path: str | Path = DEFAULT_CUES_PATH) -> Lexicon:
    """Read a cues file; cached because every pipeline process loads it once per path."""
    return lexicon_from_toml(Path(path).read_bytes())
