"""A drop-in, exactly equivalent and much faster stand-in for spaCy's ``attribute_ruler``.

The model's attribute ruler holds ~180 patterns, nearly all of them single
tokens keyed on TAG, LOWER, IS_SPACE and DEP (tag -> POS/morphology mappings
and word exceptions).  spaCy runs them all through a ``Matcher`` at every
token and then builds a ``Span`` per match; that costs about as much as the
tagger and the parser together.  Here the single-token patterns are evaluated
once per distinct (tag, lower, is_space, dep, pos, morph, lemma) combination
and cached (then written with one ``Doc.from_array``), the few
multi-token patterns still go through a ``Matcher``, and each token gets the
attributes of its matching patterns in pattern order (later patterns win),
exactly as ``AttributeRuler.set_annotations`` applies them: the attributes are
written by the ruler's own public ``set_annotations``, given the matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from spacy.attrs import DEP, IS_SPACE, LEMMA, LOWER, MORPH, ORTH, POS, TAG
from spacy.matcher import Matcher
from spacy.pipeline import AttributeRuler
from spacy.tokens import Doc, Token

_FIELDS = ("TAG", "LOWER", "IS_SPACE", "DEP")
# A token's result depends only on these (the pattern fields, and the attributes the patterns may leave as they are).
_KEY = [TAG, LOWER, IS_SPACE, DEP, POS, MORPH, LEMMA]
_OUT = [TAG, POS, MORPH, LEMMA]
_OUT_COLUMNS = [0, 4, 5, 6]


def _value_matches(spec: Any, value: Any) -> bool:
    if isinstance(spec, dict):
        for op, arg in spec.items():
            if op == "IN" and value not in arg:
                return False
            if op == "NOT_IN" and value in arg:
                return False
            if op == "REGEX" and not re.search(arg, value):
                return False
            if op not in ("IN", "NOT_IN", "REGEX"):
                raise ValueError(f"unsupported operator {op}")
        return True
    return spec == value


def _token_matches(token_spec: dict[str, Any], features: dict[str, Any]) -> bool:
    return all(_value_matches(spec, features[key]) for key, spec in token_spec.items())


# Entries are small, but a long-lived worker meets an unbounded number of
# distinct words: the caches start over rather than grow without limit.
MAX_CACHE_ENTRIES = 200_000


class FastAttributeRuler:
    """Applies ``ruler``'s patterns like ``ruler(doc)`` does; see the module docstring."""

    def __init__(self, ruler: AttributeRuler) -> None:
        self.ruler = ruler
        self.single: list[tuple[int, list[dict[str, Any]]]] = []
        self.indices: dict[int, int] = {}
        self.matcher = Matcher(ruler.vocab, validate=False)
        self.has_multi = False
        for k, pattern in enumerate(ruler.patterns):
            alternatives = pattern["patterns"]
            simple = all(
                len(alt) == 1 and set(alt[0]) <= set(_FIELDS) and pattern["index"] in (0, -1) for alt in alternatives
            )
            if simple:
                self.single.append((k, [alt[0] for alt in alternatives]))
            else:
                self.matcher.add(str(k), alternatives)
                self.indices[k] = pattern["index"]
                self.has_multi = True
        # Strings, not hashes: inside nlp.memory_zone() a string first met in the zone is
        # forgotten when the zone ends, and a cached hash of it would no longer resolve.
        # Each document adds the strings it uses (a no-op when they are known).
        self._cache: dict[tuple[int, ...], tuple[str, int, str, str, str]] = {}
        self._index()

    def _index(self) -> None:
        """Single-token pattern alternatives by exact TAG, else by exact LOWER, else generic."""
        self.by_tag: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.by_lower: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.generic: list[tuple[int, dict[str, Any]]] = []
        for k, alternatives in self.single:
            for alt in alternatives:
                if isinstance(alt.get("TAG"), str):
                    self.by_tag.setdefault(alt["TAG"], []).append((k, alt))
                elif isinstance(alt.get("LOWER"), str):
                    self.by_lower.setdefault(alt["LOWER"], []).append((k, alt))
                else:
                    self.generic.append((k, alt))

    def _single_matches(self, token: Token) -> tuple[int, ...]:
        features = {"TAG": token.tag_, "LOWER": token.lower_, "IS_SPACE": token.is_space, "DEP": token.dep_}
        candidates = self.by_tag.get(features["TAG"], []) + self.by_lower.get(features["LOWER"], []) + self.generic
        return tuple(sorted({k for k, alt in candidates if _token_matches(alt, features)}))

    def _final(self, token: Token) -> tuple[str, int, str, str, str]:
        """Apply the single-token patterns to ``token`` as the ruler would; its (tag, pos, morph, lemma, dep)."""
        i = token.i
        self.ruler.set_annotations(token.doc, [(k, 0, i, i + 1) for k in self._single_matches(token)])
        strings = token.vocab.strings
        return strings[token.tag], token.pos, strings[token.morph.key], strings[token.lemma], strings[token.dep]

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        # Tokens that a multi-token pattern writes to: the ruler's matches (k, 0, start, end) for each.
        extra: dict[int, list[tuple[int, int, int, int]]] = {}
        if self.has_multi:
            strings = doc.vocab.strings
            for match_id, start, end in self.matcher(doc, allow_missing=True):
                k = int(strings[match_id])
                index = self.indices[k]
                i = start + index if index >= 0 else end + index
                if not start <= i < end:
                    raise ValueError(f"attribute ruler pattern {k}: index {index} outside the match")
                extra.setdefault(i, []).append((k, 0, start, end))
        before = doc.to_array(_KEY)
        after = before[:, _OUT_COLUMNS].copy()
        cache = self._cache
        if len(cache) >= MAX_CACHE_ENTRIES:
            cache.clear()
        add = doc.vocab.strings.add
        in_doc: dict[tuple[int, ...], tuple[int, int, int, int, int]] = {}
        deps = []
        for i, key in enumerate(map(tuple, before.tolist())):
            if i in extra:
                continue  # done below, the slow way, in pattern order
            final = in_doc.get(key)
            if final is None:
                texts = cache.get(key)
                if texts is None:
                    texts = cache[key] = self._final(doc[i])
                tag, pos, morph, lemma, dep = texts
                final = in_doc[key] = (add(tag), pos, add(morph), add(lemma), add(dep))
            after[i] = final[:4]
            if final[4] != key[3]:
                deps.append((i, final[4]))
        doc.from_array(_OUT, after)
        for i, dep in deps:
            doc[i].dep = dep
        for i, more in extra.items():
            singles = [(k, 0, i, i + 1) for k in self._single_matches(doc[i])]
            # Pattern order (later patterns win), as the ruler sorts its matches.
            self.ruler.set_annotations(doc, sorted([*singles, *more]))
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)


