"""Selective analysis: the full pipeline's work only where a statement can be.

The statements component needs tags, lemmas and the dependency parse only in
sentences that hold a quotation or a reporting cue (and, for pronoun
resolution, the few sentences before those that mention a person).  NER is
needed everywhere (every PERSON/ORG/GPE/NORP mention is stored), and so are
sentence boundaries.

With ``[nlp] parse = "candidates"`` the pipeline is:

1. ``senter`` (the model's own small sentence splitter, disabled by default in
   the packaged pipeline) and ``ner`` on the whole document; both have their
   own embedding layers, independent of the shared ``tok2vec``.  The ``ner``
   runs as ``saidwhat_ner`` (``nlp.fast_ner``): the model's own weights and
   rules with a batch-vectorised decoding loop, the same entities in half the
   time;
2. ``saidwhat_selective``: picks the candidate sentences, copies them into one
   sub-document per article (sentence starts preset), runs the model's
   ``tok2vec``, ``tagger``, ``parser``, ``attribute_ruler`` and ``lemmatizer``
   (the last two through their exactly equivalent, faster stand-ins in
   ``nlp.fast_ruler``) over those sub-documents in batches, and copies tags, POS, morphology,
   lemmas, heads and labels back.  Every other sentence gets a flat tree (its
   first token is the root, the rest attach to it with the label ``dep``), so
   ``doc.sents`` keeps the sentence boundaries and the parse stays well formed;
3. ``saidwhat_statements`` as usual.

Candidate sentences are chosen on the surface text, before tagging, as a
superset of what the rules can use: a sentence overlapping a quotation (as
``nlp.quotes.find_quotes`` sees them), or with a word that any of the
lemmatizer's noun/verb rules or exceptions map to a cue lemma of
``nlp/data/cues.toml`` (or "according"), or ending in a colon; plus the
sentence right after a quotation and, up to ``context`` sentences back, the
sentences that mention a person or a gendered pronoun.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

import numpy
from spacy.attrs import DEP, ENT_TYPE, HEAD, LEMMA, LOWER, MORPH, ORTH, POS, SPACY, TAG
from spacy.language import Language
from spacy.strings import get_string_id
from spacy.tokens import Doc

from saidwhat.nlp.lexicon import DEFAULT_CUES_PATH, load_lexicon
from saidwhat.nlp.quotes import find_quotes
from saidwhat.nlp.speed_paths import (
    SELF_CHECK_TEXT,
    SpeedPath,
    check_text,
    guarded,
    record,
    same_annotations,
)

PARSE_MODES = ("candidates", "all")

SUB_COMPONENTS = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")
_ATTRS = [TAG, POS, MORPH, LEMMA, HEAD, DEP]
_PRONOUNS = frozenset({"he", "she", "him", "her", "his", "hers", "they", "i", "we"})
_WORD_RE = re.compile(r"[a-z]+")
# String hashes do not depend on the vocabulary, so these compare with to_array() columns directly.
_PRONOUN_IDS = numpy.array(sorted(get_string_id(p) for p in _PRONOUNS), dtype="uint64")
_PERSON_ID = get_string_id("PERSON")


class CueForms:
    """Is a (lowercased) word possibly an inflection of a cue lemma?  Cached per word."""

    def __init__(self, nlp: Language, cue_lemmas: frozenset[str]) -> None:
        self.cues = cue_lemmas | {"according"}
        # A model without a rule lemmatizer or an attribute ruler matches cue lemmas as written.
        lookups = nlp.get_pipe("lemmatizer").lookups if "lemmatizer" in nlp.component_names else None
        rules = lookups.get_table("lemma_rules", {}) if lookups is not None and lookups.has_table("lemma_rules") else {}
        exc = lookups.get_table("lemma_exc", {}) if lookups is not None and lookups.has_table("lemma_exc") else {}
        self.rules = {pos: rules.get(pos, []) for pos in ("verb", "noun")}
        self.exc = {pos: exc.get(pos, {}) for pos in ("verb", "noun")}
        # Lemmas the attribute ruler sets directly for a word (e.g. contractions).
        self.ruler_lemmas: dict[str, set[str]] = {}
        ruler_patterns = nlp.get_pipe("attribute_ruler").patterns if "attribute_ruler" in nlp.component_names else []
        for pattern in ruler_patterns:
            lemma = pattern["attrs"].get("LEMMA")
            if not lemma:
                continue
            for token_patterns in pattern["patterns"]:
                for tok in token_patterns:
                    lower = tok.get("LOWER")
                    if isinstance(lower, str):
                        self.ruler_lemmas.setdefault(lower, set()).add(str(lemma).lower())
        self._cache: dict[str, bool] = {}

    def __contains__(self, word: str) -> bool:
        hit = self._cache.get(word)
        if hit is None:
            hit = self._cache[word] = self._check(word)
        return hit

    def _check(self, word: str) -> bool:
        if word in self.cues or self.ruler_lemmas.get(word, set()) & self.cues:
            return True
        for pos in ("verb", "noun"):
            if any(form.lower() in self.cues for form in self.exc[pos].get(word, ())):
                return True
            for old, new in self.rules[pos]:
                if word.endswith(old) and (word[: len(word) - len(old)] + new) in self.cues:
                    return True
        return False


@Language.factory(
    "saidwhat_selective",
    default_config={"cues_path": None, "context": 4, "batch_size": 8, "components": list(SUB_COMPONENTS)},
    requires=["doc.sents", "doc.ents"],
    assigns=["token.tag", "token.pos", "token.lemma", "token.dep", "token.head"],
)
def make_selective(
    nlp: Language, name: str, cues_path: str | None, context: int, batch_size: int, components: list[str]
) -> SelectiveParse:
    return SelectiveParse(
        nlp, name, Path(cues_path) if cues_path else DEFAULT_CUES_PATH, context, batch_size, tuple(components)
    )


class SelectiveParse:
    """Runs the model's tagging and parsing components (``components``, in order) on candidate sentences only."""

    def __init__(
        self,
        nlp: Language,
        name: str,
        cues_path: Path,
        context: int,
        batch_size: int,
        components: tuple[str, ...] = SUB_COMPONENTS,
    ) -> None:
        self.nlp = nlp
        self.name = name
        self.context = context
        self.batch_size = batch_size
        lex = load_lexicon(cues_path)
        self.cue_lemmas = lex.speech_verbs | lex.quote_only_verbs | lex.speech_nouns
        self._forms: CueForms | None = None
        self.root_label = nlp.vocab.strings.add("ROOT")
        self.dep_label = nlp.vocab.strings.add("dep")
        self.components = components
        # Chosen at first use: spacy.load builds components before it loads their weights.
        self._stand_ins_chosen: tuple[list, tuple[SpeedPath, ...]] | None = None
        self.stats = {"sentences": 0, "parsed_sentences": 0, "tokens": 0, "parsed_tokens": 0}

    @property
    def forms(self) -> CueForms:
        # Built from the lemmatizer's tables, which spacy.load fills only after building this component.
        if self._forms is None:
            self._forms = CueForms(self.nlp, self.cue_lemmas)
        return self._forms

    @property
    def subs(self) -> list:
        return self._chosen()[0]

    @property
    def paths(self) -> tuple[SpeedPath, ...]:
        return self._chosen()[1]

    def _chosen(self) -> tuple[list, tuple[SpeedPath, ...]]:
        if self._stand_ins_chosen is None:
            self._stand_ins_chosen = self._stand_ins(self.components)
        return self._stand_ins_chosen

    def _stand_ins(self, names: tuple[str, ...]) -> tuple[list, tuple[SpeedPath, ...]]:
        """The components to run, each fast stand-in kept only where it matches spaCy's on the self-check text."""
        from saidwhat.nlp.fast_ruler import FastAttributeRuler, FastLemmatizer

        stand_ins = {"attribute_ruler": FastAttributeRuler, "lemmatizer": FastLemmatizer}
        doc = check_text(self.nlp)
        chosen, paths = [], []
        for name in names:
            component = self.nlp.get_pipe(name)
            make_fast = stand_ins.get(name)
            if make_fast is not None:
                fast = None

                def check(make_fast=make_fast, component=component, doc=doc) -> str | None:
                    nonlocal fast
                    fast = make_fast(component)
                    return same_annotations(component, fast, doc)

                problem = guarded(check)
                chosen.append(fast if problem is None else component)
                paths.append(SpeedPath(name, problem is None, "cached" if problem is None else f"spaCy's ({problem})"))
            else:
                chosen.append(component)
            doc = component(doc)
        return chosen, tuple(paths)

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        # Always its own (small) batch size: the parser's and tok2vec's working memory grows with
        # the batch, and batches of 8 documents cost no more time than batches of 32.
        iterator = iter(docs)
        while batch := list(islice(iterator, self.batch_size)):
            yield from self._process(batch)

    # ------------------------------------------------------------ selection
    def candidate_sentences(self, doc: Doc, sents: list | None = None) -> list[bool]:
        """One flag per sentence of ``doc`` (``sents``, when the caller has them): parse it or not."""
        sents = list(doc.sents) if sents is None else sents
        text = doc.text
        # Does each sentence mention a person (a PERSON entity or a personal pronoun)? Counted
        # on arrays: building a Token object per word cost more than the check itself.
        columns = doc.to_array([LOWER, ENT_TYPE])
        mentions = numpy.isin(columns[:, 0], _PRONOUN_IDS) | (columns[:, 1] == _PERSON_ID)
        mentions_before = numpy.concatenate(([0], numpy.cumsum(mentions))).tolist()
        quote_spans = [span for quote in find_quotes(text) for span in quote.spans]
        flags = [False] * len(sents)
        person = [False] * len(sents)
        qi = 0
        for i, sent in enumerate(sents):
            start, end = sent.start_char, sent.end_char
            while qi < len(quote_spans) and quote_spans[qi][1] <= start:
                qi += 1
            in_quote = qi < len(quote_spans) and quote_spans[qi][0] < end
            if in_quote or text[start:end].rstrip().endswith(":"):
                flags[i] = True
                if in_quote and i + 1 < len(sents):
                    flags[i + 1] = True  # '"...," he said.' split off by the sentence splitter
            else:
                forms = self.forms
                flags[i] = flags[i] or any(w in forms for w in _WORD_RE.findall(text[start:end].lower()))
            person[i] = mentions_before[sent.end] > mentions_before[sent.start]
        selected = list(flags)
        for i, flag in enumerate(flags):
            if flag:
                for j in range(max(0, i - self.context), i):
                    if person[j]:
                        selected[j] = True
        return selected

    # ------------------------------------------------------------ processing
    def _process(self, docs: list[Doc]) -> list[Doc]:
        plans = []
        subs = []
        for doc in docs:
            sents = list(doc.sents)
            flags = self.candidate_sentences(doc, sents) if sents else []
            index: list[int] = []
            starts: list[bool | None] = []
            for sent, flag in zip(sents, flags, strict=True):
                if flag:
                    index.extend(range(sent.start, sent.end))
                    starts.extend([True] + [None] * (len(sent) - 1))
            self.stats["sentences"] += len(sents)
            self.stats["parsed_sentences"] += sum(flags)
            self.stats["tokens"] += len(doc)
            self.stats["parsed_tokens"] += len(index)
            sub = None
            if index:
                columns = doc.to_array([ORTH, SPACY])[index]
                strings = doc.vocab.strings
                words = [strings[orth] for orth in columns[:, 0].tolist()]
                sub = Doc(doc.vocab, words=words, spaces=columns[:, 1].astype(bool).tolist(), sent_starts=starts)
                subs.append(sub)
            plans.append((doc, sents, flags, index, sub))
        if subs:
            for component in self.subs:
                subs = list(component.pipe(subs, batch_size=len(subs)))
        done = iter(subs)
        for doc, sents, flags, index, sub in plans:
            if sub is not None:
                sub = next(done)
            self._copy_back(doc, sents, flags, index, sub)
        return docs

    def _copy_back(self, doc: Doc, sents: list, flags: list[bool], index: list[int], sub: Doc | None) -> None:
        if not len(doc):
            return
        array = numpy.zeros((len(doc), len(_ATTRS)), dtype="uint64")
        heads = numpy.zeros(len(doc), dtype="int64")
        deps = numpy.full(len(doc), self.dep_label, dtype="uint64")
        for sent, flag in zip(sents, flags, strict=True):
            if not flag:
                heads[sent.start : sent.end] = sent.start
                deps[sent.start] = self.root_label
        if sub is not None:
            where = numpy.asarray(index, dtype="int64")
            sub_array = sub.to_array([TAG, POS, MORPH, LEMMA, HEAD, DEP])
            array[where, 0:4] = sub_array[:, 0:4]
            sub_heads = numpy.arange(len(sub), dtype="int64") + sub_array[:, 4].astype("int64")
            heads[where] = where[sub_heads]
            deps[where] = sub_array[:, 5]
        array[:, 4] = (heads - numpy.arange(len(doc), dtype="int64")).astype("uint64")
        array[:, 5] = deps
        doc.from_array(_ATTRS, array)
        if sub is not None:
            doc.tensor = numpy.zeros((0, 0), dtype="float32")


