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
from spacy.attrs import DEP, IDX, LOWER, POS
from spacy.parts_of_speech import NOUN, PROPN
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span, Token

from saidwhat.nlp.lexicon import Lexicon

NAME_LABELS = ("PERSON", "ORG", "GPE", "NORP", "FAC")
ORG_LABELS = ("ORG", "GPE", "NORP", "FAC")
MALE, FEMALE = "m", "f"
_PRONOUN_GENDER = {"he": MALE, "him": MALE, "his": MALE, "she": FEMALE, "her": FEMALE}
_FIRST_PERSON = {"i", "we", "me", "us"}
_EDGE_PUNCT_RE = re.compile(r"^[\W_]+|[\W_]+$")
# How many sentences back a pronoun may find its antecedent.
_SALIENCE_SENTENCES = 4


_QUOTE_TOKENS = frozenset({'"', "“", "”", "''", "``", "«", "»"})


def clean_name_tokens(words: list[str], lex: Lexicon) -> tuple[list[str], list[str]]:
    """Split leading honorifics/titles off a name: (name words, title words)."""
    words = [w for w in words if w not in {"'s", "’s", "'", "’"}]
    marks = [j for j, w in enumerate(words) if w in _QUOTE_TOKENS]
    if len(marks) >= 2:  # a nickname in quotation marks: 'Juan "Chico" Manriquez' -> Juan Manriquez
        words = words[: marks[0]] + words[marks[1] + 1 :]
    words = [w for w in words if w not in _QUOTE_TOKENS]
    if len(words) > 1 and lex.is_past_cue_verb(words[0]):
        words = words[1:]  # 'Stated Stone:' starts a sentence with the verb; the NER took it into the name
    while len(words) > 1 and words[-1].islower() and words[-1] not in lex.name_suffixes:
        words = words[:-1]  # the NER ran on into the next phrase: "Manriquez of (Oakland)"
    i = 0
    while i < len(words) - 1 and words[i].lower().rstrip(".") in lex.honorifics:
        i += 1
    name = [
        _EDGE_PUNCT_RE.sub("", w) if j in (0, len(words) - 1 - i) and w.lower() not in lex.name_suffixes else w
        for j, w in enumerate(words[i:])
    ]
    return [w for w in name if w], words[:i]


def _title_before(ent: Span, lex: Lexicon) -> list[str]:
    """The honorific right before a name entity ("Mr." of "Mr. Obama" when the NER starts at "Obama")."""
    before = ent.doc[ent.start - 1] if ent.start > 0 else None
    return [before.text] if before is not None and before.lower_.rstrip(".") in lex.honorifics else []


def _abbreviates(short: list[str], full: list[str]) -> bool:
    """Every word of ``short`` starts a word of ``full``, in order ("Pat Carlineo" / "Patrick Carlineo Jr.")."""
    j = 0
    for word in short:
        key = word.lower().rstrip(".")
        while j < len(full) and not full[j].lower().startswith(key):
            j += 1
        if j == len(full):
            return False
        j += 1
    return True


