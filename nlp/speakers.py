"""Speaker mentions: from a subject token to a typed, canonical speaker.

The rules are deliberately simple and explainable:

* names come from the NER (PERSON, ORG, GPE, NORP, FAC), with honorifics and
  titles split off into a role ("U.S. special envoy Steve Witkoff");
* short forms resolve to the longest full form in the document with the same
  last name ("Trump" -> "Donald Trump"), honouring Mr./Mrs. gender hints;
* pronouns and definite role nouns ("he", "the president") resolve by
  salience: the most recent compatible person that was a subject or a
  speaker, looking back a few sentences (no coreference model needed);
* indefinite, plural or counted source nouns are unnamed sources
  ("a White House official", "two people familiar with the talks").
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy
from saidwhat.nlp.lexicon import Lexicon
from spacy.attrs import DEP, ENT_TYPE, IDX, LOWER, POS
from spacy.parts_of_speech import PROPN
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span, Token

NAME_LABELS = ("PERSON", "ORG", "GPE", "NORP", "FAC")
ORG_LABELS = ("ORG", "GPE", "NORP", "FAC")
MALE, FEMALE = "m", "f"
_PRONOUN_GENDER = {"he": MALE, "him": MALE, "his": MALE, "she": FEMALE, "her": FEMALE}
_FIRST_PERSON = {"i", "we", "me", "us"}
_INDEFINITE_DETS = {
    "a",
    "an",
    "some",
    "several",
    "many",
    "most",
    "few",
    "other",
    "another",
    "one",
    "two",
    "three",
    "four",
    "five",
    "various",
    "numerous",
    "multiple",
    "any",
    "no",
}
# Heads of a partitive subject ("one of the veterans", "a number of diplomats"); numbers count too.
_PARTITIVE_HEADS = {
    "one",
    "some",
    "many",
    "several",
    "most",
    "few",
    "each",
    "all",
    "both",
    "none",
    "any",
    "half",
    "number",
    "majority",
    "minority",
    "dozens",
    "hundreds",
}
# Definite "the official" / "the source" usually points back to an unnamed source, not to a named person.
_ANONYMOUS_HEADS = {
    "official",
    "source",
    "person",
    "people",
    "diplomat",
    "aide",
    "adviser",
    "advisor",
    "insider",
    "staffer",
    "member",
    "executive",
    "analyst",
    "expert",
    "observer",
    "witness",
    "resident",
    "voter",
    "supporter",
    "worker",
    "delegate",
    "lawmaker",
    "strategist",
    "operative",
}
_EDGE_PUNCT_RE = re.compile(r"^[\W_]+|[\W_]+$")
# How many sentences back a pronoun may find its antecedent.
_SALIENCE_SENTENCES = 4


def clean_name_tokens(words: list[str], lex: Lexicon) -> tuple[list[str], list[str]]:
    """Split leading honorifics/titles off a name: (name words, title words)."""
    words = [w for w in words if w not in {"'s", "’s", "'", "’"}]
    i = 0
    while i < len(words) - 1 and words[i].lower().rstrip(".") in lex.honorifics:
        i += 1
    name = [_EDGE_PUNCT_RE.sub("", w) if j in (0, len(words) - 1 - i) else w for j, w in enumerate(words[i:])]
    return [w for w in name if w], words[:i]


@dataclass
class PersonMention:
    """A person mentioned at ``start``; ``salient`` if it was a subject or a speaker."""

    start: int
    canonical: str
    salient: bool
    sent: int = 0


@dataclass
class NameIndex:
    """Per-document person names: full forms, genders and mention positions."""

    lex: Lexicon
    full_forms: dict[str, list[str]] = field(default_factory=dict)  # last name -> full names, first seen first
    counts: dict[str, int] = field(default_factory=dict)
    genders: dict[str, str] = field(default_factory=dict)
    mentions: list[PersonMention] = field(default_factory=list)
    roles: list[tuple[int, str, str]] = field(default_factory=list)  # (start, role words, canonical)

    @classmethod
    def from_doc(cls, doc: Doc, lex: Lexicon) -> NameIndex:
        index = cls(lex)
        persons = [ent for ent in doc.ents if ent.label_ == "PERSON"]
        for ent in persons:
            words, titles = clean_name_tokens([t.text for t in ent], lex)
            if len(words) >= 2:
                full = " ".join(words)
                forms = index.full_forms.setdefault(words[-1].lower(), [])
                if full not in forms:
                    forms.append(full)
                index._note_gender(full, words[0], titles)
        for ent in persons:
            canonical = index.canonical_for(ent)
            if canonical:
                salient = ent.root.dep_ in ("nsubj", "nsubjpass")
                index.mentions.append(PersonMention(ent.start_char, canonical, salient))
                index.counts[canonical] = index.counts.get(canonical, 0) + 1
                role = role_words(ent, lex)
                if role:
                    index.roles.append((ent.start_char, role.lower(), canonical))
        return index

    def _note_gender(self, full: str, first: str, titles: list[str]) -> None:
        first, hints = first.lower(), {t.lower().rstrip(".") for t in titles}
        if hints & self.lex.male_honorifics or first in self.lex.male_names:
            self.genders.setdefault(full, MALE)
        elif hints & self.lex.female_honorifics or first in self.lex.female_names:
            self.genders.setdefault(full, FEMALE)

    def canonical_for(self, ent: Span) -> str | None:
        words, titles = clean_name_tokens([t.text for t in ent], self.lex)
        if not words:
            return None
        return self.canonical(words, titles)

    def canonical(self, words: list[str], titles: list[str] = ()) -> str:
        """The full form of a (possibly short) name seen in this document."""
        name = " ".join(words)
        forms = self.full_forms.get(words[-1].lower(), [])
        if len(words) >= 2 or not forms:
            return name
        hints = {t.lower().rstrip(".") for t in titles}
        wanted = MALE if hints & self.lex.male_honorifics else FEMALE if hints & self.lex.female_honorifics else None
        if wanted:
            matching = [f for f in forms if self.genders.get(f) == wanted]
            if matching:
                forms = matching
        # The most frequent full form; on a tie the first one introduced.
        return max(forms, key=lambda f: (self.counts.get(f, 0), -forms.index(f)))

    def pick_antecedent(self, pronoun: str, pos: int, sent: int, mentions: list[PersonMention]) -> str | None:
        """Hobbs-like salience: the nearest earlier subject in the pronoun's own sentence, else
        the first subject (or last mention) of the closest previous sentence with a compatible person.
        An empty ``pronoun`` accepts either gender (for role nouns: "the Russian leader")."""
        gender = _PRONOUN_GENDER.get(pronoun.lower())
        if gender is None and pronoun:
            return None
        for sent_index in range(sent, sent - _SALIENCE_SENTENCES - 1, -1):
            candidates = [
                m
                for m in mentions
                if m.sent == sent_index
                and m.start < pos
                and (gender is None or self.genders.get(m.canonical, gender) == gender)
            ]
            subjects = [m for m in candidates if m.salient]
            if sent_index == sent:
                if subjects:
                    return subjects[-1].canonical
                continue
            if candidates:
                return (subjects[0] if subjects else candidates[-1]).canonical
        return None

    def resolve_role(self, head_lemma: str, modifiers: set[str], pos: int) -> str | None:
        """'the president' / 'the Russian leader' -> the latest person introduced with that role."""
        best = None
        for start, role, canonical in self.roles:
            if start >= pos:
                break
            role_words_ = set(role.split())
            if head_lemma in role_words_ or (modifiers and modifiers <= role_words_):
                best = canonical
        return best


def role_words(ent: Span, lex: Lexicon) -> str | None:
    """Title words before a person name inside its noun phrase, or its apposition."""
    root = ent.root
    # Only the words glued to the name ("Russian President"), not a dateline the parser hung on it.
    left: list[Token] = []
    i = ent.start - 1
    while i >= root.left_edge.i and not ent.doc[i].is_punct and ent.doc[i].dep_ not in ("det", "poss", "case"):
        left.insert(0, ent.doc[i])
        i -= 1
    _, titles = clean_name_tokens([t.text for t in ent], lex)
    parts = [t.text for t in left] + titles
    if not parts:
        for child in root.children:
            if child.dep_ == "appos" and child.i > root.i:
                tokens = [t for t in child.subtree if t.dep_ != "punct" or t.i not in (child.left_edge.i,)]
                return " ".join(t.text for t in tokens).strip(" ,")
        return None
    return " ".join(parts)


_BYLINE_RE = re.compile(r"^\s*(?:By|BY|Written by)\s+([A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){1,3})\s*$", re.MULTILINE)


def byline_author(text: str) -> str | None:
    """'By Jane Smith' on a line of its own near the top: the writer, whom a narrator's 'I' means."""
    match = _BYLINE_RE.search(text[:600])
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class Speaker:
    """What the rules found about a speaker mention."""

    start: int
    end: int
    mention: str
    name: str | None
    kind: str  # a saidwhat.core.records.SpeakerType value
    role: str | None = None


