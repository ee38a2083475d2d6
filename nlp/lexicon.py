"""The cue and speaker lexicons, loaded from ``nlp/data/cues.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_CUES_PATH = Path(__file__).parent / "data" / "cues.toml"


@dataclass(frozen=True)
class Lexicon:
    """Lowercased word sets the rules consult; see cues.toml for their meaning."""

    speech_verbs: frozenset[str]
    quote_only_verbs: frozenset[str]
    object_content_verbs: frozenset[str]
    object_is_content_verbs: frozenset[str]
    particles: dict[str, str]  # verb lemma -> the particle it needs to be a cue
    speech_nouns: frozenset[str]
    source_after: tuple[tuple[str, ...], ...]
    honorifics: frozenset[str]
    male_honorifics: frozenset[str]
    female_honorifics: frozenset[str]
    unnamed: frozenset[str]
    person_roles: frozenset[str]
    organizations: frozenset[str]
    male_names: frozenset[str]
    female_names: frozenset[str]

    def is_cue_verb(self, lemma: str) -> bool:
        return lemma in self.speech_verbs or lemma in self.quote_only_verbs


def _words(values: list[str]) -> frozenset[str]:
    return frozenset(v.lower() for v in values)


@lru_cache(maxsize=8)
def load_lexicon(path: str | Path = DEFAULT_CUES_PATH) -> Lexicon:
    """Read a cues file; cached because every pipeline process loads it once per path."""
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    verbs, nouns, phrases, speakers = data["verbs"], data["nouns"], data["phrases"], data["speakers"]
    return Lexicon(
        speech_verbs=_words(verbs["speech"]),
        quote_only_verbs=_words(verbs.get("quote_only", [])),
        object_content_verbs=_words(verbs.get("object_content", [])),
        object_is_content_verbs=_words(verbs.get("object_is_content", [])),
        particles={k.lower(): v.lower() for k, v in verbs.get("particles", {}).items()},
        speech_nouns=_words(nouns.get("speech", [])),
        source_after=tuple(tuple(p.lower().split()) for p in phrases.get("source_after", [])),
        honorifics=_words(speakers["honorifics"]),
        male_honorifics=_words(speakers["male_honorifics"]),
        female_honorifics=_words(speakers["female_honorifics"]),
        unnamed=_words(speakers["unnamed"]),
        person_roles=_words(speakers["person_roles"]),
        organizations=_words(speakers["organizations"]),
        male_names=_words(speakers["male_names"]),
        female_names=_words(speakers["female_names"]),
    )