def surname_key(words: list[str], lex: Lexicon) -> str:
    """The word a short form is matched on: the last one that is not a suffix ("Carlineo" of "... Jr.")."""
    core = [
        w for w in words if w.lower() not in lex.name_suffixes and w.lower().rstrip(".") + "." not in lex.name_suffixes
    ]
    return (core or words)[-1].lower()


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
    sentence_starts: frozenset[int] = frozenset()  # character offsets where sentences start

    @classmethod
    def from_doc(cls, doc: Doc, lex: Lexicon) -> NameIndex:
        index = cls(lex)
        persons = [ent for ent in doc.ents if ent.label_ == "PERSON"]
        for ent in persons:
            words, titles = clean_name_tokens([t.text for t in ent], lex)
            if len(words) >= 2:
                full = " ".join(words)
                forms = index.full_forms.setdefault(surname_key(words, lex), [])
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
        return self.canonical(words, [*_title_before(ent, self.lex), *titles])

    def canonical(self, words: list[str], titles: list[str] = ()) -> str:
        """The full form of a (possibly short) name seen in this document."""
        name = " ".join(words)
        forms = self.full_forms.get(surname_key(words, self.lex), [])
        if len(words) >= 2:
            # The fullest form of the same person: "Pat Carlineo" -> "Patrick Carlineo Jr.".
            fuller = [f for f in forms if len(f) > len(name) and _abbreviates(words, f.split())]
            return max(fuller, key=len) if fuller else name
        if not forms:
            # A first name alone ("Maya" after "Maya Chen"), or a surname written first ("Liu" of "Liu Xiaming").
            first = words[0].lower()
            forms = [f for fs in self.full_forms.values() for f in fs if f.split()[0].lower() == first]
            if len(set(forms)) != 1:
                return name
        hints = {t.lower().rstrip(".") for t in titles}
        wanted = MALE if hints & self.lex.male_honorifics else FEMALE if hints & self.lex.female_honorifics else None
        if wanted:
            matching = [f for f in forms if self.genders.get(f) == wanted]
            # "Mr. Obama" in a text that names only Michelle Obama is not her.
            forms = matching or [f for f in forms if self.genders.get(f) is None]
            if not forms:
                return name
        # The most frequent full form; on a tie the first one introduced.
        return max(forms, key=lambda f: (self.counts.get(f, 0), -forms.index(f)))

    def pick_antecedent(
        self, pronoun: str, pos: int, sent: int, mentions: list[PersonMention], main_subject: bool = False
    ) -> str | None:
        """Hobbs-like salience: the nearest earlier subject in the pronoun's own sentence, else
        the first subject (or last mention) of the closest previous sentence with a compatible person.
        An empty ``pronoun`` accepts either gender (for role nouns: "the Russian leader").
        ``main_subject``: the pronoun is the subject of its sentence's main clause, so a person
        of the pronoun's known gender named in a clause before it is its antecedent ("While the
        campaign did not appeal to Julie Graham, she said ...")."""
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
                # "Julie Graham, a public information officer, she said ...": a name opening the sentence.
                opening = [m for m in candidates if m.start in self.sentence_starts and len(m.canonical.split()) >= 2]
                if opening:
                    return opening[-1].canonical
                same_gender = [m for m in candidates if gender and self.genders.get(m.canonical) == gender]
                if main_subject and same_gender:
                    return same_gender[-1].canonical
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

    def role_named_later(self, head_lemma: str, modifiers: set[str], pos: int) -> str | None:
        """ "China's ambassador warned ... China's ambassador to Britain Liu Xiaming said": the first person
        introduced after ``pos`` with the same role and the same modifiers."""
        for start, role, canonical in self.roles:
            role_words_ = set(role.replace("’s", " ").replace("'s", " ").split())
            if start > pos and head_lemma in role_words_ and modifiers <= role_words_:
                return canonical
        return None


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
    doc = ent.doc
    # Roles are cut from the text itself, never tokens joined with spaces ("Kremlin’s", "Moscow-based").
    if left or titles:
        first = left[0] if left else ent[0]
        last = ent[len(titles) - 1] if titles else left[-1]
        return doc.text[first.idx : last.idx + len(last.text)]
    for child in root.children:
        if child.dep_ == "appos" and child.i > root.i:
            # "Lionel Sosa, a media consultant who said he would not vote for Cruz": the role stops at the
            # relative clause.
            clauses = [t for t in child.subtree if t.dep_ == "relcl"]
            cut = min((c.left_edge.i for c in clauses), default=child.right_edge.i + 1)
            tokens = [t for t in child.subtree if t.i < cut]
            while tokens and tokens[-1].is_punct:
                tokens.pop()
            tokens = [t for t in tokens if not (t.is_punct and t.i == child.left_edge.i)]
            if tokens:
                return doc.text[tokens[0].idx : tokens[-1].idx + len(tokens[-1].text)].strip(" ,")
    return None


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


def names_itself(verb: Token) -> bool:
    """'a man calling himself Paul': the verb's object is a reflexive, so it names, it does not report."""
    return any(c.dep_ == "dobj" and c.lower_.endswith(("self", "selves")) for c in verb.children)