class EntityLookup:
    """Token -> entity span, built once per document."""

    def __init__(self, doc: Doc) -> None:
        self.by_token: dict[int, Span] = {}
        for ent in doc.ents:
            if ent.label_ in NAME_LABELS:
                for i in range(ent.start, ent.end):
                    self.by_token[i] = ent

    def get(self, token: Token) -> Span | None:
        return self.by_token.get(token.i)


def _normalise(text: str) -> str:
    return " ".join(text.split()).strip(" ,;:")


def _np_tokens(head: Token, keep_postmodifiers: bool = False) -> list[Token]:
    """The head's noun phrase without relative clauses, appositions or trailing punctuation."""
    keep = [head]
    dropped = (
        ("relcl", "appos", "punct", "cc", "conj")
        if keep_postmodifiers
        else ("relcl", "appos", "punct", "acl", "cc", "conj", "advmod", "prep")
    )
    for child in head.children:
        if child.dep_ in dropped and child.i > head.i:
            continue
        keep.extend(child.subtree)
    keep.sort(key=lambda t: t.i)
    while keep and keep[0].is_punct:
        keep.pop(0)
    while keep and keep[-1].is_punct:
        keep.pop()
    return keep


def _span_of(tokens: list[Token]) -> tuple[int, int]:
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)


