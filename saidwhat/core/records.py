"""Typed records that pass between the layers.

Each layer takes and returns these small, immutable dataclasses; none of them
knows about HTTP clients, spaCy objects or database connections, so every
layer can be tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """A feed as configured by the user."""

    name: str
    url: str
    publisher: str


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a parsed feed."""

    feed_url: str
    guid: str
    url: str | None
    title: str | None
    summary: str | None
    published_at: datetime | None
    authors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FetchErrorRecord:
    """Why a feed, a page, its extraction or its NLP failed; stored in `fetch_errors`."""

    stage: str  # feed | resolve | page | extract | nlp
    error_class: str
    message: str
    feed_url: str | None = None
    url: str | None = None


class TextSource(StrEnum):
    """How an article's text was obtained."""

    PAGE = "page"  # extracted from the fetched page
    FEED_SUMMARY = "feed_summary"  # page unusable: feed title + summary


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """What text extraction found on an HTML page."""

    text: str
    title: str | None
    authors: tuple[str, ...]
    published_at: datetime | None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """An article ready for NLP and storage."""

    article_id: str
    url: str
    canonical_url: str
    feed_url: str
    guid: str
    title: str | None
    authors: tuple[str, ...]
    publisher: str
    published_at: datetime | None
    fetched_at: datetime
    text: str
    text_source: TextSource
    text_hash: str
    fallback_reason: str | None = None


class SpeakerType(StrEnum):
    PERSON = "person"
    ORGANIZATION = "organization"
    UNNAMED = "unnamed"  # "a White House official", "two people familiar with..."
    DOCUMENT = "document"  # "the report said", its author not named in the article
    PRONOUN = "pronoun"  # a pronoun that could not be resolved to a name
    UNKNOWN = "unknown"  # no speaker found


class StatementKind(StrEnum):
    DIRECT = "direct"  # fully quoted
    INDIRECT = "indirect"  # reported speech without quotation marks
    MIXED = "mixed"  # partly quoted: X called it "a gift to Putin"
    ACCORDING_TO = "according_to"
    FLOATING = "floating"  # a quote paragraph inheriting the previous speaker


Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Statement:
    """One attributed statement; all offsets are str offsets into the doc text."""

    quote: str
    quote_start: int
    quote_end: int
    kind: StatementKind
    sentence: str
    sentence_start: int
    sentence_end: int
    quote_spans: tuple[Span, ...] = ()  # discontinuous quotes; empty = one span
    speaker: str | None = None  # canonical name, e.g. "Donald Trump"
    speaker_mention: str | None = None  # as written in the text, e.g. "he"
    speaker_start: int | None = None
    speaker_end: int | None = None
    speaker_type: SpeakerType = SpeakerType.UNKNOWN
    speaker_role: str | None = None  # "U.S. special envoy"
    cue: str | None = None
    cue_lemma: str | None = None
    cue_start: int | None = None
    cue_end: int | None = None
    entities: tuple[str, ...] = ()  # canonical names mentioned in the quote
    rule: str | None = None  # the extraction rule that produced it (saidwhat.nlp.attribution.RULES)
    nested_in: int | None = None  # index, in the same Analysis, of the statement this one is reported inside


@dataclass(frozen=True, slots=True)
class EntityMention:
    """A named entity found in an article."""

    text: str
    label: str
    start: int
    end: int
    canonical: str


@dataclass(frozen=True, slots=True)
class Analysis:
    """The NLP result for one text."""

    statements: tuple[Statement, ...]
    mentions: tuple[EntityMention, ...]
    speaker_aliases: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TopicEvidence:
    """Why a statement has (or was refused) a topic: one phrase that matched, and where.

    ``rule`` is the part of the topic definition that matched: ``about``,
    ``refers_to``, ``all_of``, ``pattern`` or ``not_about`` (an exclusion,
    recorded only for statements that were refused). ``place`` is ``quote``,
    ``sentence`` (the quote's sentence outside the quote) or ``context`` (the
    paragraph around the sentence, the paragraph before it, and the title).
    """

    topic: str
    rule: str
    phrase: str
    place: str