def configure(nlp: Language, parse: str | None, selective_config: dict | None = None) -> Language:
    """Turn a loaded full pipeline into the ``parse`` mode: "all" (unchanged) or "candidates".

    Candidates mode is used only where it holds for the model (see :func:`unsupported`) and, when the
    statements component is in the pipeline, gives the full parse's statements on the self-check text;
    otherwise the pipeline stays as packaged. :func:`saidwhat.nlp.speed_paths.speed_paths` says which.
    """
    if parse is None:
        from saidwhat.nlp.settings import NlpSettings

        parse = NlpSettings().parse
    if parse not in PARSE_MODES:
        raise ValueError(f"[nlp] parse must be one of {', '.join(PARSE_MODES)}, got {parse!r}")
    if parse == "all":
        record(nlp, (SpeedPath("parse", False, 'all ([nlp] parse = "all")'),))
        return nlp
    problem = unsupported(nlp)
    if problem:
        record(nlp, (SpeedPath("parse", False, f"all, spaCy's pipeline as packaged ({problem})"),))
        return nlp
    reference = _statements_of(nlp)
    parts = [name for name in nlp.pipe_names if name not in _WHOLE_DOCUMENT and not name.startswith("saidwhat_")]
    senter_was_disabled = "senter" in nlp.disabled

    def switch_and_compare() -> str | None:
        _switch_to_candidates(nlp, parts, senter_was_disabled, selective_config)
        return None if _statements_of(nlp) == reference else "statements differ from the full parse"

    problem = guarded(switch_and_compare)
    if problem:
        _switch_back(nlp, parts, senter_was_disabled)
        record(nlp, (SpeedPath("parse", False, f"all, spaCy's pipeline as packaged ({problem})"),))
        return nlp
    selective = nlp.get_pipe("saidwhat_selective")
    detail = "candidates (tags, lemmas and the parse only where a statement can be)"
    record(nlp, (SpeedPath("parse", True, detail), nlp.get_pipe("saidwhat_ner").path, *selective.paths))
    return nlp


