"""The attribution rules: from a parsed Doc to plain statement dicts.

The rules run in four passes over one document:

1. *Cues*: every reporting verb outside quotation marks (and every
   "according to", and speech nouns like "his warning that ...") becomes a
   ``Cue`` with its speaker head and, when the parse has one, its content: a
   clause complement, the object of verbs like "call" and "accuse", the whole
   sentence around a comma-fenced "X said" (parenthetical or sentence-final),
   or the sentence an "according to" phrase sits in.
2. *Reported speech*: cues whose content lies mostly outside quotation marks
   give INDIRECT statements, or MIXED ones when quoted fragments sit inside.
3. *Direct quotes*: each remaining quotation takes the nearest free cue of its
   own sentence, of the sentence right after it ('"...," he said.'), or of a
   sentence ending in a colon just before it ('X: "..."' also works).
4. *Continuations*: an unattributed quotation that starts a sentence joins the
   direct quote right before it in the same paragraph (split quotes), or,
   starting the next paragraph, inherits its speaker (floating quotes); a
   short sentence about a person ('Bystrom agreed.') introduces the quotation
   after it.  Finally "one" / "the official" name the unnamed group before them.

Quotations nobody claims (headlines, scare quotes, titles) produce nothing.
Speakers come from ``nlp.speakers``; when the parse has no subject, the name
next to the verb is used ('"...," said Jeff Weaver').  The output is plain
data (lists, str, int) so it survives Doc serialization.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from typing import Any

import numpy
from spacy.attrs import LEMMA, LOWER
from spacy.strings import get_string_id
from spacy.tokens import Doc, Token
from spacy.tokens import Span as SpacySpan

from saidwhat.nlp.lexicon import Lexicon
from saidwhat.nlp.quotes import Quote, count_words, find_quotes, paragraphs
from saidwhat.nlp.speakers import Speaker, SpeakerResolver, names_itself

Span = tuple[int, int]

# Every rule that can produce a statement (the ``rule`` of each statement), with what it matches.
RULES = {
    "clause": "a reporting verb with a clause complement: X said (that) ...",
    "question": "ask/wonder with an if/whether clause: X asked whether ...",
    "object": 'call/describe/accuse-like verbs whose object is the content: X called the plan "..."',
    "object_is_content": "announce/propose-like verbs whose long object is the content",
    "infinitive": "a reporting verb with an infinitive complement: X urged Y to ...",
    "misparsed_clause": "say + object + a finite verb the parser split off: X said a trip would be ...",
    "parenthetical": "a comma-fenced aside reporting the whole sentence: Y, X said, is ...",
    "closing_frame": "a sentence-final attribution after a comma: ..., police said.",
    "noun_clause": "a speech noun with a possessor and a that-clause: his warning that ...",
    "according_to": "a source-after phrase: ..., according to X",
    "quote_cue": 'a quotation next to a reporting verb of its sentence: "...," X said.',
    "quote_colon": 'a quotation after a name and a colon: X: "..."',
    "quote_lead_in": 'a quotation after a short sentence about a person: X agreed. "..."',
    "quote_signature": 'a quotation signed by a name after a dash: "..." - Hillary Clinton.',
    "floating_quote": "a quotation paragraph inheriting the speaker of the statement before it",
}
_TRIM = " \t\n,;:-–—"
# A wire dateline at the start of a paragraph: "MOSCOW (Northgate Wire) — ", "WASHINGTON, Jan 5 (Reuters) - ".
# It is the writer's, never part of what the speaker said.
_DATELINE = re.compile(
    r"[A-Z][A-Z'’.\- ]{1,40}"  # the place, in capitals
    r"(?:,\s*[A-Z][A-Za-z0-9.\- ]{1,30})?"  # ", Jan 5"
    r"(?:\s*\([^()\n]{1,40}\))?"  # "(Reuters)"
    r"\s*[—–-]{1,2}\s+"
)
_MODALS = {"would", "will", "could", "can", "should", "must", "might", "may", "shall"}
_COMPLEMENTIZERS = {"that", "whether", "if"}
_SUBJECT_DEPS = ("nsubj", "nsubjpass", "expl", "csubj")
# Every significant word capitalised: "The Art of the Deal", "Morning Joe", "America's Unwritten Constitution".
_TITLE_LIKE_RE = re.compile(r"(?:(?:[A-Z0-9][\w'’&:.-]*|of|the|a|an|and|in|on|for|to|with|at|by|or)\s*)+")
# Verbs whose object is a text its subject put out: "issued a statement, ..." (then the quotation).
_ISSUING_VERBS = frozenset({"issue", "release", "read", "post", "publish", "send", "put", "deliver", "give"})
# '- Hillary Clinton.' signing a quotation: a dash, then a capitalised name of up to five words, and nothing else.
_SIGNATURE_RE = re.compile(r"\s*[-—–]\s*([A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,4})\.?\s*")
# Closing quotation marks as printed, straight, curly and doubled apostrophes.
_CLOSING_MARKS = ("”", '"', "''", "’’")
_SCENE_OPENERS = frozenset({"as", "while", "when", "after", "before", "because", "since", "until"})
_SHARES = frozenset({"percent", "%", "majority", "plurality", "minority", "half", "third", "quarter", "fifth"})
_LAST_WORD_RE = re.compile(r"\b\w+$")
_SENTENCE_END_RE = re.compile(r"""[.!?…]['"”’]*\s*$""")


@dataclass
class Cue:
    """A reporting cue: the verb (or 'according to'), its speaker head and its content."""

    token: Token
    start: int
    end: int
    lemma: str
    subject: Token | None
    content: Span | None
    quote_only: bool = False
    gap: Span | None = None  # a parenthetical "he said" inside the content, cut out of it
    rule: str = "clause"  # how the content was found; the statement's rule (see RULES)


@dataclass
class Draft:
    """A statement under construction."""

    kind: str
    spans: list[Span]
    cue: Cue | None
    speaker: Speaker | None
    cue_span: Span | None = None
    colon: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    rule: str = ""  # the rule that produced the statement (see RULES)
    nested_in: int | None = None  # index of the statement this one is reported inside

    @property
    def start(self) -> int:
        return self.spans[0][0]

    @property
    def end(self) -> int:
        return self.spans[-1][1]


@dataclass(frozen=True)
class RuleSettings:
    """Tunable thresholds (mirrors the component config)."""

    min_direct_words: int = 3
    min_indirect_words: int = 3
    max_split_gap: int = 250
    merge_floating: bool = False
    # Also emit statements reported inside another one ("the senator said the minister had told her
    # that ..."), marked with ``nested_in``. Off by default: the outer statement already carries the
    # words, and on both development sets the inner ones were mostly wrong or duplicate rows.
    nested: bool = False


# Subordinators whose clause, hung on the reporting verb right after its content, continues the content.
_CONTENT_SUBORDINATORS = frozenset({"if", "unless", "because", "until", "once", "so"})


def _content_words(text: str) -> list[str]:
    """Words outside quotation marks that say something (not a bare 'that')."""
    return [w for w in re.findall(r"\w+", text.lower()) if w not in _COMPLEMENTIZERS]


def _overlap(a: Span, b: Span) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


class DocRules:
    """Runs the attribution rules over one parsed document."""

    def __init__(self, doc: Doc, lex: Lexicon, settings: RuleSettings) -> None:
        self.doc = doc
        self.text = doc.text
        self.lex = lex
        self.settings = settings
        self.paragraphs = paragraphs(self.text)
        self._para_starts = [p[0] for p in self.paragraphs]
        self.sents = list(doc.sents)
        self._sent_starts = [s.start_char for s in self.sents]
        self.quotes = [q for q in find_quotes(self.text) if not self._is_title(q)]
        self._quote_pieces = sorted(span for q in self.quotes for span in q.spans)
        self._piece_starts = [s for s, _ in self._quote_pieces]
        self.speakers = SpeakerResolver(doc, lex, self.in_quote, self.text, self._sent_starts)
        self._token_starts = self.speakers.token_starts

    # ------------------------------------------------------------ positions
    def in_quote(self, pos: int) -> bool:
        i = bisect_right(self._piece_starts, pos) - 1
        return i >= 0 and pos < self._quote_pieces[i][1]

    def para_of(self, pos: int) -> int:
        return bisect_right(self._para_starts, pos) - 1

    def sent_span(self, token: Token) -> SpacySpan:
        """``token.sent`` without its cost (spaCy rescans the Doc on every call)."""
        return self.sents[self.sent_of(token.idx)]

    def sent_of(self, pos: int) -> int:
        return max(0, bisect_right(self._sent_starts, pos) - 1)

    def _quoted_chars(self, span: Span) -> int:
        return sum(_overlap(span, piece) for piece in self._quote_pieces)

    def _is_title(self, quote: Quote) -> bool:
        """'his book "The Art of the Deal"': a title, not a quotation."""
        before = self.text[max(0, quote.start - 40) : quote.start].lower().split()
        return bool(before) and before[-1].strip(",:") in self.lex.title_nouns

    # ------------------------------------------------------------ cues
    def find_cues(self) -> list[Cue]:
        cues = []
        for i in self._cue_candidates():
            token = self.doc[i]
            if self.in_quote(token.idx):
                continue
            cue = self._cue_at(token)
            if cue is not None:
                cues.append(cue)
        return cues

    def _cue_candidates(self) -> list[int]:
        """Token indices whose lemma is a cue word: a vectorised prefilter, because creating
        a Token object for every word costs more than all the rules together."""
        words = self.lex.speech_verbs | self.lex.quote_only_verbs | self.lex.speech_nouns
        words = words | {phrase[0] for phrase in self.lex.source_after}
        ids = numpy.array([get_string_id(w) for w in words], dtype="uint64")
        array = self.doc.to_array([LEMMA, LOWER])
        hits = numpy.isin(array[:, 0], ids) | numpy.isin(array[:, 1], ids)
        return numpy.flatnonzero(hits).tolist()

    def _cue_at(self, token: Token) -> Cue | None:
        phrase = self._source_phrase_at(token)
        if phrase is not None:
            to = self.doc[token.i + len(phrase) - 1]
            source = next((c for c in to.children if c.dep_ == "pobj"), None)
            if source is None:
                source = next((c for c in token.children if c.dep_ == "pobj"), None)
            end = to.idx + len(to.text)
            if source is not None and source.lemma_.lower() in self.lex.documents and self._has_own_speaker(token):
                return None  # '"...," he told settler leaders, according to a statement': a channel
            content, gap = self._according_content(token, to)
            return Cue(token, token.idx, end, " ".join(phrase), source, content, gap=gap, rule="according_to")
        if token.pos_ == "NOUN" and token.lemma_.lower() in self.lex.speech_nouns:
            return self._noun_cue(token)
        if token.pos_ != "VERB":
            return self._mistagged_closing_verb(token)
        if self._discourse_marker(token):
            return None  # "That said, Millennials say ...": a connective, not a statement
        lemma = token.lemma_.lower()
        if not self.lex.is_cue_verb(lemma):
            return None
        # '"...," Trump shot back': the parser may label the particle an adverb.
        particles = [c for c in token.children if c.dep_ == "prt" or (c.dep_ == "advmod" and c.lower_ == "back")]
        needed = self.lex.particles.get(lemma)
        if needed is not None and not any(p.lower_ == needed for p in particles):
            return None  # "point" is a cue only as "point out"
        if lemma == "call" and token.dep_ == "acl" and token.tag_ == "VBN":
            return None  # "a super PAC called Our Principles" names, it does not report
        if lemma == "call" and token.dep_ == "acl" and names_itself(token):
            return None  # "a man calling himself Paul" is named; "he calls himself a socialist" says so
        if lemma == "call" and any(c.dep_ == "auxpass" for c in token.children):
            return None  # "the rooms are often called hieleras by those held in them" names, it does not report
        if self._is_question(token):
            return None  # "Did Trump say he was meeting Putin?" asks, it does not report
        end = max([token, *particles], key=lambda t: t.i)
        quote_only = lemma not in self.lex.speech_verbs
        subject = self._subject(token)
        subject = self._speaker_in_apposition(token, subject) or subject
        if lemma == "ask" and self._asks_anonymity(token):
            return None  # "who asked not to be named" is no statement
        if token.dep_ == "xcomp" and token.head.lemma_.lower() in self.lex.refusal_verbs:
            return None  # "declined to say when ..." is a refusal, not a statement
        if self._negated_question(token) or self._negated_report(token):
            return None  # "the agency didn't estimate how many ...", "she did not say that ..."
        head = token.head
        noun_clause = token.dep_ in ("acl", "relcl") and head.pos_ in ("NOUN", "PROPN")
        if noun_clause and not self._could_speak(head) and (subject is None or subject.i == head.i):
            return None  # "conspiracy theories suggesting ...": the noun does not speak
        content, gap, rule = None, None, "clause"
        if not quote_only and self._after_quote(token):
            # 'No Child Left Behind was "very assertive," said Gary Orfield': the writer's words and the
            # quotation before the closing attribution are one mixed statement.
            final = self._final_frame(token, subject, after_quote=True)
            if final is not None and _content_words(self._unquoted_text(final))[1:]:
                content, rule = final, "closing_frame"
            else:
                # 'hailed the vote as "fantastic," telling reporters that he thinks ...': a complement
                # after the verb is its content, whatever the quotation before it.
                content, rule = self._verb_content(token, lemma)
                opening = self.text[content[0] : content[1]].split(" ", 1)[0].lower() if content else ""
                if content is None or content[0] < token.idx or opening in _SCENE_OPENERS:
                    content, rule = None, "clause"  # '"...," he said as the crowd booed': the scene
        elif not quote_only and self._frames_opening_quote(token, subject):
            pass  # '"...," Mr. Obama told the lawmakers ...': the quotation is what was said
        elif not quote_only:
            content, rule = self._verb_content(token, lemma)
            parenthetical = self._parenthetical(token, subject) or self._as_frame(token, subject)
            if parenthetical is not None:
                (content, gap), rule = parenthetical, "parenthetical"
            else:
                final = self._final_frame(token, subject)
                if final is not None and (content is None or (final[0] <= content[0] and content[1] <= final[1])):
                    # the whole sentence before the closing "X said", not a fragment of it
                    content, rule = final, "closing_frame"
        if gap is None and content is not None and subject is not None and content[0] <= subject.idx < content[1]:
            content = None  # the parser mixed up speaker and content: trust only a quotation here
        return Cue(token, token.idx, end.idx + len(end.text), lemma, subject, content, quote_only, gap, rule)

    def _mistagged_closing_verb(self, token: Token) -> Cue | None:
        """'"...," Bozell answers.' / '"...," the editorial read.': the tagger took the verb of a closing
        attribution for a noun. Only the shape quotation, comma, a short name or noun phrase, the
        verb, end of sentence is trusted."""
        lemma = token.lemma_.lower()
        if token.pos_ not in ("NOUN", "PROPN") or not self.lex.is_cue_verb(lemma):
            return None
        following = token.nbor(1) if token.i + 1 < len(self.doc) else None
        if following is not None and following.text not in (".", "!", "?", "\n"):
            return None
        first = token.i - 1
        while first > 0 and token.i - first < 4 and self.doc[first - 1].pos_ in ("PROPN", "NOUN", "ADJ", "DET"):
            first -= 1
        if first >= token.i or self.doc[first - 1 : first].text.strip() not in _CLOSING_MARKS:
            return None
        if not self.text[: self.doc[first - 1].idx].rstrip().endswith((",", "?", "!")):
            return None
        subject = self.doc[token.i - 1]
        if not (self._could_speak(subject) or subject.lemma_.lower() in self.lex.documents):
            return None
        quote_only = lemma not in self.lex.speech_verbs
        return Cue(token, token.idx, token.idx + len(token.text), lemma, subject, None, quote_only)

    def _negated_question(self, verb: Token) -> bool:
        """A negated reporting verb whose complement is an open question: nothing was said."""
        if not self._negated(verb):
            return False
        for comp in verb.children:
            if comp.dep_ in ("ccomp", "advcl", "xcomp") and comp.i > verb.i:
                first = comp.left_edge
                if first.lower_ in ("whether", "if") or first.tag_ in ("WRB", "WP", "WDT"):
                    return True
        return False

    def _negated_report(self, verb: Token) -> bool:
        """'who did not explicitly say that Mr. Sanders was not qualified': a negated "say"/"tell" with a
        clause complement reports what was *not* said."""
        if verb.lemma_.lower() not in ("say", "tell", "claim", "suggest") or not self._negated(verb):
            return False
        return any(c.dep_ == "ccomp" and c.i > verb.i for c in verb.children)

    def _negated(self, verb: Token) -> bool:
        return any(c.dep_ == "neg" or c.lower_ in self.lex.negations for c in verb.children)

    @staticmethod
    def _asks_anonymity(verb: Token) -> bool:
        """'asked not to be named / identified': a negated passive infinitive complement."""
        return any(
            c.dep_ == "xcomp"
            and any(g.dep_ == "neg" for g in c.children)
            and any(g.dep_ == "auxpass" for g in c.children)
            for c in verb.children
        )

    def _has_own_speaker(self, according: Token) -> bool:
        """'"...," he told settler leaders, according to a statement': the phrase follows a quotation and its
        own reporting verb with a subject, so the document is where the words appeared, not who said them."""
        sent = self.sent_span(according)
        quoted = [t for t in sent if t.i < according.i and self.in_quote(t.idx)]
        if not quoted:
            return False
        return any(
            t.pos_ == "VERB"
            and quoted[-1].i < t.i < according.i
            and t.lemma_.lower() in self.lex.speech_verbs
            and any(c.dep_ == "nsubj" and not self.in_quote(c.idx) for c in t.children)
            for t in sent
        )

    def _source_phrase_at(self, token: Token) -> tuple[str, ...] | None:
        """The source-after phrase ("according to") starting at ``token``, if any."""
        for phrase in self.lex.source_after:
            end = token.i + len(phrase)
            if end <= len(self.doc) and all(self.doc[token.i + k].lower_ == w for k, w in enumerate(phrase)):
                return phrase
        return None

    def _paragraph_at(self, pos: int, default: Span) -> Span:
        """The paragraph around ``pos``; ``default`` for a text without paragraphs."""
        return self.paragraphs[self.para_of(pos)] if self.paragraphs else default

    def _sentence_bounds(self, token: Token) -> Span:
        """The token's sentence, clipped to its paragraph (parse trees can run over a line break)."""
        sent = self.sent_span(token)
        para = self._paragraph_at(token.idx, (sent.start_char, sent.end_char))
        return max(sent.start_char, para[0]), min(sent.end_char, para[1])

    def _final_frame(self, verb: Token, subject: Token | None, after_quote: bool = False) -> Span | None:
        """'As Trump prepared to speak, a girl was pepper-sprayed, police said.': a sentence-final
        'X said' (or 'said X') after a comma reports everything before that comma.  ``after_quote``:
        the comma is inside a quotation that closes right before the verb ('was "strategic," said X')."""
        if subject is None or verb.lemma_.lower() not in self.lex.parenthetical_verbs:
            return None
        sent = self.sent_span(verb)
        first = min(subject.left_edge.i, verb.i)
        last = max(subject.right_edge.i, verb.i)
        if not all(self._closing_token(t, verb) for t in self.doc[last + 1 : sent.end]):
            return None  # more clause after the verb: not a closing attribution
        sent_start = self._sentence_bounds(verb)[0]
        if after_quote:
            before = self.text[: verb.idx].rstrip()
            if first != verb.i or not before.endswith(_CLOSING_MARKS):
                return None
            if self.in_quote(sent.start_char):
                return None  # the sentence opens with the quotation: the direct pass takes it
            return self._trim((sent_start, len(before)))
        comma = self.doc[first - 1] if first - 1 >= sent.start else None
        if comma is not None and comma.text in _CLOSING_MARKS and first - 2 >= sent.start:
            return self._frame_closing_in_quote(self.doc[first - 2], comma, sent, sent_start)
        if comma is None or comma.text != "," or self.in_quote(comma.idx):
            return None
        return self._trim((sent_start, comma.idx))

    def _frame_closing_in_quote(self, inner: Token, mark: Token, sent: SpacySpan, sent_start: int) -> Span | None:
        """'He would be a better president than Clinton "no matter what," one user commented.': the comma
        is inside the quotation that ends the content. Not when the sentence opens with the quotation,
        when a colon leads into it, or when the content reports someone else's words ('Canova
        "bristled" and said, "No comment," the Herald reported')."""
        if inner.text != "," or self.in_quote(sent.start_char):
            return None
        quote = next((q for q in self.quotes if q.start <= inner.idx < q.end), None)
        if quote is not None and self.text[sent_start : quote.start].rstrip().endswith(":"):
            return None
        span = (sent_start, mark.idx + len(mark.text))
        for token in self._tokens_in(span):
            if token.pos_ == "VERB" and self.lex.is_cue_verb(token.lemma_.lower()) and not self.in_quote(token.idx):
                return None
        return self._trim(span)

    @staticmethod
    def _closing_token(token: Token, verb: Token) -> bool:
        """Punctuation or an adverbial of the verb ('said Tuesday', 'said in a statement')."""
        if token.is_punct or token.is_space or token.dep_ in ("pobj", "det", "amod", "compound"):
            return True
        if token.head.i == verb.i and token.dep_ in ("npadvmod", "advmod", "prep"):
            return True
        if token.head.i == verb.i and token.dep_ in ("dobj", "dative") and verb.lemma_.lower() == "tell":
            return True  # the addressee: "..., Ash Carter told a Senate panel Wednesday."
        return token.head.dep_ in ("prep", "pobj")

    def _parenthetical(self, verb: Token, subject: Token | None) -> tuple[Span, Span] | None:
        """'The good news, Woolson said, is that ...': a comma-fenced 'X said' inside the sentence
        reports the whole sentence around it.  Returns (content hull, the fenced frame)."""
        if subject is None or verb.lemma_.lower() not in self.lex.parenthetical_verbs:
            return None
        if subject.i < verb.i:
            first, last = subject.left_edge.i, verb.i
        else:
            first, last = verb.i, subject.right_edge.i
        sent = self.sent_span(verb)
        while last + 1 < sent.end and self.doc[last + 1].dep_ in ("npadvmod", "advmod", "prt"):
            last += 1  # "said Tuesday,"
        if first - 1 <= sent.start or last + 1 >= sent.end - 1:
            return None
        before, after = self.doc[first - 1], self.doc[last + 1]
        if before.text != "," or after.text != ",":
            return None
        if any(t.pos_ == "VERB" and t.i != verb.i for t in self.doc[first : last + 1]):
            return None  # 'Putin leaned in and said,' is a clause of its own, not an aside
        opener = self.doc[sent.start]
        if self.in_quote(self.doc[last + 2].idx if last + 2 < len(self.doc) else after.idx) and (
            opener.pos_ in ("ADP", "ADV", "SCONJ") or opener.dep_ in ("prep", "advmod", "advcl", "npadvmod")
        ):
            return None  # 'Back in August, Putin said, "Next time in Moscow."' introduces a quotation
        content = self._trim(self._sentence_bounds(verb))
        if content is None:
            return None
        return content, (before.idx, after.idx + 1)

    def _as_frame(self, verb: Token, subject: Token | None) -> tuple[Span, Span | None] | None:
        """'As the paper noted, it is surprising ...' / '..., as Clyburn noted.': an "as X noted" clause
        reports the rest of its sentence.  Returns (content, the frame when it sits inside the content)."""
        if subject is None or subject.head.i != verb.i or verb.lemma_.lower() not in self.lex.parenthetical_verbs:
            return None
        mark = next((c for c in verb.children if c.dep_ == "mark" and c.lower_ == "as" and c.i < subject.i), None)
        if mark is None or any(c.dep_ in ("ccomp", "dobj", "xcomp") for c in verb.children):
            return None
        sent = self.sent_span(verb)
        last = verb.right_edge.i
        while last > verb.i and self.doc[last].is_punct:
            last -= 1  # the parser may hang the fencing comma on the verb itself
        first = mark.i
        while first - 1 >= sent.start and self.doc[first - 1].dep_ == "cc":
            first -= 1  # "But as Clyburn noted, ..."
        before = self.doc[first - 1] if first - 1 >= sent.start else None
        after = self.doc[last + 1] if last + 1 < sent.end else None
        sent_start, sent_end = self._sentence_bounds(verb)
        if before is None and after is not None and after.text == ",":
            content = self._trim((after.idx + 1, sent_end))
            return (content, None) if content else None
        if before is not None and before.text == "," and (after is None or (after.is_punct and after.text != ",")):
            content = self._trim((sent_start, before.idx))
            return (content, None) if content else None
        if before is not None and before.text == "," and after is not None and after.text == ",":
            content = self._trim((sent_start, sent_end))
            return (content, (before.idx, after.idx + 1)) if content else None
        return None

    @staticmethod
    def _is_question(verb: Token) -> bool:
        """An inverted do-support question: 'did X say ...?'."""
        subject = next((c for c in verb.children if c.dep_ == "nsubj"), None)
        return subject is not None and any(
            c.dep_ == "aux" and c.lower_ in ("did", "does", "do") and c.i < subject.i for c in verb.children
        )

    def _after_quote(self, verb: Token) -> bool:
        """'"...," said Carson': a verb right after a closing quotation reports that quotation."""
        before = self.text[: verb.idx].rstrip()
        if before.endswith((",", "-", "—", "–")):
            before = before[:-1].rstrip()
        return bool(before) and self.in_quote(len(before) - 1)

    def _speaker_in_apposition(self, verb: Token, subject: Token | None) -> Token | None:
        """'Clinton, a top aide said, "is very confident"': with no comma before the verb, the phrase
        the parser took for an apposition of the sentence's subject is the speaker of an aside."""
        if subject is None or verb.i + 1 >= len(self.doc) or self.doc[verb.i + 1].text != ",":
            return None
        for appos in subject.children:
            if appos.dep_ != "appos" or appos.i < subject.i or appos.right_edge.i != verb.i - 1:
                continue
            if appos.left_edge.i > 0 and self.doc[appos.left_edge.i - 1].text == "," and self._could_speak(appos):
                return appos
        return None

    def _discourse_marker(self, verb: Token) -> bool:
        """'That said,' / 'Having said that,' opening a sentence."""
        if verb.lower_ != "said" or verb.i == 0 or verb.i + 2 >= len(self.doc):
            return False
        before, after = self.doc[verb.i - 1], self.doc[verb.i + 1]
        if before.lower_ in ("that", "this") and before.is_sent_start and after.text == ",":
            return True
        return before.lower_ == "having" and before.is_sent_start and after.lower_ == "that"

    def _frames_opening_quote(self, verb: Token, subject: Token | None) -> bool:
        """'"...," X told the lawmakers ...': a quotation opening the paragraph, closed with a comma
        right before the verb's subject.  What follows the verb is the scene, not more content."""
        if subject is None or subject.head.i != verb.i or not subject.i < verb.i:
            return False
        if not self._after_quote(subject.left_edge):
            return False
        before = self.text[: subject.left_edge.idx].rstrip()
        inner = before.rstrip("\"”’'").rstrip()
        if not inner.endswith(","):
            return False
        quote = next((q for q in self.quotes if q.start <= len(inner) <= q.end), None)
        if quote is None:
            return False
        # The quotation opens its paragraph, or at least its sentence ('... for his wife. "Bill Clinton
        # reinforces ...," spokesman Jeff Bechdel said in a statement issued ...').
        para_start = self._paragraph_at(verb.idx, (0, 0))[0]
        before_quote = self.text[para_start : quote.start].strip()
        return not before_quote or bool(_SENTENCE_END_RE.search(before_quote))

    def _noun_cue(self, noun: Token) -> Cue | None:
        """'her assertion that "we now finally are where we need to be"': possessor + that-clause; or
        'Trump issued a statement, "Last night, our nation was attacked ..."': the issuer's quotation."""
        issued = self._issued_with_quote(noun)
        if issued is not None:
            return issued
        owner = next((c for c in noun.children if c.dep_ == "poss"), None)
        clause = next(
            (
                c
                for c in noun.children
                if c.dep_ in ("acl", "ccomp")
                and c.i > noun.i
                and any(m.dep_ == "mark" and m.lower_ == "that" for m in c.children)
            ),
            None,
        )
        if owner is None or clause is None:
            return None
        content = self._span_of_tokens(clause.left_edge, clause.right_edge)
        return Cue(noun, noun.idx, noun.idx + len(noun.text), noun.lemma_.lower(), owner, content, rule="noun_clause")

    def _issued_with_quote(self, noun: Token) -> Cue | None:
        if noun.dep_ != "dobj" or noun.head.lemma_.lower() not in _ISSUING_VERBS:
            return None
        after = self.text[noun.idx + len(noun.text) :].lstrip(" ,:")
        if after[:1] not in ("“", '"', "«") or not self.in_quote(len(self.text) - len(after)):
            return None
        issuer = self._syntactic_subject(noun.head, 0)
        if issuer is None or not self._could_speak(issuer):
            return None
        return Cue(noun, noun.idx, noun.idx + len(noun.text), noun.lemma_.lower(), issuer, None, quote_only=True)

    def _subject(self, verb: Token) -> Token | None:
        """The speaker head of a reporting verb: its syntactic subject, else the adjacent name."""
        subject = self._syntactic_subject(verb, 0)
        if subject is not None and self.para_of(subject.idx) != self.para_of(verb.idx):
            subject = None  # "9:30 p.m.\n\nDonald Trump says": sentence split missed the line break
        if subject is not None and self.speakers.is_time(subject) and not self._an_age(subject):
            subject = None  # "said Tuesday" misparsed: the day is no speaker
        if subject is not None or self._passive(verb):
            return subject
        mistagged = next(
            (c for c in verb.children if c.i == verb.i - 1 and c.pos_ in ("ADV", "AUX") and self._known_name(c)), None
        )
        if mistagged is not None:
            return mistagged  # 'Early described it as ...', '"...," Will wrote.': a known name tagged as a word
        return self._speaker_in_quoted_clause(verb) or self._adjacent_subject(verb)

    def _speaker_in_quoted_clause(self, verb: Token) -> Token | None:
        """'"The agents are under a lot of pressure," an intelligence source, who was not authorized to
        speak, told Fox News.': the parser made the speaker a word of the quoted clause (its attribute);
        it stands right after the closing mark, outside the quotation."""
        for comp in verb.children:
            if comp.dep_ != "ccomp" or comp.i > verb.i:
                continue
            for word in comp.children:
                outside = word.i > comp.i and not self.in_quote(word.idx) and word.pos_ in ("NOUN", "PROPN")
                if outside and self._after_quote(word.left_edge) and self._could_speak(word):
                    return word
        return None

    def _known_name(self, token: Token) -> bool:
        return not self.in_quote(token.idx) and self.speakers.is_known_person(token)

    def _syntactic_subject(self, verb: Token, depth: int) -> Token | None:
        """nsubj (or the passive agent), following conjunctions, participles and 'before saying'."""
        passive = self._passive(verb)
        for child in self._subject_order(verb):
            if child.dep_ == "agent":
                return next((c for c in child.children if c.dep_ == "pobj"), None)
            if child.dep_ == "nsubj" or (child.dep_ == "nsubjpass" and not passive):
                if child.is_punct or child.lower_ in self.lex.negations:
                    continue  # a closing quotation mark or a curly "n’t" the parser made the subject
                if self.in_quote(child.idx) or self._is_dateline(child):
                    return None  # the parser took a word of the quotation or the dateline
                return child  # a relative "who" is resolved by the SpeakerResolver
        if passive or depth > 3:
            return None
        head = verb.head
        if verb.tag_ == "VBG" and self.in_quote(head.idx) and not self.in_quote(verb.idx):
            # 'Clinton seemed ready to riff, telling the crowd, "Some people get ..."': the parser hung the
            # participle on a verb of the quotation; the sentence's own verb carries the subject.
            root = self.sent_span(verb).root
            if root.i < verb.i and not self.in_quote(root.idx):
                return self._syntactic_subject(root, depth + 1)
            return None
        if verb.dep_ in ("relcl", "acl") and (head.pos_ in ("NOUN", "PROPN") or self._an_age(head)):
            if self.in_quote(head.idx):
                return None
            if not self._could_speak(head) and head.dep_ in ("dobj", "pobj") and head.head.pos_ == "VERB":
                # "McConnell issued a statement saying ...": the statement's issuer speaks.
                return self._syntactic_subject(head.head, depth + 1)
            return head  # "officials familiar with the talks, saying ..."
        reporting = head.head
        if (
            verb.dep_ in ("conj", "advcl")
            and head.dep_ == "ccomp"
            and self.lex.is_cue_verb(reporting.lemma_.lower())
            and not self.in_quote(reporting.idx)
        ):
            # 'X said it was too early but added ...': misattached to the complement's verb. (A "said"
            # inside a quotation that follows is the quoted person's, not the one who 'added'.)
            return self._syntactic_subject(reporting, depth + 1)
        if verb.dep_ in ("conj", "xcomp", "advcl", "pcomp") and head.pos_ in ("VERB", "AUX"):
            return self._syntactic_subject(head, depth + 1)
        if verb.dep_ == "pcomp" and head.dep_ == "prep" and head.head.pos_ in ("VERB", "AUX"):
            return self._syntactic_subject(head.head, depth + 1)  # "X deflected questions before saying"
        return None

    @staticmethod
    def _passive(verb: Token) -> bool:
        """An auxpass child, unless it is a "has" written "'s" before a verb with an object ("he's said the
        same thing at every stop")."""
        has_object = any(c.dep_ == "dobj" for c in verb.children)
        return any(c.dep_ == "auxpass" and not (has_object and c.lower_ in ("'s", "’s")) for c in verb.children)

    def _subject_order(self, verb: Token) -> list[Token]:
        """The verb's children, with the name nearest the verb first when the parse gave it two
        subjects ("Wikileaks editor-in-chief Kristinn Hrafnsson said")."""
        children = list(verb.children)
        names = [c for c in children if c.dep_ == "nsubj" and (c.pos_ == "PROPN" or c.ent_type_ in ("PERSON", "ORG"))]
        if len([c for c in children if c.dep_ == "nsubj"]) < 2 or not names:
            return children
        nearest = max(names, key=lambda c: c.i if c.i < verb.i else -c.i)
        return [nearest, *(c for c in children if c.i != nearest.i)]

    def _adjacent_subject(self, verb: Token) -> Token | None:
        """'"...," said Jeff Weaver' / '"...," Sanders campaign manager Jeff Weaver said' misparsed:
        the noun phrase right after, else right before, the verb (outside quotes)."""
        sent = self.sent_span(verb)
        # With a clause complement the word after the verb starts the content, not a speaker,
        # unless a quotation closes right before the verb ('"...," said Robin Maynard, half joking').
        para = self.para_of(verb.idx)
        after_quote = self._after_quote(verb)
        opens_sentence = all(t.is_punct or t.is_space for t in self.doc[sent.start : verb.i])
        steps = (
            (1,)
            if opens_sentence  # 'Said one senior European diplomat: "..."': nobody before the verb
            else (-1,)
            if verb.lemma_.lower() == "tell"  # "... told Mr. Obama": the word after the verb is who was told
            or (
                not after_quote
                and any(c.dep_ == "ccomp" and c.i > verb.i and self.para_of(c.idx) == para for c in verb.children)
            )
            else (1, -1)
        )
        for step in steps:
            i = verb.i + step
            if step == -1 and i > sent.start and self.doc[i].text == ",":
                # "Trump, speaking to reporters on Sunday, said ...": skip the comma-fenced asides
                # ("Sanders, meanwhile, who sits at zero endorsements, said ...").
                j = i
                for _ in range(3):
                    j -= 1
                    while j > sent.start and self.doc[j].text != ",":
                        j -= 1
                    if j <= sent.start or self.in_quote(self.doc[j - 1].idx):
                        break
                    head = self._np_head(self.doc[j - 1])
                    if head.pos_ in ("PROPN", "PRON") and self._could_speak(head):
                        return head
                    if self.speakers.is_known_person(head):
                        return head  # "Sanders" tagged as a common noun
            while sent.start <= i < sent.end and abs(i - verb.i) <= 6:
                token = self.doc[i]
                if self.in_quote(token.idx) or (token.is_punct and token.text not in ("-", "'s")):
                    break
                if token.pos_ in ("PROPN", "NOUN", "PRON") and token.lower_ not in self.lex.time_words:
                    head = self._np_head(token)
                    if head.i == verb.i:
                        head = token  # '"...," Conway notes.' with "Conway" parsed as a compound of the verb
                    return head if self._could_speak(head) else None
                if step == 1 and after_quote and i == verb.i + 1 and self._mistagged_name(token):
                    return token  # '"...," said Skelly, explaining ...' with "Skelly" tagged as an adverb
                following = self.doc[i + 1] if i + 1 < len(self.doc) else None
                if step == 1 and after_quote and token.lower_ == "one" and (following is None or following.is_punct):
                    return token  # '"America is great!" read one.' (a sign, a banner, a message)
                modifier = token.pos_ in ("ADV", "DET", "ADJ", "AUX", "PART", "NUM") or token.dep_ == "amod"
                if step == 1 and (
                    not modifier  # 'said retired neurosurgeon Ben Carson': "retired" is a modifier
                    or (verb.lemma_ in ("tell", "ask") and not after_quote)  # '"...?" asked the boy' asks
                ):
                    break  # "said in a statement", "told reporters": not the speaker
                i += step
        return None

    def _mistagged_name(self, token: Token) -> bool:
        """A capitalised word the tagger did not take for a noun, ending the attribution ("said Skelly,")."""
        following = token.nbor(1) if token.i + 1 < len(self.doc) else None
        return (
            token.text[:1].isupper()
            and token.is_alpha
            and token.lower_ not in self.lex.time_words
            and (following is None or following.is_punct)
        )

    def _is_dateline(self, token: Token) -> bool:
        """'MOSCOW (Northgate Wire) — President Vladimir Putin said': the place line is no subject."""
        para = self._paragraph_at(token.idx, (0, 0))
        return token.text.isupper() and len(token.text) > 2 and token.idx - para[0] <= 40

    @staticmethod
    def _impersonal(verb: Token) -> bool:
        """A passive or bare infinitive reporting verb ('should be noted', 'to say')."""
        return verb.pos_ == "VERB" and any(
            c.dep_ == "auxpass" or (c.dep_ == "aux" and c.lower_ == "to") for c in verb.children
        )

    def _could_speak(self, token: Token) -> bool:
        """A name, a pronoun, or a noun of the person/organisation/source lexicons."""
        if token.pos_ in ("PROPN", "PRON") or token.ent_type_ in ("PERSON", "ORG", "GPE", "NORP"):
            return True
        if self._an_age(token) or self.speakers.is_known_person(token):
            return True
        if any(c.dep_ == "appos" and c.ent_type_ == "PERSON" for c in token.children):
            return True  # "Clinton's introducer, actress Jamie Lee Curtis"
        lemma = token.lemma_.lower()
        return lemma in self.lex.unnamed or lemma in self.lex.person_roles or lemma in self.lex.organizations

    def _an_age(self, token: Token) -> bool:
        """'said the 46-year-old': a person named by their age (the NER calls it a date)."""
        return token.lower_ == "old" and token.i >= 2 and self.doc[token.i - 2 : token.i].text.lower() == "year-"

    def _np_head(self, token: Token) -> Token:
        """Climb from a word to the head of its noun phrase ('Jeff' -> 'Weaver')."""
        while token.dep_ in ("compound", "amod", "det", "poss", "nmod", "nummod") and token.head.i != token.i:
            if abs(token.head.i - token.i) > 6:
                break
            token = token.head
        return token

    def _span_of_tokens(self, first: Token, last: Token) -> Span | None:
        """Character span from ``first`` to ``last``, trimmed, never past the paragraph end."""
        start, end = first.idx, last.idx + len(last.text)
        para = self._paragraph_at(start, (start, end))
        if para[0] <= start < para[1] < end and not self.in_quote(para[1] - 1):
            end = para[1]  # parse trees can run over a line break; a statement does not
        while start < end and self.text[start] in _TRIM:
            start += 1
        while end > start and self.text[end - 1] in _TRIM:
            end -= 1
        return (start, end) if end > start else None

    def _verb_content(self, verb: Token, lemma: str) -> tuple[Span | None, str]:
        """The reported content and the rule that found it: a clause complement, else object +
        complement for 'call'-like verbs."""
        comps = [
            c
            for c in verb.children
            if c.dep_ == "ccomp"
            or (
                c.dep_ == "advcl"
                and c.i > verb.i
                and any(m.dep_ == "mark" and m.lower_ in ("if", "whether") for m in c.children)
                and lemma in self.lex.question_verbs
            )
            or (c.dep_ == "advcl" and c.i > verb.i and self._opens_with_that(c))
        ]
        # "Even its backers sounded equivocal: Harman called it ...": a clause before a colon is the
        # writer's lead-in, whatever the parse hangs it on.
        comps = [
            c
            for c in comps
            if c.i > verb.i or not any(t.text in (":", ";") for t in self.doc[c.right_edge.i + 1 : verb.i])
        ]
        if comps:
            after = [c for c in comps if c.i > verb.i]
            comp = after[0] if after else comps[-1]
            first = comp.left_edge
            # A curly "n’t" or a quotation mark the parser made the subject is no subject.
            real_subjects = [
                c
                for c in comp.children
                if c.dep_ in _SUBJECT_DEPS and not c.is_punct and c.lower_ not in self.lex.negations
            ]
            if comp.i > verb.i and not real_subjects:
                # "said about half of the projections reflected ...": the parser hung the
                # clause's subject on the verb; the content starts right after the verb.
                first = self.doc[verb.i + 1] if verb.i + 1 < len(self.doc) else first
                # ... but not the verb's own adverbials: "said on Tuesday it would reopen" reports "it would ...".
                adverbials = [
                    c
                    for c in verb.children
                    if c.dep_ in ("prep", "npadvmod", "advmod") and verb.i < c.i < comp.i and self._short_phrase(c)
                ]
                # Only adverbials that follow one another from the verb on: a phrase further right
                # belongs to the content ("said the days when ... are gone").
                adjacent = True
                while adjacent and first.i < comp.i:
                    adjacent = False
                    for adverbial in adverbials:
                        if adverbial.left_edge.i <= first.i <= adverbial.right_edge.i:
                            first, adjacent = self.doc[adverbial.right_edge.i + 1], True
                            break
                while first.is_punct and first.i < comp.i:
                    first = self.doc[first.i + 1]
            comp_subject = next(
                (c for c in comp.children if c.dep_ in _SUBJECT_DEPS and c.lower_ not in self.lex.negations), None
            )
            edge = verb.i  # the last token of the frame ("said on Tuesday")
            while comp_subject is not None and first.i < comp_subject.i and first.i == edge + 1:
                # "said on Tuesday it would reopen": a date right after the verb belongs to the verb.
                phrase = first
                while phrase.head.i not in (verb.i, phrase.i):
                    phrase = phrase.head
                dated = (first.ent_type_ in ("DATE", "TIME") and self._short_phrase(phrase)) or (
                    first.dep_ == "prep"
                    and self._short_phrase(first)
                    and any(t.ent_type_ in ("DATE", "TIME") for t in first.subtree)
                )
                if not dated:
                    break
                edge = first.right_edge.i if first.dep_ == "prep" else first.i
                first = self.doc[edge + 1]
                while first.is_punct and first.i < comp_subject.i:
                    edge, first = first.i, self.doc[first.i + 1]
            last = self._clause_end(comp)
            for conj in verb.children:
                # "She said she had no plans ..., but when Trump mentioned Cruz, it just happened":
                # a coordinated clause with its own subject, hung on the verb, continues the content.
                if (
                    conj.dep_ == "conj"
                    and conj.i > last.i
                    and last.i == comp.right_edge.i
                    and any(c.dep_ in ("nsubj", "nsubjpass") for c in conj.children)
                    and not self.lex.is_cue_verb(conj.lemma_.lower())
                ):
                    last = self._clause_end(conj)
            for clause in verb.children:
                # "says he may move to the South if he doesn't do well": a condition or reason the
                # parser hung on the reporting verb, right after the content with no comma, is content.
                if (
                    clause.dep_ in ("advcl", "ccomp")
                    and clause.i != comp.i
                    and clause.left_edge.i == last.i + 1
                    and comp.i > verb.i
                    and clause.left_edge.lower_ in _CONTENT_SUBORDINATORS
                ) or self._continues_infinitives(verb, clause, first, last):
                    last = self._clause_end(clause)
            question = comp.dep_ == "advcl" and not self._opens_with_that(comp)
            return self._span_of_tokens(first, last), "question" if question else "clause"
        misparsed = self._misparsed_clause(verb)
        if misparsed is not None:
            return misparsed, "misparsed_clause"
        channel = self._channel_clause(verb)
        if channel is not None:
            return channel, "clause"
        above = self._clause_above(verb) or self._that_clause_below(verb)
        if above is not None:
            return above, "clause"
        object_verbs = self.lex.object_content_verbs | self.lex.object_is_content_verbs
        deps = ("dobj", "oprd", "xcomp", "prep", "dative") if lemma in object_verbs else ("xcomp",)
        right = [c for c in verb.children if c.i > verb.i and c.dep_ in (*deps, "dobj", "dative")]
        if not right or not any(c.dep_ in deps and c.dep_ not in ("dative",) for c in right):
            return None, "clause"
        if lemma in self.lex.object_is_content_verbs and right[0].dep_ == "dobj" and len(list(right[0].subtree)) >= 3:
            # "announced a program to ..."
            return self._span_of_tokens(right[0].left_edge, self._clause_end(right[0])), "object_is_content"
        if lemma not in self.lex.object_content_verbs and not any(c.dep_ == "xcomp" for c in right):
            return None, "clause"
        if not self._names_a_predicate(verb, lemma, right):
            return None, "clause"
        last = max(right, key=lambda c: c.right_edge.i)
        for conj in verb.children:
            # 'called the governor "the most extreme pick" and someone who had "threatened ..."': the
            # parser hung the second predicate noun on the verb.
            nominal = conj.dep_ == "conj" and conj.pos_ in ("NOUN", "PROPN", "PRON") and conj.i > last.right_edge.i
            between = self.doc[last.right_edge.i + 1 : conj.left_edge.i]
            if nominal and all(t.dep_ == "cc" or t.is_punct for t in between):
                last = conj
        while len(right) > 1 and right[0].dep_ == "prep" and right[0].lower_ not in ("as", "of", "for"):
            right = right[1:]  # "blasted on an investor call as “morally wrong”": the setting is not content
        rule = "object" if lemma in self.lex.object_content_verbs else "infinitive"
        return self._span_of_tokens(right[0].left_edge, self._clause_end(last)), rule

    def _opens_with_that(self, clause: Token) -> bool:
        """'recalled in 2008 that before Iowa, Obama was not treated ...': a that-clause the parser labelled
        adverbial is the verb's complement (but not 'so that', 'now that', 'such that')."""
        first = clause.left_edge
        if first.lower_ != "that" or first.dep_ != "mark" or first.head.i != clause.i:
            return False
        return first.i == 0 or self.doc[first.i - 1].lower_ not in ("so", "now", "such", "order", "except", "given")

    def _names_a_predicate(self, verb: Token, lemma: str, right: list[Token]) -> bool:
        """'called the plan "a gift"' says something, 'called an emergency session' does not: "call"
        needs a predicate, 'for'/'on', or 'out' ('calls out companies by name')."""
        if lemma in self.lex.quoted_object_verbs:
            return self._quoted_after(verb)
        if lemma in self.lex.predicate_verbs:
            if any(c.dep_ == "prt" and c.lower_ == "out" for c in verb.children):
                return True
            return any(
                c.dep_ in ("oprd", "xcomp", "ccomp")
                or (c.dep_ == "prep" and c.lower_ in ("for", "on"))
                # "called the Texas senator the next George Washington": the predicate parsed as an apposition
                or (c.dep_ == "dobj" and any(g.dep_ == "appos" for g in c.children))
                for c in right
            ) or self._quoted_after(verb)
        return True

    def _quoted_after(self, verb: Token) -> bool:
        """A quotation in the verb's clause after it ('called it "a disaster"' parsed without a predicate)."""
        return any(self.in_quote(t.idx) for t in verb.subtree if t.i > verb.i)

    def _channel_clause(self, verb: Token) -> Span | None:
        """'said in a statement that the visit would go ahead': the parser hung the that-clause on the
        document the words appeared in; it is the verb's content."""
        for prep in verb.children:
            if prep.dep_ != "prep" or prep.i < verb.i:
                continue
            for noun in prep.children:
                if noun.dep_ != "pobj" or noun.lemma_.lower() not in self.lex.documents:
                    continue
                for clause in noun.children:
                    if clause.dep_ in ("acl", "ccomp", "relcl") and clause.i > noun.i:
                        mark = next((m for m in clause.children if m.dep_ == "mark" and m.lower_ == "that"), None)
                        if mark is not None and mark.i < clause.i:
                            return self._span_of_tokens(mark, self._clause_end(clause))
        return None

    def _misparsed_clause(self, verb: Token) -> Span | None:
        """'said a trip to Moscow before a ceasefire would be "a historic mistake"': 'say' with an
        object followed by a finite verb of its own is a clause the parser split up."""
        if verb.lemma_.lower() != "say":
            return None
        obj = next((c for c in verb.children if c.dep_ == "dobj" and c.i > verb.i), None)
        if obj is None or obj.i > verb.i + 3:
            return None
        finite = [
            c
            for c in verb.children
            if c.i > obj.i
            and c.dep_ in ("advcl", "conj", "ccomp")
            and any(a.dep_ == "aux" and a.lower_ in _MODALS for a in c.children)
        ]
        if not finite:
            return None
        return self._span_of_tokens(self.doc[verb.i + 1], self._clause_end(finite[0]))

    def _clause_above(self, verb: Token) -> Span | None:
        """'after Trump told The Washington Post he was "not quite there yet"', 'Instead, Trump told CNN,
        his policy would ...': the parser made the reported clause the head of its reporting verb. Only
        the verb's own phrase (and, for a parenthetical-like parse, a comma) may stand between them."""
        head = verb.head
        if verb.dep_ not in ("advcl", "parataxis") or head.i <= verb.i or head.pos_ not in ("VERB", "AUX"):
            return None
        subject = next((c for c in head.children if c.dep_ in ("nsubj", "nsubjpass") and c.i > verb.i), None)
        if subject is None or self.in_quote(subject.idx):
            return None
        # Someone told someone: "if one adds Nebraska, that takes us ..." and "All told, the group ..." are not.
        deps = {c.dep_ for c in verb.children}
        if "nsubj" not in deps or not deps & {"dobj", "dative"}:
            return None
        last = verb.right_edge
        while last.is_punct and last.i > verb.i:
            last = self.doc[last.i - 1]
        between = self.doc[last.i + 1 : subject.left_edge.i]
        allowed = (",",) if verb.dep_ == "parataxis" else ()
        if any(t.text not in allowed for t in between):
            return None
        return self._span_of_tokens(subject.left_edge, self._clause_end(head))

    def _that_clause_below(self, verb: Token) -> Span | None:
        """'telling reporters during a visit to Scotland on Friday that he thinks ...': a that-clause
        the parser hung on a noun of the verb's adverbials. A relative clause has no 'that' marker;
        this one is the verb's complement."""
        for clause in verb.subtree:
            if clause.i <= verb.i or clause.dep_ not in ("relcl", "acl") or self.in_quote(clause.idx):
                continue
            mark = next((c for c in clause.children if c.dep_ == "mark" and c.lower_ == "that"), None)
            if mark is None or mark.i != clause.left_edge.i:
                continue
            step = clause.head
            if step.dep_ not in ("pobj", "npadvmod"):
                continue  # 'notes the requirement that ...': a noun's own complement, not the verb's
            while step.i != verb.i and step.dep_ in ("pobj", "prep", "dobj", "dative", "npadvmod"):
                step = step.head
            if step.i == verb.i:
                return self._span_of_tokens(mark, self._clause_end(clause))
        return None

    @staticmethod
    def _short_phrase(head: Token) -> bool:
        """An adverbial of the reporting verb ("on Tuesday", "last week"), not a clause-bearing phrase
        that the parser hung on it ("the days when the nation had ... are gone")."""
        subtree = list(head.subtree)
        return len(subtree) <= 6 and not any(t.dep_ in ("relcl", "acl", "ccomp") for t in subtree)

    def _continues_infinitives(self, verb: Token, clause: Token, first: Token, last: Token) -> bool:
        """'said money is needed to develop a vaccine, educate the public and learn more': a bare verb
        the parser hung on the reporting verb, after a comma, continues a list of infinitives in the content."""
        if clause.dep_ not in ("advcl", "conj") or clause.tag_ != "VB" or verb.tag_ == "VB" or first.i > last.i:
            return False
        comma = last if last.text == "," else self.doc[last.i + 1] if last.i + 1 < len(self.doc) else last
        if comma.text != "," or clause.left_edge.i != comma.i + 1 or clause.left_edge.i != clause.i:
            return False
        if any(c.dep_ in _SUBJECT_DEPS for c in clause.children):
            return False
        return any(t.tag_ == "VB" and t.dep_ in ("xcomp", "conj") for t in self.doc[first.i : last.i + 1])

    def _clause_end(self, head: Token) -> Token:
        """The last token of ``head``'s subtree before a coordinated reporting verb
        ('it was too early, but added, "..."' ends at 'early')."""
        for token in head.subtree:
            if token.i <= head.i or token.dep_ not in ("conj", "advcl", "parataxis"):
                continue
            modal = any(c.dep_ == "aux" and c.lower_ in _MODALS for c in token.children)
            if token.pos_ == "VERB" and token.lemma_.lower() in self.lex.continuing_verbs and not modal:
                end = token.left_edge.i - 1
                while end > head.i and (self.doc[end].is_punct or self.doc[end].dep_ == "cc"):
                    end -= 1
                return self.doc[end]
        return head.right_edge

    def _according_content(self, according: Token, to: Token) -> tuple[Span | None, Span | None]:
        """'X did Y, according to Z': the sentence around the phrase (which scopes over the
        whole sentence, not just the verb it hangs on).  Returns (content, phrase gap)."""
        sent = self.sent_span(according)
        last = max(to.right_edge, according.right_edge, key=lambda t: t.i)
        phrase = (according.idx, last.idx + len(last.text))
        if self.in_quote(phrase[1] - 1):
            return None, None
        before = self._trim((sent.start_char, phrase[0]))
        after = self._trim((phrase[1], sent.end_char))
        if before and after:
            return (before[0], after[1]), phrase  # "X, according to Z, did Y"
        return before or after, None

    def _trim(self, span: Span) -> Span | None:
        start, end = span
        while start < end and self.text[start] in _TRIM:
            start += 1
        while end > start and self.text[end - 1] in _TRIM + ".":
            end -= 1
        return (start, end) if end > start else None

    # ------------------------------------------------------------ passes
    def run(self) -> list[Draft]:
        cues = self.find_cues()
        drafts, consumed, used = self._reported_speech(cues)
        free = [c for c in cues if id(c) not in used]
        drafts += self._direct_quotes(free, consumed)
        drafts.sort(key=lambda d: d.start)
        drafts = self._continuations(drafts, consumed)
        _link_unnamed_back_references(drafts, self.lex)
        # Nobody at all (an agentless "..., stating that ..."): no answer to "who said it", no statement.
        drafts = [d for d in drafts if d.speaker is not None]
        _mark_nested(drafts)
        drafts = _without_echoes(drafts)
        if not self.settings.nested:
            drafts = [d for d in drafts if d.nested_in is None]
        return drafts

    def _reported_speech(self, cues: list[Cue]) -> tuple[list[Draft], set[int], set[int]]:
        drafts, consumed, used = [], set(), set()
        for cue in cues:
            if cue.content is None:
                continue
            span = self._without_dateline(self._without_writer_tail(cue.content, cue))
            quoted = self._quoted_chars(span)
            unquoted = self._unquoted_text(span)
            outside = count_words(unquoted)
            if quoted and not _content_words(unquoted) and self._quotes_in(span) < 2:
                continue  # content is the quotation itself: the direct pass takes it
            if outside < self.settings.min_indirect_words and not quoted:
                continue
            if cue.subject is None and self._impersonal(cue.token):
                continue  # "it should be noted that", "too soon to say how": nobody says it
            kind = "indirect"
            for qi, quote in enumerate(self.quotes):
                for piece in quote.spans:
                    ov = _overlap(span, piece)
                    # A quotation opening inside the clause belongs to it up to its closing mark.
                    if ov and (ov * 2 >= piece[1] - piece[0] or span[0] <= piece[0] < span[1]):
                        span = (min(span[0], piece[0]), max(span[1], piece[1]))
                        consumed.add(qi)
                        kind = "mixed"
            if cue.rule == "according_to":
                kind = "according_to" if kind == "indirect" else kind
            spans = [span]
            if cue.gap is not None and span[0] < cue.gap[0] and cue.gap[1] < span[1]:
                spans = [p for p in (self._trim((span[0], cue.gap[0])), self._trim((cue.gap[1], span[1]))) if p]
            if len(spans) == 1 and cue.rule == "clause":
                # 'said talks were "stalled" and that he wanted ...': one statement whose pieces are the
                # coordinated that-clauses (the connecting "and that" is the writer's).
                spans = self._coordinated_that_clauses(span)
            drafts.append(Draft(kind, spans, cue, self._speaker(cue), rule=cue.rule))
            used.add(id(cue))
        return drafts, consumed, used

    def _quotes_in(self, span: Span) -> int:
        """Quotations overlapping the span: 'added that "..." and "..."' is one mixed statement of two."""
        return sum(any(_overlap(span, piece) for piece in quote.spans) for quote in self.quotes)

    def _tokens_in(self, span: Span) -> list[Token]:
        first = bisect_right(self._token_starts, span[0] - 1)
        last = bisect_right(self._token_starts, span[1] - 1)
        return [self.doc[i] for i in range(first, last)]

    def _without_dateline(self, span: Span) -> Span:
        """Content that opens its paragraph starts after a wire dateline, if the paragraph has one."""
        start, end = span
        if start and self.text[start - 1] != "\n":
            return span
        dateline = _DATELINE.match(self.text, start, end)
        return (dateline.end(), end) if dateline and dateline.end() < end else span

    def _without_writer_tail(self, span: Span, cue: Cue) -> Span:
        """Reported content stops where the writer's own words begin: a dash gloss with no verb ('... last
        spring – one of the top concerns of the unions'), a past-tense 'as'/'while' clause of the scene
        ('it would reopen ..., as aid convoys lined up'), or a clause coordinated after a comma about the speaker
        ('..., but she later changed the destination')."""
        tokens = self._tokens_in(span)
        for k, token in enumerate(tokens[1:-1], start=1):
            if self.in_quote(token.idx):
                continue
            rest = tokens[k + 1 :]
            if token.text in ("–", "—", "--") and not any(t.pos_ in ("VERB", "AUX") for t in rest):
                return self._trim((span[0], token.idx)) or span
            if token.text != ",":
                continue
            following = rest[0]
            if following.lower_ in ("who", "which") and self._trailing_gloss(following, span):
                return self._trim((span[0], token.idx)) or span
            if following.lower_ == "as" and following.dep_ == "mark":
                # A past-tense scene ("as aid convoys lined up") after reported future or modal content.
                clause = following.head
                scene = clause.tag_ == "VBD" and clause.pos_ == "VERB"
                modal = any(t.lower_ in _MODALS for t in tokens[:k])
                if scene and modal and any(c.dep_ in ("nsubj", "nsubjpass") for c in clause.children):
                    return self._trim((span[0], token.idx)) or span
            if following.lower_ in ("but", "and") and cue.subject is not None:
                subject = next((t for t in rest[1:4] if t.dep_ in ("nsubj", "nsubjpass")), None)
                if subject is not None and self._same_speaker(subject, cue.subject):
                    verb = subject.head
                    if not self.lex.is_cue_verb(verb.lemma_.lower()):
                        return self._trim((span[0], token.idx)) or span
        return span

    def _trailing_gloss(self, relative: Token, span: Span) -> bool:
        """'... on supporting Ryan, who will face a challenger in the primary': a relative clause on a
        name that runs to the end of the content is the writer's gloss, not what was said."""
        clause = relative.head
        if clause.dep_ != "relcl" or clause.head.pos_ != "PROPN" or relative.dep_ not in ("nsubj", "nsubjpass"):
            return False
        end = clause.right_edge
        while end.is_punct and end.i > clause.i:
            end = self.doc[end.i - 1]
        return not self._text_after(end, span).strip(" .,;\"”’'")

    def _text_after(self, token: Token, span: Span) -> str:
        return self.text[token.idx + len(token.text) : span[1]]

    def _same_speaker(self, mention: Token, speaker: Token) -> bool:
        """'Smith said ..., but she later': the same word, or a mention that resolves to the same speaker."""
        if mention.lower_ == speaker.lower_:
            return True
        first, second = self.speakers.from_token(mention), self.speakers.from_token(speaker)
        return bool(first and second and first.name and first.name == second.name)

    def _coordinated_that_clauses(self, span: Span) -> list[Span]:
        """'talks were "stalled" and that he wanted a "serious" offer': the content split before each
        coordinated 'and that' / 'but that' (the guidelines give one statement per clause)."""
        cuts = []
        for token in self._tokens_in(span):
            if token.lower_ != "that" or token.dep_ != "mark" or self.in_quote(token.idx) or token.idx == span[0]:
                continue
            before = token.i - 1
            while before >= 0 and self.doc[before].is_punct:
                before -= 1
            if before >= 0 and self.doc[before].lower_ in ("and", "but") and self.doc[before].dep_ == "cc":
                cuts.append((self.doc[before].idx, token.idx + len(token.text)))
        if not cuts:
            return [span]
        parts, start = [], span[0]
        for cut_start, cut_end in cuts:
            parts.append(self._trim((start, cut_start)))
            start = cut_end
        parts.append(self._trim((start, span[1])))
        return [p for p in parts if p is not None]

    def _unquoted_text(self, span: Span) -> str:
        chars = list(self.text[span[0] : span[1]])
        for s, e in self._quote_pieces:
            for i in range(max(s, span[0]), min(e, span[1])):
                chars[i - span[0]] = " "
        return "".join(chars)

    def _speaker(self, cue: Cue) -> Speaker | None:
        if cue.subject is None:
            return None
        poll = self._poll_behind(cue.subject)
        if poll is not None:
            speaker = self.speakers.from_token(poll)
            if speaker is not None and speaker.name:
                mention = self.speakers.from_token(cue.subject) or speaker
                return replace(speaker, start=mention.start, end=mention.end, mention=mention.mention)
        return self.speakers.from_token(cue.subject)

    def _poll_behind(self, subject: Token) -> Token | None:
        """'In a Washington Post/ABC News poll released Sunday, just 8 percent of Democrats said ...': a
        share of respondents speaks through the poll the sentence names before it."""
        share = subject.lower_ in _SHARES or subject.ent_type_ == "PERCENT" or subject.like_num
        if not share:
            return None
        sent = subject.sent
        for token in sent:
            if token.i >= subject.i:
                break
            if token.lemma_.lower() in ("poll", "survey") and token.dep_ == "pobj" and not self.in_quote(token.idx):
                return token
        return None

    def _direct_quotes(self, cues: list[Cue], consumed: set[int]) -> list[Draft]:
        drafts = []
        by_cue: dict[int, Draft] = {}  # id(cue) -> the draft of the first quotation it introduced
        for qi, quote in enumerate(self.quotes):
            if qi in consumed or count_words(self._quote_text(quote)) < 1:
                continue
            cue = self._cue_for_quote(quote, cues)
            if cue is not None:
                if not self._is_statement_like(quote, cue):
                    continue
                kind = "according_to" if cue.rule == "according_to" else "direct"
                rule = "according_to" if kind == "according_to" else "quote_cue"
                earlier = by_cue.get(id(cue))
                if earlier is not None and self._split_around(earlier, cue, quote):
                    # '"We will win," she said, "and we will win big."': one split quote around its cue.
                    earlier.spans.extend(quote.spans)
                    consumed.add(qi)
                    continue
                draft = Draft(kind, list(quote.spans), cue, self._speaker(cue), rule=rule)
                drafts.append(draft)
                by_cue[id(cue)] = draft
                consumed.add(qi)
                continue
            colon = self._colon_speaker(quote)
            signed = self._signature(quote) if colon is None else None
            if signed is not None:
                speaker, dash = signed
                draft = Draft("direct", list(quote.spans), None, speaker, (dash, dash + 1), rule="quote_signature")
                drafts.append(draft)
                consumed.add(qi)
                continue
            if colon is not None:
                speaker, colon_pos = colon
                colon_span = (colon_pos, colon_pos + 1)
                draft = Draft("direct", list(quote.spans), None, speaker, colon_span, colon=True, rule="quote_colon")
                drafts.append(draft)
                consumed.add(qi)
        return drafts

    def _split_around(self, earlier: Draft, cue: Cue, quote: Quote) -> bool:
        """'"We will win," Mary Smith said, "and we will win big."': the first piece ends with a comma
        inside its marks, only the speaker and the cue stand between the pieces, and at most a comma
        or a short adverbial between the cue and the second piece."""
        if not (earlier.end <= cue.start and quote.start >= cue.end):
            return False
        inner = self.text[earlier.start : earlier.end].rstrip("\"”’'» ")
        before, after = self.text[earlier.end : cue.start], self.text[cue.end : quote.start]
        if re.search(r"[.!?;:]", before + after):
            return False
        if inner.endswith(","):
            return count_words(before) <= 6 and count_words(after) <= 2
        # '"If there had not been that intervention" by the United States, Clinton said at a town hall,
        # "we would be looking at ..."': the second piece opens in lower case, so one sentence goes on.
        opening = self.text[quote.start : quote.end].lstrip("\"“‘'« ")
        return opening[:1].islower() and count_words(before) <= 12 and count_words(after) <= 8

    def _quote_text(self, quote: Quote) -> str:
        return " ".join(self.text[s:e] for s, e in quote.spans)

    def _is_statement_like(self, quote: Quote, cue: Cue) -> bool:
        """Short quotes are statements only when they stand as the cue's whole content;
        a title-like quote inside a phrase ('on MSNBC's "Morning Joe,"') is a name, not speech."""
        text = self._quote_text(quote)
        words = count_words(text)
        # Right after its verb ('shouting "she wins, we lose!"') a quotation is what was said, not a title.
        after_cue = cue.start < quote.start and not self.text[cue.end : quote.start].strip(" ,:")
        embedded = self._embedded(quote) and not after_cue
        if embedded and (words <= 4 or _TITLE_LIKE_RE.fullmatch(text.strip(" \"“”«»'.,"))):
            return False
        if words >= self.settings.min_direct_words:
            return True
        inner = self.text[quote.start : quote.end].rstrip("\"“”»’' ")  # '“It's unusual,“ said': a misprinted closer
        return bool(inner) and inner[-1] in ".!?,"

    def _embedded(self, quote: Quote) -> bool:
        """The quote continues a phrase: the character before it is part of a word, other than a
        complementiser ('told her supporters that "we're in this together."' opens a clause)."""
        before = self.text[: quote.start].rstrip(" ")
        last_word = _LAST_WORD_RE.search(before)
        if last_word and last_word.group().lower() in _COMPLEMENTIZERS:
            return False
        return bool(before) and (before[-1].isalnum() or before.endswith(("'s", "’s", "s'", "s’")))

    def _allowed_sentences(self, quote: Quote) -> set[int]:
        first, last = self.sent_of(quote.start), self.sent_of(quote.end - 1)
        allowed = set(range(first, last + 1))
        sent_end = self.sents[last].end_char
        if last + 1 < len(self.sents) and not self.text[quote.end : sent_end].strip(" ,.;:!?"):
            allowed.add(last + 1)
        before = self.text[: quote.start].rstrip()
        if before.endswith(":"):
            allowed.add(self.sent_of(len(before) - 1))
        return allowed

    def _cue_for_quote(self, quote: Quote, cues: list[Cue]) -> Cue | None:
        allowed = self._allowed_sentences(quote)
        paras = {self.para_of(quote.start), self.para_of(quote.end - 1)}
        before = self.text[: quote.start].rstrip()
        if before.endswith(":"):
            paras.add(self.para_of(len(before) - 1))
        best, best_dist = None, None
        for cue in cues:
            if self.sent_of(cue.start) not in allowed or self.para_of(cue.start) not in paras:
                continue
            if quote.start <= cue.start < quote.end:
                continue  # between two pieces of a multi-paragraph quote
            dist = quote.start - cue.end if cue.end <= quote.start else cue.start - quote.end
            if self._quote_between(cue, quote):
                continue
            if best_dist is None or dist < best_dist:
                best, best_dist = cue, dist
        return best

    def _quote_between(self, cue: Cue, quote: Quote) -> bool:
        lo, hi = (cue.end, quote.start) if cue.end <= quote.start else (quote.end, cue.start)
        i = bisect_right(self._piece_starts, lo)
        return i < len(self._piece_starts) and self._piece_starts[i] < hi

    def _colon_speaker(self, quote: Quote) -> tuple[Speaker, int] | None:
        """'Sanders: "..."': the name right before a colon introducing the quote (also at the end of
        the paragraph before: 'Trump issued the following statement:' over a quoted paragraph)."""
        index = self.para_of(quote.start)
        para = self.paragraphs[index]
        before = self.text[para[0] : quote.start].rstrip()
        if not before and index > 0:
            para = self.paragraphs[index - 1]
            before = self.text[para[0] : para[1]].rstrip()
        if not before.endswith(":"):
            return None
        colon_pos = para[0] + len(before) - 1
        speaker = self.speakers.nearest_entity_before(colon_pos, para[0])
        if speaker is None:
            # "President Clinton released the following statement:": the clause's subject.
            root = self.sents[self.sent_of(colon_pos)].root
            subject = next((c for c in root.children if c.dep_ == "nsubj"), None)
            if subject is not None and not self.in_quote(subject.idx) and self._could_speak(subject):
                speaker = self.speakers.from_token(subject)
        return (speaker, colon_pos) if speaker is not None else None

    def _signature(self, quote: Quote) -> tuple[Speaker, int] | None:
        """'"... I will certainly look into it."' then '- Hillary Clinton.' on its own line (or after the
        quotation): a name after a dash signs the quotation."""
        index = self.para_of(quote.end - 1)
        start, end = quote.end, self.paragraphs[index][1]
        if not self.text[start:end].strip() and index + 1 < len(self.paragraphs):
            start, end = self.paragraphs[index + 1]
        match = _SIGNATURE_RE.fullmatch(self.text, start, end)
        if match is None:
            return None
        words = [t for t in self._tokens_in((match.start(1), match.end(1))) if not t.is_punct]
        if not words:
            return None
        speaker = self.speakers.from_token(words[-1])
        if speaker is None or not speaker.name or speaker.kind not in ("person", "organization"):
            return None
        return speaker, match.start() + len(match.group()) - len(match.group().lstrip())

    def _starts_sentence(self, quote: Quote) -> bool:
        para = self.paragraphs[self.para_of(quote.start)]
        before = self.text[para[0] : quote.start]
        return not before.strip() or bool(_SENTENCE_END_RE.search(before))

    def _continuations(self, drafts: list[Draft], consumed: set[int]) -> list[Draft]:
        """Attach unclaimed sentence-initial quotes to the statement just before them."""
        pending = [(qi, q) for qi, q in enumerate(self.quotes) if qi not in consumed]
        out = list(drafts)
        for qi, quote in pending:
            if count_words(self._quote_text(quote)) < self.settings.min_direct_words:
                continue
            if not self._starts_sentence(quote):
                continue
            prev = max((d for d in out if d.end <= quote.start), key=lambda d: d.end, default=None)
            if prev is None or (prev.speaker is None and prev.cue is None):
                continue
            if self._text_between_has_statement_gap(prev, quote):
                lead_in = self._lead_in(quote)
                if lead_in is not None:
                    out.append(lead_in)
                    consumed.add(qi)
                continue
            prev_para, para = self.para_of(prev.end - 1), self.para_of(quote.start)
            if para == prev_para and prev.kind == "direct" and quote.start - prev.end <= self.settings.max_split_gap:
                prev.spans.extend(quote.spans)  # '"...," he said. "..."' is one statement
            elif para == prev_para + 1 and self.settings.merge_floating and prev.kind == "direct":
                prev.spans.extend(quote.spans)
            elif para in (prev_para, prev_para + 1):
                out.append(
                    Draft(
                        "floating",
                        list(quote.spans),
                        prev.cue,
                        prev.speaker,
                        prev.cue_span,
                        colon=prev.colon,
                        extra={"inherited": True},
                        rule="floating_quote",
                    )
                )
            else:
                continue
            consumed.add(qi)
        out.sort(key=lambda d: d.start)
        return out

    def _text_between_has_statement_gap(self, prev: Draft, quote: Quote) -> bool:
        """Prose between two quotes breaks the chain, unless it is prev's own attribution
        ('"...," Carson continued.' before the next quote)."""
        start = prev.end
        if prev.cue is not None and prev.end <= prev.cue.start < quote.start:
            start = max(start, self.sents[self.sent_of(prev.cue.start)].end_char)
        return start < quote.start and count_words(self._unquoted_text((start, quote.start))) > 0

    def _lead_in(self, quote: Quote) -> Draft | None:
        """'Dianne Bystrom agreed. "Mainstream Republicans are ..."': a short sentence about a
        person right before a quotation of the same paragraph introduces it."""
        para = self.paragraphs[self.para_of(quote.start)]
        before = self.text[para[0] : quote.start].rstrip()
        if not before:
            return None
        sent = self.sents[self.sent_of(para[0] + len(before) - 1)]
        if sent.start_char < para[0] or self._quoted_chars((sent.start_char, sent.end_char)) or len(sent) > 14:
            return None
        root = sent.root
        subject = next((c for c in root.children if c.dep_ == "nsubj"), None)
        if subject is None or not (subject.ent_type_ == "PERSON" or subject.lower_ in ("he", "she")):
            return None
        speaker = self.speakers.from_token(subject)
        cue_span = (root.idx, root.idx + len(root.text))
        return Draft(
            "direct", list(quote.spans), None, speaker, cue_span, extra={"lead_in": root.lemma_}, rule="quote_lead_in"
        )


def _link_unnamed_back_references(drafts: list[Draft], lex: Lexicon) -> None:
    """'Two officials familiar with the planning said ... "...," one said.': the partitive or
    definite back-reference ("one", "the official", "one of the officials", "a second person")
    names the group introduced before it."""
    groups: list[Speaker] = []
    for draft in drafts:
        speaker = draft.speaker
        if speaker is None or speaker.kind != "unnamed":
            continue
        mention = " ".join(speaker.mention.lower().split())
        if groups and mention in lex.back_references:
            draft.speaker = replace(speaker, name=groups[-1].name)
            continue
        group = _group_referred_to(mention, groups, lex)
        if group is not None:
            draft.speaker = replace(speaker, name=group.name)
        else:
            groups.append(speaker)


def _singular(word: str) -> str:
    return "person" if word == "people" else word[:-1] if word.endswith("s") and len(word) > 3 else word


def _group_referred_to(mention: str, groups: list[Speaker], lex: Lexicon) -> Speaker | None:
    """The latest group whose head word the back-reference repeats: "one of the officials" ->
    "two officials familiar with the planning", "a second person" -> "three people briefed on the talks"."""
    opener = next((o for o in sorted(lex.back_reference_openers, key=len, reverse=True) if mention.startswith(o)), None)
    if opener is None:
        return None
    words = mention[len(opener) :].split()
    if not words or len(words) > 3:
        return None
    head = _singular(words[-1])
    for group in reversed(groups):
        if head in {_singular(w) for w in group.mention.lower().replace(",", " ").split()[:4]}:
            return group
    return None


def _mark_nested(drafts: list[Draft]) -> None:
    """'The senator said the minister had told her that ...': a statement whose span and cue lie inside
    another statement's span is reported inside it; ``nested_in`` points at the innermost such statement."""
    for draft in drafts:
        if draft.cue is None or draft.extra.get("inherited"):
            continue
        outers = [
            i
            for i, outer in enumerate(drafts)
            if outer is not draft
            and outer.start <= draft.start
            and draft.end <= outer.end
            and (outer.start, outer.end) != (draft.start, draft.end)
            and outer.start <= draft.cue.start < outer.end
        ]
        if outers:
            draft.nested_in = min(outers, key=lambda i: drafts[i].end - drafts[i].start)


def _without_echoes(drafts: list[Draft]) -> list[Draft]:
    """A nested statement by the same speaker as the one it is reported in ("he said he told them ...")
    repeats it: it is dropped, and ``nested_in`` is renumbered for the statements that stay."""
    echoes = {
        i
        for i, d in enumerate(drafts)
        if d.nested_in is not None and d.speaker and drafts[d.nested_in].speaker
        and d.speaker.name and d.speaker.name == drafts[d.nested_in].speaker.name
    }  # fmt: skip
    if not echoes:
        return drafts
    kept = [i for i in range(len(drafts)) if i not in echoes]
    new_index = {old: new for new, old in enumerate(kept)}
    out = []
    for i in kept:
        draft = drafts[i]
        outer = draft.nested_in
        while outer is not None and outer in echoes:
            outer = drafts[outer].nested_in
        draft.nested_in = new_index.get(outer) if outer is not None else None
        out.append(draft)
    return out


def run_rules(doc: Doc, lex: Lexicon, settings: RuleSettings) -> tuple[list[Draft], SpeakerResolver]:
    """All statements of ``doc`` as drafts, plus the resolver that knows its names."""
    rules = DocRules(doc, lex, settings)
    return rules.run(), rules.speakers
