"""The speed paths of ``[nlp] parse = "candidates"``, each checked against spaCy before it is used.

Three stand-ins make the default pipeline fast: the batch NER decoder
(``nlp.fast_ner``), the selective tag/parse (``nlp.selective``) and the
cached attribute ruler and lemmatizer (``nlp.fast_ruler``).  Each is only
right for the kind of model it was written for, so at load time each one is
run beside the spaCy component it replaces on a short built-in text; when the
model is not of that kind, or the results differ, spaCy's component runs
instead.  :func:`speed_paths` says which path is active and why, and the
choice is logged once per pipeline.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from spacy.attrs import DEP, HEAD, LEMMA, MORPH, POS, TAG
from spacy.language import Language
from spacy.tokens import Doc

log = logging.getLogger("saidwhat.nlp")

# Written for the check: names, organisations, places and dates; quotes and reporting verbs; a line break.
SELF_CHECK_TEXT = (
    "Kremlin spokesman Dmitry Peskov told reporters in Moscow on Tuesday that no date had been set for a summit.\n"
    "“We are ready to talk, but the preparation will take time,” he said. U.S. President Donald Trump said on "
    "Friday he would travel to Russia if a deal with Vladimir Putin were ready, according to the White House.\n"
    "The European Union and NATO said talks in Geneva would resume next week. “It is too early,” a senior "
    "official at the State Department said."
)

_PARSE_ATTRS = [TAG, POS, MORPH, LEMMA, HEAD, DEP]


@dataclass(frozen=True, slots=True)
class SpeedPath:
    """One stand-in and whether it runs: ``detail`` names what runs and, when it is spaCy's, why."""

    name: str
    fast: bool
    detail: str

    def __str__(self) -> str:
        return f"{self.name}: {self.detail}"


_PATHS: weakref.WeakKeyDictionary[Language, tuple[SpeedPath, ...]] = weakref.WeakKeyDictionary()


def speed_paths(nlp: Language) -> tuple[SpeedPath, ...]:
    """The speed paths chosen when ``nlp`` was configured (empty for a pipeline saidwhat did not configure)."""
    return _PATHS.get(nlp, ())


def describe(nlp: Language) -> str:
    """One line for logs and reports: ``parse: candidates; ner: batch decoder; ...``."""
    return "; ".join(str(path) for path in speed_paths(nlp)) or "parse: all (spaCy's pipeline as packaged)"


def record(nlp: Language, paths: tuple[SpeedPath, ...]) -> None:
    _PATHS[nlp] = paths
    log.info("NLP speed paths: %s", describe(nlp))


def check_text(nlp: Language) -> Doc:
    """The built-in text, tokenised, with sentence starts preset as the paragraphs component sets them."""
    doc = nlp.make_doc(SELF_CHECK_TEXT)
    for token in doc[1:]:
        previous = doc[token.i - 1]
        token.is_sent_start = "\n" in previous.text or (previous.text in {".", "?", "!"} and token.text[:1].isupper())
    return doc


def same_entities(reference: Callable[[Doc], Doc], candidate: Callable[[Doc], Doc], doc: Doc) -> str | None:
    """None when both give ``doc`` the same entities, else what differs."""
    expected = reference(doc.copy())
    got = candidate(doc.copy())
    want = [(e.start, e.end, e.label_) for e in expected.ents]
    have = [(e.start, e.end, e.label_) for e in got.ents]
    return None if want == have else f"entities differ from spaCy's on the self-check text ({have} vs {want})"


def same_annotations(reference: Callable[[Doc], Doc], candidate: Callable[[Doc], Doc], doc: Doc) -> str | None:
    """None when both set the same tags, POS, morphology, lemmas and dependencies on ``doc``."""
    expected = reference(doc.copy()).to_array(_PARSE_ATTRS)
    got = candidate(doc.copy()).to_array(_PARSE_ATTRS)
    return None if (expected == got).all() else "annotations differ from spaCy's on the self-check text"


def guarded(check: Callable[[], str | None]) -> str | None:
    """A check's verdict; a stand-in that raises on the model fails its check rather than the run."""
    try:
        return check()
    except Exception as exc:  # any failure means "not for this model": spaCy's component runs instead
        return f"self-check failed ({type(exc).__name__}: {exc})"