# Components that candidates mode runs on every sentence: sentence splitting and entities.
_WHOLE_DOCUMENT = frozenset({"senter", "ner"})


def unsupported(nlp: Language) -> str | None:
    """Why candidates mode does not fit this model, or None when it does."""
    if "ner" not in nlp.pipe_names:
        return "the model has no enabled ner"
    if "senter" not in nlp.component_names:
        return "the model has no senter to split sentences before parsing"
    if "parser" not in nlp.pipe_names:
        return "the model has no parser"
    for name in _WHOLE_DOCUMENT:
        model = nlp.get_pipe(name).model
        if any("listener" in node.name.lower() for node in model.walk()):
            return f"its {name} shares an embedding layer with the parser, so that layer runs on every sentence anyway"
    return None


def _statements_of(nlp: Language) -> list[tuple] | None:
    if "saidwhat_statements" not in nlp.pipe_names:
        return None
    doc = nlp(SELF_CHECK_TEXT)
    return [(s.quote, s.speaker, s.kind) for s in doc._.statements]


def _switch_to_candidates(nlp: Language, parts: list[str], senter_was_disabled: bool, config: dict | None) -> None:
    from saidwhat.nlp import fast_ner  # noqa: F401  (registers the factory)

    if senter_was_disabled:
        nlp.enable_pipe("senter")
    for name in parts:
        nlp.disable_pipe(name)
    # senter must run before ner, and the selective step after both. The model's
    # ner runs through the batch decoder of nlp.fast_ner where it gives the same entities.
    nlp.add_pipe("saidwhat_ner", after="ner")
    nlp.disable_pipe("ner")
    nlp.add_pipe("saidwhat_selective", after="saidwhat_ner", config={**(config or {}), "components": parts})


def _switch_back(nlp: Language, parts: list[str], senter_was_disabled: bool) -> None:
    for name in ("saidwhat_selective", "saidwhat_ner"):
        if name in nlp.component_names:
            nlp.remove_pipe(name)
    for name in [*parts, "ner"]:
        nlp.enable_pipe(name)
    if senter_was_disabled:
        nlp.disable_pipe("senter")
