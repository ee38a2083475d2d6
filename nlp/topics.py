"""Topic tags for statements: what the statement is about, and why it matched.

A statement is about a topic when *what is said* is about it: the ``about``
phrase groups must match in the quote or its sentence. The context (the
paragraph around the sentence, the one before it, and the article title) only
resolves a reference the statement makes -- "the invitation", "next time",
"such a visit" (the topic's ``refers_to`` phrases) -- so a statement about
sanctions in an article about a summit is not tagged with the summit.
``all_of`` groups (the older, context-wide rule) may match anywhere.

Every tag comes with its evidence (which phrase matched, by which rule, in
the quote, the sentence or the context), stored next to the tags. Topics are
plain data from config.toml and are re-evaluated by `saidwhat retag` without
any NLP model: optional spaCy Matcher patterns run on a blank English
tokenizer, not on the statistical pipeline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from saidwhat.core.errors import ConfigError
from saidwhat.core.records import TopicEvidence
from saidwhat.nlp.settings import TopicSpec

QUOTE, SENTENCE, CONTEXT = "quote", "sentence", "context"
_WORD_CHAR = re.compile(r"\w")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class StatementContext:
    """Where a statement stands: its quote and sentence, paragraph and article title."""

    quote: str
    sentence: str
    paragraph: str
    title: str | None


@dataclass(frozen=True, slots=True)
class TopicDecision:
    """One topic evaluated on one statement: tagged or not, and the evidence either way."""

    topic: str
    tagged: bool
    evidence: tuple[TopicEvidence, ...]


def _phrase_pattern(phrase: str) -> str:
    words = phrase.strip().split()
    parts = []
    for word in words:
        literal = re.escape(word[:-1] if word.endswith("*") else word)
        # Texts write the apostrophe straight or curly ("I'll", "I’ll"); a phrase matches both.
        literal = re.sub("['’]", "['’]", literal)
        parts.append(literal + (r"\w*" if word.endswith("*") else ""))
    # Words inside a phrase may be separated by any run of whitespace. The start of a word is checked by
    # _Phrases.find, not by a look-behind here: a pattern that starts with a literal lets the regex engine
    # skip ahead to the possible first characters, several times faster over an alternation of phrases.
    return r"\s+".join(parts) + (r"" if words[-1].endswith("*") else r"(?!\w)")


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


class _Place:
    """One place a phrase can be found (quote, sentence or context), with its words for a quick pre-check."""

    __slots__ = ("_words", "name", "text")

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self._words: frozenset[str] | None = None

    @property
    def words(self) -> frozenset[str]:
        if self._words is None:
            self._words = frozenset(_WORD.findall(self.text.lower()))
        return self._words


class _Phrases:
    """A set of phrases compiled into one case-insensitive regular expression.

    Most texts hold none of a group's phrases; the words a phrase must start
    with (or, for "visit*", begin with) rule those out before the regex runs.
    """

    def __init__(self, phrases: Sequence[str]) -> None:
        self.regex = re.compile("|".join(_phrase_pattern(p) for p in phrases), re.IGNORECASE)
        first_words, prefixes = set(), set()
        self._always = False  # a phrase that does not start with a word character cannot be pre-checked
        for phrase in phrases:
            first = phrase.split()[0].lower()
            word = _WORD.match(first)
            if word is None:
                self._always = True
            elif first.endswith("*") and len(word.group(0)) == len(first) - 1:
                prefixes.add(word.group(0))  # "visit*": any word that begins with "visit"
            else:
                first_words.add(word.group(0))  # "U.S. leader": the text has the word "u"
        self._first_words = frozenset(first_words)
        self._prefixes = tuple(sorted(prefixes))

    def _may_match(self, place: _Place) -> bool:
        if self._always or not self._first_words.isdisjoint(place.words):
            return True
        return bool(self._prefixes) and any(w.startswith(self._prefixes) for w in place.words)

    def find(self, places: Sequence[_Place]) -> tuple[str, str] | None:
        """(matched text, place) of the first place that matches, in the order given."""
        for place in places:
            match = self.search(place.text) if place.text and self._may_match(place) else None
            if match:
                return " ".join(match.split()), place.name
        return None

    def search(self, text: str) -> str | None:
        """The first phrase in ``text`` that starts a word, as written there."""
        at = 0
        while m := self.regex.search(text, at):
            start = m.start()
            if start == 0 or not _WORD_CHAR.match(text, start - 1):
                return m.group(0)
            at = start + 1
        return None


@dataclass(frozen=True, slots=True)
class _CompiledTopic:
    name: str
    about: tuple[_Phrases, ...]
    all_of: tuple[_Phrases, ...]
    refers_to: _Phrases | None
    not_about: _Phrases | None
    has_patterns: bool


def _sentence_outside_quote(context: StatementContext) -> str:
    """The sentence with the quote blanked out, so a phrase found there is in the framing, not the quote."""
    sentence, quote = context.sentence or "", context.quote or ""
    return sentence.replace(quote, " ") if quote and quote in sentence else sentence


class TopicTagger:
    """Compiled topic definitions (see TopicSpec); ``decide`` evaluates them on one statement."""

    def __init__(self, topics: Sequence[TopicSpec]) -> None:
        self.names = tuple(t.name for t in topics)
        self._topics = [
            _CompiledTopic(
                name=t.name,
                about=tuple(_Phrases(g) for g in t.about),
                all_of=tuple(_Phrases(g) for g in t.all_of),
                refers_to=_Phrases(t.refers_to) if t.refers_to else None,
                not_about=_Phrases(t.not_about) if t.not_about else None,
                has_patterns=bool(t.patterns),
            )
            for t in topics
        ]
        self._matcher = _matcher(topics) if any(t.patterns for t in topics) else None

    def tags(self, context: StatementContext) -> tuple[str, ...]:
        """Names of the topics the statement is about, in config order."""
        return tuple(d.topic for d in self.decide(context, complete=False) if d.tagged)

    def evidence(self, context: StatementContext) -> tuple[tuple[str, ...], tuple[TopicEvidence, ...]]:
        """(topics, evidence of those topics) of one statement: what ingest and retag store."""
        tagged = [d for d in self.decide(context, complete=False) if d.tagged]
        return tuple(d.topic for d in tagged), tuple(e for d in tagged for e in d.evidence)

    def decide(self, context: StatementContext, complete: bool = True) -> list[TopicDecision]:
        """Every configured topic evaluated on the statement, with its evidence.

        With ``complete`` (what `saidwhat topics report` shows), a topic that is
        not tagged still lists every phrase that matched; without it, the
        evaluation of a topic stops at the first group that fails (retag's speed).
        """
        statement = [_Place(QUOTE, context.quote or ""), _Place(SENTENCE, _sentence_outside_quote(context))]
        surroundings = [_Place(CONTEXT, "\n".join(p for p in (context.paragraph, context.title) if p))]
        patterns: dict[str, list[tuple[str, str]]] | None = None  # computed once, for the first topic needing them
        decisions = []
        for topic in self._topics:
            evidence: list[TopicEvidence] = []
            reference = topic.refers_to.find(statement) if topic.refers_to else None
            if reference:
                evidence.append(TopicEvidence(topic.name, "refers_to", *reference))
            # Context answers an `about` group only when the statement refers to something.
            about_places = statement + surroundings if reference else statement
            groups = [("about", g, about_places) for g in topic.about]
            groups += [("all_of", g, statement + surroundings) for g in topic.all_of]
            tagged = True
            for rule, group, places in groups:
                found = group.find(places)
                tagged = tagged and found is not None
                if found:
                    evidence.append(TopicEvidence(topic.name, rule, *found))
                elif not complete:
                    break
            if topic.has_patterns and (tagged or complete):
                if patterns is None:
                    patterns = self._pattern_matches(statement + surroundings)
                allowed = {place.name for place in (about_places if topic.about else statement + surroundings)}
                found = next((m for m in patterns.get(topic.name, []) if m[1] in allowed), None)
                tagged = tagged and found is not None
                if found:
                    evidence.append(TopicEvidence(topic.name, "pattern", *found))
            if tagged and topic.not_about and any(e.place != QUOTE for e in evidence if e.rule == "about"):
                # The quote is about something else; its framing or context only made it look relevant.
                excluded = topic.not_about.find(statement[:1])
                if excluded:
                    tagged = False
                    evidence.append(TopicEvidence(topic.name, "not_about", *excluded))
            if not any(e.place == CONTEXT for e in evidence if e.rule in ("about", "pattern")):
                evidence = [e for e in evidence if e.rule != "refers_to"]  # nothing needed resolving
            decisions.append(TopicDecision(topic.name, tagged, tuple(evidence)))
        return decisions

    def _pattern_matches(self, places: list[_Place]) -> dict[str, list[tuple[str, str]]]:
        """Topic name -> [(matched text, place)] of every Matcher pattern match, in place order."""
        nlp = _tokenizer()
        found: dict[str, list[tuple[str, str]]] = {}
        texts = [(place.name, place.text) for place in places if place.text]
        for (place, _), doc in zip(texts, nlp.pipe(text for _, text in texts), strict=True):
            for match_id, start, end in self._matcher(doc):
                found.setdefault(nlp.vocab.strings[match_id], []).append((doc[start:end].text, place))
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