class FastLemmatizer:
    """An exactly equivalent, faster stand-in for spaCy's rule ``lemmatizer``.

    spaCy's rule lemma is a function of (orth, pos, morphology) (that is its
    own cache key); here it is computed once per key with the lemmatizer's
    own ``lemmatize`` and written for the whole doc with one ``from_array``.
    Tokens whose lemma is already set (by the attribute ruler) keep it, as in
    ``Lemmatizer.__call__`` unless ``overwrite`` is set.
    """

    def __init__(self, lemmatizer: Any) -> None:
        self.lemmatizer = lemmatizer
        self.overwrite = bool(getattr(lemmatizer, "overwrite", False))
        self._cache: dict[tuple[int, int, int], str] = {}  # strings, as in FastAttributeRuler

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        rows = doc.to_array([ORTH, POS, MORPH, LEMMA])
        lemmas = rows[:, 3].copy()
        cache = self._cache
        if len(cache) >= MAX_CACHE_ENTRIES:
            cache.clear()
            self.lemmatizer.cache.clear()  # spaCy's own, keyed the same way
        add = doc.vocab.strings.add
        in_doc: dict[tuple[int, int, int], int] = {}
        for i, (orth, pos, morph, lemma) in enumerate(rows.tolist()):
            if lemma and not self.overwrite:
                continue
            key = (orth, pos, morph)
            value = in_doc.get(key)
            if value is None:
                text = cache.get(key)
                if text is None:
                    text = cache[key] = self.lemmatizer.lemmatize(doc[i])[0]
                value = in_doc[key] = add(text)
            lemmas[i] = value
        doc.from_array([LEMMA], lemmas.reshape(-1, 1))
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)