_NOMINAL = ("NOUN", "PROPN")
_FOCUS_ADVERBS = frozenset({"even", "only", "just", "also", "especially", "particularly", "notably"})


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
        if child.dep_ == "dep":
            continue  # the parser's "unclassified" link: '"What if ...?" the 43-year-old asked' hangs the quote here
        keep.extend(child.subtree)
    keep.sort(key=lambda t: t.i)
    while keep and (keep[0].is_punct or (keep[0].lower_ in _FOCUS_ADVERBS and len(keep) > 1)):
        keep.pop(0)  # "Even the policy manual says": the writer's emphasis is not part of the source
    while keep and keep[-1].is_punct:
        keep.pop()
    return keep or [head]  # a head that is itself punctuation (a misparsed quotation mark) stays itself


def _lower_first(text: str) -> str:
    """Unnamed sources start with a lowercase letter ("Two officials" -> "two officials"), names keep theirs."""
    first = text.split(" ", 1)[0]
    if first[:1].isupper() and (first[1:].islower() or len(first) == 1) and first.lower() not in ("i",):
        return text[:1].lower() + text[1:]
    return text


def _described(first: Token, mention: str, lex: Lexicon) -> str:
    """An unnamed source as a name: capitalised only because it starts the sentence ("Two officials
    said", "The senator said") it is written lowercase, so it is one speaker with "two officials"."""
    common = first.pos_ in ("DET", "NUM", "ADJ", "PRON") or first.lemma_.lower() in lex.unnamed
    if first.is_sent_start and common and first.pos_ != "PROPN" and first.ent_type_ not in ORG_LABELS:
        return _lower_first(mention)
    return mention


def _span_of(tokens: list[Token]) -> tuple[int, int]:
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)


_CAPITALISED = r"[A-Z][\w&'’.-]*"
# "... Office for the Western District of New York": a capitalised of/for phrase that ends an organisation name.
_ORG_TAIL_RE = re.compile(rf"\s+(?:for|of)\s+(?:the\s+)?{_CAPITALISED}(?:\s+(?:(?:of|and|for|the)\s+)*{_CAPITALISED})*")
_TITLE_PHRASE_RE = re.compile(rf"{_CAPITALISED}(?:\s+(?:(?:of|and|for|the|on)\s+)*{_CAPITALISED})*")
_ORG_STOPWORDS = frozenset({"of", "and", "for", "the", "on", "in", "&"})


def _org_surface(text: str) -> str:
    """An organisation as written, without a possessive or a leading "the"."""
    return _normalise(re.sub(r"^(?i:the)\s+", "", re.sub(r"['’]s$", "", text)))


def _initials(name: str, suffixes: frozenset[str]) -> str:
    """ "Pacific Gas & Electric Co." -> "PGE": capitalised words, without "of"/"and" and name suffixes."""
    words = [
        w
        for w in name.replace("-", " ").replace("&", " ").split()
        if w.lower().rstrip(".") + "." not in suffixes and w.lower() not in suffixes
    ]
    return "".join(w[0] for w in words if w.lower() not in _ORG_STOPWORDS and w[:1].isupper())


