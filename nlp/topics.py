"""Topic tags for statements, evaluated on the statement and its context.

A quote like "Next time in Moscow." is only about a meeting in context, so a
topic is matched against the statement's paragraph and the article title as
well as the quote itself. Topics are plain data from config.toml and are
re-evaluated by `saidwhat retag` without any NLP model: optional spaCy Matcher
patterns run on a blank English tokenizer, not on the statistical pipeline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from saidwhat.nlp.settings import TopicSpec

from saidwhat.core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class StatementContext:
    """Where a statement stands: its quote and sentence, paragraph and article title."""

    quote: str
    sentence: str
    paragraph: str
    title: str | None


def _phrase_pattern(phrase: str) -> str:
    words = phrase.strip().split()
    parts = []
    for word in words:
        if word.endswith("*"):
            parts.append(re.escape(word[:-1]) + r"\w*")
        else:
            parts.append(re.escape(word))
    # Words inside a phrase may be separated by any run of whitespace.
    return r"(?<!\w)" + r"\s+".join(parts) + (r"" if words[-1].endswith("*") else r"(?!\w)")


# Token attributes a blank English tokenizer sets; patterns on others (LEMMA, POS, ...) would never match.
TOKENIZER_ATTRIBUTES = frozenset({
    "ORTH", "TEXT", "LOWER", "NORM", "SHAPE", "PREFIX", "SUFFIX", "LENGTH", "IS_ALPHA", "IS_ASCII", "IS_DIGIT",
    "IS_LOWER", "IS_UPPER", "IS_TITLE", "IS_PUNCT", "IS_SPACE", "IS_STOP", "IS_BRACKET", "IS_QUOTE", "IS_CURRENCY",
    "LIKE_NUM", "LIKE_URL", "LIKE_EMAIL", "OP",
})  # fmt: skip


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    import spacy

    return spacy.blank("en")


class TopicTagger:
    """Compiled topic definitions: phrase groups (all must match) and optional Matcher patterns (one must)."""

    def __init__(self, topics: Sequence[TopicSpec]) -> None:
        self.names = tuple(t.name for t in topics)
        self._groups = [
            (t.name, [re.compile("|".join(_phrase_pattern(p) for p in group), re.IGNORECASE) for group in t.all_of])
            for t in topics
        ]
        self._matcher = _matcher(topics) if any(t.patterns for t in topics) else None
        self._with_patterns = {t.name for t in topics if t.patterns}

    def tags(self, context: StatementContext) -> tuple[str, ...]:
        parts = [part for part in (context.quote, context.sentence, context.paragraph, context.title) if part]
        haystack = "\n".join(parts)
        candidates = [name for name, groups in self._groups if all(g.search(haystack) for g in groups)]
        if self._matcher is None or not self._with_patterns.intersection(candidates):
            return tuple(n for n in candidates if n not in self._with_patterns)
        matched = self._pattern_matches(parts)
        return tuple(n for n in candidates if n not in self._with_patterns or n in matched)

    def _pattern_matches(self, parts: list[str]) -> set[str]:
        nlp = _tokenizer()
        found: set[str] = set()
        for doc in nlp.pipe(parts):
            found.update(nlp.vocab.strings[match_id] for match_id, _, _ in self._matcher(doc))
        return found


def _matcher(topics: Sequence[TopicSpec]) -> Any:
    from spacy.matcher import Matcher

    matcher = Matcher(_tokenizer().vocab, validate=True)
    for topic in topics:
        patterns = [json.loads(p) for p in topic.patterns]
        for pattern in patterns:
            for token in pattern:
                unknown = {str(k).upper() for k in token} - TOKENIZER_ATTRIBUTES
                if unknown:
                    raise ConfigError(
                        f"[topics.{topic.name}] patterns use {sorted(unknown)[0]}, which a tokenizer does not set:"
                        " use LOWER, ORTH, TEXT, SHAPE, IS_TITLE, LIKE_NUM, ... (with IN, REGEX or OP)"
                    )
        try:
            if patterns:
                matcher.add(topic.name, patterns)
        except (ValueError, KeyError) as exc:
            detail = " ".join(line.strip() for line in str(exc).strip().splitlines()[:3] if line.strip())
            raise ConfigError(f"[topics.{topic.name}] patterns are not valid Matcher patterns: {detail}") from None
    return matcher


def paragraph_around(text: str, start: int, end: int) -> str:
    """The paragraph(s) of ``text`` covering [start, end), plus the one before.

    The paragraph before often names what a follow-up quote is about.
    """
    para_start = text.rfind("\n", 0, max(0, start))
    para_start = text.rfind("\n", 0, max(0, para_start)) if para_start > 0 else -1
    para_end = text.find("\n", end)
    return text[para_start + 1 : para_end if para_end != -1 else len(text)]