class SpeakerResolver:
    """Turns subject tokens into Speakers for one document."""

    def __init__(
        self,
        doc: Doc,
        lex: Lexicon,
        in_quote: Callable[[int], bool] = lambda pos: False,
        text: str | None = None,
        sent_starts: list[int] | None = None,
    ) -> None:
        self.doc = doc
        self.text = doc.text if text is None else text  # Doc.text rebuilds the string on each access
        self.lex = lex
        self.ents = EntityLookup(doc)
        self.names = NameIndex.from_doc(doc, lex)
        self._starts = doc.to_array([IDX]).tolist()
        if sent_starts is None:
            sent_starts = [sent.start_char for sent in doc.sents]
        self._sent_starts = sent_starts
        self._pronoun_names = self._chain_pronouns(in_quote)
        self.author = byline_author(self.text)

    def _sent_index(self, pos: int) -> int:
        return max(0, bisect_right(self._sent_starts, pos) - 1)

    def _chain_candidates(self) -> list[int]:
        """Indices of pronouns, person-name starts and known last names, in text order."""
        words = set(_PRONOUN_GENDER) | set(self.names.full_forms)
        ids = numpy.array([get_string_id(w) for w in words], dtype="uint64")
        hits = set(numpy.flatnonzero(numpy.isin(self.doc.to_array([LOWER]), ids)).tolist())
        hits.update(ent.start for ent in self.doc.ents if ent.label_ == "PERSON")
        # Untagged proper-noun subjects ("In Kyiv, Zelenskyy said ..." with the NER silent).
        array = self.doc.to_array([POS, DEP, ENT_TYPE])
        subjects = (array[:, 0] == PROPN) & (array[:, 1] == get_string_id("nsubj")) & (array[:, 2] == 0)
        hits.update(numpy.flatnonzero(subjects).tolist())
        return sorted(hits)

    def _chain_pronouns(self, in_quote: Callable[[int], bool]) -> dict[int, str | None]:
        """Resolve every he/she/his/her of the text in order; resolved subject pronouns become
        mentions themselves, so "He ... He said" chains back to the name.  Mentions inside
        quotations are not antecedents for the narrator's pronouns."""
        by_start = {m.start: m for m in self.names.mentions}
        mentions: list[PersonMention] = []
        resolved: dict[int, str | None] = {}
        for i in self._chain_candidates():
            token = self.doc[i]
            quoted = in_quote(token.idx)
            sent = self._sent_index(token.idx)
            mention = by_start.get(token.idx)
            if mention is None and token.ent_type_ != "PERSON" and self._known_person(token):
                # A known last name the NER missed ("Trump" tagged as a verb) still counts.
                salient = token.dep_ in ("nsubj", "nsubjpass")
                mention = PersonMention(token.idx, self.names.canonical([token.text]), salient)
            elif mention is None and token.pos_ == "PROPN" and not token.ent_type_ and token.text[:1].isupper():
                mention = PersonMention(token.idx, self.names.canonical([token.text]), True)
            if mention is not None and not quoted:
                mention.sent = sent
                mentions.append(mention)
            if token.lower_ not in _PRONOUN_GENDER or quoted:
                continue
            name = self.names.pick_antecedent(token.lower_, token.idx, sent, mentions)
            resolved[token.i] = name
            if name:
                self.names.genders.setdefault(name, _PRONOUN_GENDER[token.lower_])
                if token.dep_ in ("nsubj", "nsubjpass"):
                    mentions.append(PersonMention(token.idx, name, True, sent))
        self._mentions = mentions
        return resolved

    def from_token(self, token: Token) -> Speaker | None:
        """Describe the speaker whose head token is ``token``."""
        if token.tag_ in ("WP", "WDT") and token.head.dep_ in ("relcl", "acl") and token.head.head.i != token.i:
            return self._relative(token)
        partitive = self._partitive(token)
        if partitive is not None:
            return partitive
        if token.pos_ == "PRON" or token.lower_ in _PRONOUN_GENDER or token.lower_ in _FIRST_PERSON:
            return self._pronoun(token)
        # "the Kremlin spokesman, Dmitry Peskov": the apposition carries the name.
        for child in token.children:
            if child.dep_ == "appos" and self._person_ent(child) is not None and self._person_ent(token) is None:
                speaker = self._named(self._person_ent(child), child)
                role = _normalise(" ".join(t.text for t in _np_tokens(token)))
                return Speaker(speaker.start, speaker.end, speaker.mention, speaker.name, speaker.kind, role)
        ent = self.ents.get(token)
        if ent is None:
            ent = self._entity_in_np(token)
        if ent is not None and not (ent.label_ != "PERSON" and self._known_person(ent.root)):
            return self._named(ent, token)
        if self._known_person(token):
            # "Trump" tagged ORG (or not tagged): a last name already seen as a person's name.
            name = self.names.canonical([token.text])
            end = token.idx + len(token.text)
            return Speaker(token.idx, end, token.text, name, "person")
        return self._nominal(token)

    def _relative(self, token: Token) -> Speaker | None:
        """'Jeb Bush, who announced ...': the mention is 'who', the speaker its antecedent."""
        antecedent = token.head.head
        if antecedent.tag_ in ("WP", "WDT") or antecedent.pos_ not in ("NOUN", "PROPN", "PRON"):
            return None
        speaker = self.from_token(antecedent)
        if speaker is None:
            return None
        end = token.idx + len(token.text)
        return Speaker(token.idx, end, token.text, speaker.name, speaker.kind, speaker.role)

    def _partitive(self, token: Token) -> Speaker | None:
        """'one of the veterans', 'some of them': the head alone ("one") names nobody, the whole phrase does."""
        if token.lower_ not in _PARTITIVE_HEADS and token.tag_ != "CD":
            return None
        of = next((c for c in token.children if c.dep_ == "prep" and c.lower_ == "of" and c.i > token.i), None)
        if of is None or not any(c.dep_ == "pobj" for c in of.children):
            return None
        return self._unnamed_source(token)

    def _unnamed_source(self, head: Token) -> Speaker:
        """The whole phrase, postmodifiers kept: "two officials familiar with the planning"."""
        start, end = _span_of(_np_tokens(head, keep_postmodifiers=True))
        mention = _normalise(self.text[start:end])
        return Speaker(start, end, mention, mention, "unnamed")

    def _known_person(self, token: Token) -> bool:
        return token.text[:1].isupper() and token.lower_ in self.names.full_forms

    def _person_ent(self, token: Token) -> Span | None:
        ent = self.ents.get(token)
        return ent if ent is not None and ent.label_ == "PERSON" else None

    def _entity_in_np(self, head: Token) -> Span | None:
        """A name inside the head's compounds: 'President Obama' parsed with head 'President'."""
        for child in head.children:
            if child.dep_ in ("compound", "nmod") and child.i < head.i:
                ent = self.ents.get(child)
                if ent is not None and ent.label_ == "PERSON":
                    return ent
        return None

    def _named(self, ent: Span, head: Token) -> Speaker:
        start, end = ent.start_char, ent.end_char
        text = ent.text
        if text.endswith(("'s", "’s")):
            end -= 2
            text = text[:-2]
        if ent.label_ == "PERSON":
            words, titles = clean_name_tokens(text.split(), self.lex)
            name = self.names.canonical(words, titles) if words else text
            role = role_words(ent, self.lex)
            return Speaker(start, end, text, name, "person", role)
        # Organisations keep their determiner-less surface form: "the Kremlin" -> "Kremlin".
        name = _normalise(re.sub(r"^(?i:the)\s+", "", text))
        np = _np_tokens(ent.root if ent.root.head == head or ent.root == head else head)
        extra = [t for t in np if t.i < ent.start and t.dep_ != "det"]
        if head.i >= ent.end and head.lemma_.lower() in self.lex.person_roles | self.lex.unnamed:
            # "Kremlin spokesman" / "a White House official": the org is a modifier.
            return self._nominal(head)
        role = " ".join(t.text for t in extra) or None
        return Speaker(start, end, text, name, "organization", role)

    def _pronoun(self, token: Token) -> Speaker:
        start, end = token.idx, token.idx + len(token.text)
        name = self._pronoun_names.get(token.i)
        if token.lower_ in ("i", "me") and name is None:
            name = self.author  # the narrator of an article with a byline
        if token.lower_ == "it" and name is None:
            org = self._recent_organization(token)
            if org is not None:
                return Speaker(start, end, token.text, org, "organization")
        return Speaker(start, end, token.text, name, "person" if name else "pronoun")

    def _recent_organization(self, token: Token) -> str | None:
        """'The Kremlin gave its own account. In a statement, it said ...': the latest ORG named
        in this or the previous sentence."""
        sent = self._sent_index(token.idx)
        floor = self._sent_starts[max(0, sent - 1)]
        best = None
        for ent in self.doc.ents:
            if ent.start_char >= token.idx:
                break
            if ent.label_ == "ORG" and ent.start_char >= floor:
                best = _normalise(re.sub(r"^(?i:the)\s+", "", re.sub(r"['’]s$", "", ent.text)))
        return best

    def _nominal(self, head: Token) -> Speaker:
        tokens = _np_tokens(head)
        start, end = _span_of(tokens)
        mention = _normalise(self.text[start:end])
        lemma = head.lemma_.lower()
        dets = {c.lower_ for c in head.children if c.dep_ in ("det", "nummod", "quantmod", "amod")}
        definite = any(
            (c.dep_ in ("det", "poss") and c.lower_ in ("the", "this", "that")) or c.dep_ == "poss"
            for c in head.children
        )
        plural = head.tag_ in ("NNS", "NNPS")
        if lemma in self.lex.unnamed and (dets & _INDEFINITE_DETS or plural or not definite):
            # Keep what identifies the source.
            return self._unnamed_source(head)
        if lemma in self.lex.organizations or head.ent_type_ in ORG_LABELS:
            name = _normalise(re.sub(r"^(?i:the)\s+", "", mention))
            return Speaker(start, end, mention, name, "organization")
        if definite and lemma in self.lex.person_roles:
            modifiers = {c.lower_ for c in head.children if c.dep_ in ("amod", "compound") and c.i < head.i}
            name = self.names.resolve_role(lemma, modifiers, start)
            if name is None and lemma not in _ANONYMOUS_HEADS:
                # "The Russian leader added ...": the person the text is about right now.
                name = self.names.pick_antecedent("", start, self._sent_index(start), self._mentions)
            if name:
                return Speaker(start, end, mention, name, "person", mention)
            return Speaker(start, end, mention, mention, "unnamed", mention)
        if head.pos_ == "PROPN":
            words, titles = clean_name_tokens([t.text for t in tokens if t.pos_ == "PROPN"], self.lex)
            if words:
                return Speaker(start, end, mention, self.names.canonical(words, titles), "person")
        return Speaker(start, end, mention, mention, "unnamed")

    def nearest_entity_before(self, pos: int, floor: int) -> Speaker | None:
        """The last PERSON/ORG mention ending before ``pos`` (for 'X: "..."' colon cues)."""
        i = bisect_left(self._starts, pos) - 1
        while i >= 0 and self.doc[i].idx >= floor:
            token = self.doc[i]
            ent = self.ents.get(token)
            if ent is not None and ent.label_ in ("PERSON", "ORG"):
                return self._named(ent, ent.root)
            if not token.is_punct:
                return None
            i -= 1
        return None