class OrgIndex:
    """Per-document organisation names: acronyms and short forms resolve to the fullest name
    ("the IEA" -> "International Energy Agency", "McClatchy" -> "McClatchy Co.")."""

    def __init__(self, doc: Doc, text: str, suffixes: frozenset[str] = frozenset()) -> None:
        self.text = text
        self.suffixes = suffixes  # the lexicon's name_suffixes ("Co.", "Inc."), left out of initials
        self._cache: dict[str, str] = {}  # name as written -> canonical (each one scans the text)
        self.mentions: list[tuple[int, str]] = []  # (start, surface name) of ORG mentions, in order
        names: list[str] = []
        modifier_uses: dict[str, list[bool]] = {}  # name -> for each "the NAME": is NAME a modifier there
        for ent in doc.ents:
            if ent.label_ in ("ORG", "GPE", "NORP", "FAC"):
                name = _org_surface(ent.text)
                if ent[0].lower_ == "the" or (ent.start > 0 and doc[ent.start - 1].lower_ == "the"):
                    modifier_uses.setdefault(name, []).append(ent.root.dep_ in ("compound", "amod", "nmod"))
                if ent.label_ == "ORG" and not ent.text.endswith(("’s", "'s")):
                    # "the U.S. Attorney’s Office for the Western District of New York": the NER stops at "for".
                    tail = _ORG_TAIL_RE.match(text, ent.end_char)
                    if tail is not None:
                        name = _normalise(name + tail.group().rstrip())
                if name and name not in names:
                    names.append(name)
                if ent.label_ == "ORG" and name:
                    self.mentions.append((ent.start_char, name))
        self.names = names
        self._the_only_as_modifier = {name for name, uses in modifier_uses.items() if all(uses)}

    def canonical(self, name: str) -> str:
        """The fullest name of an organisation, with "the" when the text writes it so ("the European Union")."""
        cached = self._cache.get(name)
        if cached is None:
            full = self._fullest(_org_surface(name))
            with_article = re.search(r"\b(?i:the)\s+" + re.escape(full) + r"\b(?!\s+[A-Z])", self.text)
            # "the GateHouse parent" puts "the" before a modifier, not before the name.
            with_article = with_article and full not in self._the_only_as_modifier
            cached = self._cache[name] = "the " + full if with_article else full
        return cached

    def _fullest(self, name: str) -> str:
        bare = name.replace(".", "").replace("&", "")
        if bare.isupper() and 2 <= len(bare) <= 6:
            longer = [
                n for n in self.names if n != name and _initials(n, self.suffixes) == bare and len(n.split()) >= 2
            ]
            if longer:
                return longer[0]
            # The NER may have split the long form ("Customs" + "Border Protection"): find it in the text.
            for match in _TITLE_PHRASE_RE.finditer(self.text):
                phrase = match.group().strip()
                if len(phrase.split()) >= 2 and _initials(phrase, self.suffixes) == bare:
                    return _org_surface(phrase)
        words = name.lower().split()
        fuller = [n for n in self.names if len(n) > len(name) and n.lower().split()[: len(words)] == words]
        if fuller:
            return max(fuller, key=len)
        if name[:1].isupper():
            # Written in full somewhere with its of/for phrase, which the parse or the NER left out.
            tails = [m.group(1) for m in re.finditer(re.escape(name) + f"({_ORG_TAIL_RE.pattern})", self.text)]
            if tails:
                return _normalise(name + max(tails, key=len))
        return name

    def containing(self, word: str, before: int) -> str | None:
        """The latest organisation before ``before`` with ``word`` in its name ("the doctors" -> "Doctors for
        Camp Closure"); else the first one named after it."""
        word = word.lower()
        hits = [(start, n) for start, n in self.mentions if word in {w.lower() for w in n.split()}]
        earlier = [n for start, n in hits if start < before]
        return self.canonical(earlier[-1]) if earlier else (self.canonical(hits[0][1]) if hits else None)

    def latest_before(self, before: int, floor: int) -> str | None:
        names = [n for start, n in self.mentions if floor <= start < before]
        return self.canonical(names[-1]) if names else None


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
        self.orgs = OrgIndex(doc, self.text, lex.name_suffixes)
        self._starts = doc.to_array([IDX]).tolist()
        self.token_starts = self._starts  # character offset of each token, for bisecting
        if sent_starts is None:
            sent_starts = [sent.start_char for sent in doc.sents]
        self._sent_starts = sent_starts
        self.names.sentence_starts = frozenset(self._sent_starts)
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
        # Proper-noun subjects: untagged ("In Kyiv, Zelenskyy said ..." with the NER silent), or a
        # person's name the NER tags otherwise this time (the loop decides which count).
        array = self.doc.to_array([POS, DEP])
        subjects = (array[:, 0] == PROPN) & (array[:, 1] == get_string_id("nsubj"))
        hits.update(numpy.flatnonzero(subjects).tolist())
        nouns = (array[:, 0] == NOUN) & (array[:, 1] == get_string_id("nsubj"))
        hits.update(i for i in numpy.flatnonzero(nouns).tolist() if self.doc[i].text[:1].isupper())
        return sorted(hits)

    def _chain_pronouns(self, in_quote: Callable[[int], bool]) -> dict[int, str | None]:
        """Resolve every he/she/his/her of the text in order; resolved subject pronouns become
        mentions themselves, so "He ... He said" chains back to the name.  Mentions inside
        quotations are not antecedents for the narrator's pronouns."""
        by_start = {m.start: m for m in self.names.mentions}
        mentions: list[PersonMention] = []
        resolved: dict[int, str | None] = {}
        seen: set[str] = set()  # last words of the person names met so far
        for i in self._chain_candidates():
            token = self.doc[i]
            quoted = in_quote(token.idx)
            sent = self._sent_index(token.idx)
            mention = by_start.get(token.idx)
            if mention is None and token.ent_type_ != "PERSON" and self.is_known_person(token):
                # A known last name the NER missed ("Trump" tagged as a verb) still counts.
                salient = token.dep_ in ("nsubj", "nsubjpass")
                mention = PersonMention(token.idx, self.names.canonical([token.text]), salient)
            elif (
                mention is None
                and token.text[:1].isupper()
                and (
                    (token.pos_ == "PROPN" and not token.ent_type_)
                    # A name already seen as a person's stays one when the tagger or the NER
                    # later reads it otherwise ("Figgins" as a noun, as an organisation).
                    or (token.dep_ in ("nsubj", "nsubjpass") and token.lower_ in seen)
                )
            ):
                mention = PersonMention(token.idx, self.names.canonical([token.text]), True)
            if mention is not None and not quoted:
                mention.sent = sent
                mentions.append(mention)
                seen.add(mention.canonical.split()[-1].lower())
            if token.lower_ not in _PRONOUN_GENDER or quoted:
                continue
            main_subject = token.dep_ == "nsubj" and token.head.dep_ == "ROOT"
            name = self.names.pick_antecedent(token.lower_, token.idx, sent, mentions, main_subject)
            resolved[token.i] = name
            if name:
                self.names.genders.setdefault(name, _PRONOUN_GENDER[token.lower_])
                if token.dep_ in ("nsubj", "nsubjpass"):
                    mentions.append(PersonMention(token.idx, name, True, sent))
        self._mentions = mentions
        return resolved

    def from_token(self, token: Token) -> Speaker | None:
        """Describe the speaker whose head token is ``token``."""
        if token.is_punct or token.is_space:
            return None  # the parser made a quotation mark or a dash the subject
        if self.never_speaks(token):
            # "52 percent said", "the Russian capital": the mention is kept, but it names no speaker.
            start, end = _span_of(_np_tokens(token))
            return Speaker(start, end, _normalise(self.text[start:end]), None, "unknown")
        if token.tag_ in ("WP", "WDT") and token.head.dep_ in ("relcl", "acl") and token.head.head.i != token.i:
            return self._relative(token)
        partitive = self._partitive(token)
        if partitive is not None:
            return partitive
        if token.lower_ in ("those", "these") and any(
            c.dep_ in ("prep", "acl", "relcl", "amod") for c in token.children
        ):
            return self._unnamed_source(token)  # "those in favor of punishment"
        pronoun_like = token.lower_ in _PRONOUN_GENDER or token.lower_ in _FIRST_PERSON
        if token.pos_ == "PRON" or (pronoun_like and not token.text.isupper()):
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
        if ent is not None and not (ent.label_ != "PERSON" and self.is_known_person(ent.root)):
            return self._named(ent, token)
        if self.is_known_person(token):
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
        apposition = antecedent
        while apposition.dep_ == "conj" and apposition.ent_type_ != "PERSON":
            apposition = apposition.head
        if apposition.dep_ == "appos" and apposition.ent_type_ != "PERSON" and apposition.head.pos_ in _NOMINAL:
            # "Lionel Sosa, a consultant and a Republican who said ...": the person the apposition describes.
            antecedent = apposition.head
        elif apposition.dep_ == "attr" and apposition.pos_ == "NOUN" and apposition.head.lemma_ == "be":
            # "Trump is a serial liar and a bully who has pledged ...": the subject the predicate describes.
            subject = next((c for c in apposition.head.children if c.dep_ == "nsubj"), None)
            if subject is not None and subject.pos_ == "PROPN":
                antecedent = subject
        speaker = self.from_token(antecedent)
        if speaker is None:
            return None
        end = token.idx + len(token.text)
        return Speaker(token.idx, end, token.text, speaker.name, speaker.kind, speaker.role)

    def _partitive(self, token: Token) -> Speaker | None:
        """'one of the veterans', 'some of them': the head alone ("one") names nobody, the whole phrase does."""
        if token.lower_ not in self.lex.partitive_heads and token.tag_ != "CD":
            return None
        of = next((c for c in token.children if c.dep_ == "prep" and c.lower_ == "of" and c.i > token.i), None)
        if of is None or not any(c.dep_ == "pobj" for c in of.children):
            return None
        return self._unnamed_source(token)

    def _unnamed_source(self, head: Token) -> Speaker:
        """The whole phrase, postmodifiers kept: "two officials familiar with the planning"."""
        tokens = _np_tokens(head, keep_postmodifiers=True)
        for child in head.children:
            if child.dep_ == "acl" and self.lex.is_cue_verb(child.lemma_.lower()) and not names_itself(child):
                # 'a man yelled "Stay there!"', 'supporters saying: "..."': the reporting verb is no part of the source.
                tokens = [t for t in tokens if t.i < child.left_edge.i or t.i > child.right_edge.i]
        joined = [c for c in head.children if c.dep_ == "conj" and c.pos_ == "NOUN" and c.i > head.i]
        if joined and head.tag_ == "NNS" and all(c.tag_ == "NNS" for c in joined):
            # "Businesses and residents say ...": a joint unnamed source is the whole coordination.
            tokens = sorted(
                {*tokens, *(t for c in joined for t in _np_tokens(c)), *(c for c in head.children if c.dep_ == "cc")},
                key=lambda t: t.i,
            )
        for k, token in enumerate(tokens[1:-1], start=1):
            if token.text == "," and tokens[k + 1].lower_ in ("who", "which", "whose"):
                tokens = tokens[:k]  # "a diplomat in Moscow, who asked not to be named": no relative clause
                break
        start, end = _span_of(tokens)
        mention = _normalise(self.text[start:end])
        return Speaker(start, end, mention, _described(tokens[0], mention, self.lex), "unnamed")

    def is_known_person(self, token: Token) -> bool:
        """A capitalised word that is the last name of a person this text names in full."""
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
            name = self.names.canonical(words, [*_title_before(ent, self.lex), *titles]) if words else text
            role = role_words(ent, self.lex)
            return Speaker(start, end, text, name, "person", role)
        # Organisations keep their determiner-less surface form ("the Kremlin" -> "Kremlin"), in full.
        name = self.orgs.canonical(text)
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
                best = self.orgs.canonical(_org_surface(ent.text))
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
        if lemma in self.lex.documents:
            return self._document(head, start, end, mention)
        if lemma in self.lex.unnamed and (dets & self.lex.indefinite_determiners or plural or not definite):
            # Keep what identifies the source.
            return self._unnamed_source(head)
        org_noun = lemma in self.lex.organizations or lemma in self.lex.org_back_references
        if org_noun and not definite and dets & {"a", "an"}:
            # "a group representing rural counties in California": an unnamed source, as described.
            return self._unnamed_source(head)
        if definite and (plural or org_noun):
            group = self._group_named(head, lemma, start)
            if group is not None:
                return Speaker(start, end, mention, group, "organization", mention)
        if org_noun or head.ent_type_ in ORG_LABELS:
            return Speaker(start, end, mention, self.orgs.canonical(mention), "organization")
        if definite and lemma in self.lex.person_roles:
            modifiers = {c.lower_ for c in head.children if c.dep_ in ("amod", "compound") and c.i < head.i}
            owners = {t.lower_ for c in head.children if c.dep_ == "poss" for t in c.subtree if not t.is_punct}
            # "the chairman of the Conservative Party": a description that identifies its holder by itself.
            of_named = any(
                c.dep_ == "prep" and c.lower_ in ("of", "for") and any(t.pos_ == "PROPN" for t in c.subtree)
                for c in head.children
            )
            name = self.names.resolve_role(lemma, modifiers, start)
            if name is None and (modifiers or owners):
                name = self.names.role_named_later(lemma, modifiers, start) or self._titled_later(lemma, start)
            if name is None and not of_named and lemma not in self.lex.anonymous_heads:
                # "The Russian leader added ...": the person the text is about right now.
                name = self.names.pick_antecedent("", start, self._sent_index(start), self._mentions)
            if name:
                return Speaker(start, end, mention, name, "person", mention)
            if of_named:
                return self._unnamed_source(head)
            return Speaker(start, end, mention, _described(tokens[0], mention, self.lex), "unnamed", mention)
        if head.pos_ == "PROPN":
            words, titles = clean_name_tokens([t.text for t in tokens if t.pos_ == "PROPN"], self.lex)
            if words:
                return Speaker(start, end, mention, self.names.canonical(words, titles), "person")
        # An unnamed description keeps what identifies it: "the 52-year-old owner of Northside Books".
        return self._unnamed_source(head)

    def _group_named(self, head: Token, lemma: str, start: int) -> str | None:
        """The organisation a definite group noun stands for: one named in apposition ("The group, WeWorkers
        Coalition,"), one whose name holds the noun ("the doctors" -> "Doctors for Camp Closure"), the one
        introduced with the same noun earlier ("a coalition, X, ..."), else for a generic organisation noun
        ("the utility") the organisation named last."""
        for child in head.children:
            ent = self.ents.get(child)
            if child.dep_ == "appos" and ent is not None and ent.label_ in ORG_LABELS:
                return self.orgs.canonical(_org_surface(ent.text))
        group = self.orgs.containing(head.text, start) or self.orgs.containing(lemma, start)
        if group is None and head.tag_ in ("NNS", "NNPS"):
            group = self._title_case_name_with(head.text)
        if group is None:
            for i in range(head.i - 1, max(-1, head.i - 400), -1):
                earlier = self.doc[i]
                if earlier.lemma_.lower() != lemma or earlier.pos_ != "NOUN":
                    continue
                # Named right after it: "The group, WeWorkers Coalition," / "a coalition called X".
                k = earlier.i + 1
                while k < len(self.doc) and k <= earlier.i + 2 and self.doc[k].lower_ in (",", "called", "named"):
                    k += 1
                ent = self.ents.get(self.doc[k]) if k < len(self.doc) and k > earlier.i + 1 else None
                if ent is not None and ent.label_ == "ORG" and ent.start == k:
                    return self.orgs.canonical(ent.text)
        if group is None and lemma in self.lex.org_back_references:
            floor = self._sent_starts[max(0, self._sent_index(start) - _SALIENCE_SENTENCES)]
            group = self.orgs.latest_before(start, floor)
        return group

    def _title_case_name_with(self, word: str) -> str | None:
        """A capitalised name of two or more words holding ``word`` ("Doctors for Camp Closure"), which
        the NER may have missed."""
        pattern = rf"(?:[A-Z][\w&'’.-]*\s+)*{re.escape(word.capitalize())}(?:\s+(?:for|of|and|the|[A-Z][\w&'’.-]*))*"
        for match in re.finditer(pattern, self.text):
            words = match.group().split()
            while words and not words[-1][:1].isupper():
                words.pop()
            if len(words) >= 2 and match.start() > 0 and self.text[match.start() - 1] not in ".!?\n":
                return " ".join(words)
        return None

    def _titled_later(self, role_lemma: str, pos: int) -> str | None:
        """ "China's ambassador ... China's ambassador to Britain Liu Xiaming said": the first person named
        after ``pos`` with the role word among the few words before the name."""
        for ent in self.doc.ents:
            if ent.label_ != "PERSON" or ent.start_char <= pos:
                continue
            before = self.doc[max(ent.sent.start, ent.start - 6) : ent.start]
            if any(t.lemma_.lower() == role_lemma for t in before):
                return self.names.canonical_for(ent)
        return None

    def _document(self, head: Token, start: int, end: int, mention: str) -> Speaker:
        """'the report said': the document's author when the article names one (its possessor, 'by X' /
        'from X', or whoever issued an earlier document of the same kind), else the document as described."""
        author = self._document_author(head) or self._issuer(head) or self._earlier_document_author(head)
        if author is not None and author.name:
            return Speaker(start, end, mention, author.name, author.kind, author.role)
        return Speaker(start, end, mention, _described(self.doc[head.left_edge.i], mention, self.lex), "document")

    def _issuer(self, doc_head: Token) -> Speaker | None:
        """'the Electoral Commission issued a statement warning ...': the subject of the verb whose object
        the document is."""
        verb = doc_head.head
        if doc_head.dep_ != "dobj" or verb.pos_ != "VERB":
            return None
        subject = next((c for c in verb.children if c.dep_ == "nsubj"), None)
        if subject is None or subject.is_punct or subject.lemma_.lower() in self.lex.documents:
            return None
        return self.from_token(subject)

    def _document_author(self, doc_head: Token) -> Speaker | None:
        for child in doc_head.children:
            ent = self.ents.get(child)
            if child.dep_ == "compound" and ent is not None and ent.label_ in ("ORG", "PERSON"):
                return self._named(ent, ent.root)  # "a DHS Office of Inspector General report"
            if child.dep_ == "poss" and not child.is_punct:
                return self.from_token(child)
            if child.dep_ == "prep" and child.lower_ in ("by", "from", "of"):
                pobj = next((c for c in child.children if c.dep_ == "pobj"), None)
                if pobj is not None and self._could_author(pobj):
                    return self.from_token(pobj)
            if child.dep_ in ("acl", "relcl", "prep"):  # "the letter signed by X", "a report on Y by X"
                for grandchild in child.subtree:
                    if grandchild.dep_ in ("agent", "prep") and grandchild.lower_ in ("by", "from"):
                        pobj = next((c for c in grandchild.children if c.dep_ == "pobj"), None)
                        if pobj is not None and self._could_author(pobj):
                            return self.from_token(pobj)
        return None

    def _could_author(self, token: Token) -> bool:
        return token.pos_ == "PROPN" or token.ent_type_ in ("PERSON", "ORG", "GPE", "NORP")

    def _earlier_document_author(self, doc_head: Token) -> Speaker | None:
        """'X released a report on Monday. ... The report said': the issuer of the latest earlier
        document with the same head noun."""
        lemma = doc_head.lemma_.lower()
        floor = max(0, doc_head.i - 600)
        for i in range(doc_head.i - 1, floor - 1, -1):
            token = self.doc[i]
            if token.lemma_.lower() != lemma or token.pos_ != "NOUN":
                continue
            author = self._document_author(token)
            if author is not None:
                return author
            verb = token.head
            if token.dep_ == "nsubjpass" and verb.pos_ == "VERB":
                # "A report ... was released by the Office of Inspector General."
                agent = next((c for c in verb.children if c.dep_ == "agent"), None)
                pobj = next((c for c in agent.children if c.dep_ == "pobj"), None) if agent is not None else None
                if pobj is not None and self._could_author(pobj):
                    return self.from_token(pobj)
            if token.dep_ in ("dobj", "nsubjpass") and verb.pos_ == "VERB":
                subject = next((c for c in verb.children if c.dep_ == "nsubj"), None)
                if subject is not None and not subject.is_punct and subject.lemma_.lower() not in self.lex.documents:
                    return self.from_token(subject)
            if token.dep_ == "pobj" and verb.dep_ == "prep" and verb.head.pos_ == "VERB":
                # "X said in a statement": the statement is X's.
                subject = next((c for c in verb.head.children if c.dep_ == "nsubj"), None)
                if subject is not None and not subject.is_punct and subject.lemma_.lower() not in self.lex.documents:
                    return self.from_token(subject)
            return None  # the nearest earlier document of this kind has no named issuer
        return None

    def is_time(self, token: Token) -> bool:
        """'said Tuesday': a date or time the parser took for the subject."""
        return token.lower_ in self.lex.time_words or token.ent_type_ in ("DATE", "TIME")

    def never_speaks(self, token: Token) -> bool:
        """Places, evidence and media, bare quantities and poll shares ("52 percent", "a clear majority"; but
        "52 percent of Republicans" is a group), and a party label alone ("Democrat")."""
        if any(c.dep_ == "prep" and c.lower_ == "of" and c.i > token.i for c in token.children):
            return False
        if token.lemma_.lower() in self.lex.non_speakers or token.lower_ in self.lex.non_speakers:
            return True
        if token.like_num or token.ent_type_ in ("PERCENT", "MONEY", "QUANTITY"):
            return True
        ent = self.ents.get(token)
        party_label = ent is not None and ent.label_ == "NORP" and len(ent) == 1 and not self.is_known_person(token)
        return party_label and not any(c.dep_ in ("det", "nummod", "compound", "amod") for c in token.children)

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
