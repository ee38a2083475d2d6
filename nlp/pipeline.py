"""Build the configured spaCy pipeline with the statements component."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

import spacy
from spacy.language import Language
from spacy.util import compile_infix_regex

from saidwhat.core.records import Analysis
from saidwhat.nlp.errors import ModelNotInstalled
from saidwhat.nlp.speed_paths import speed_paths

PARSE_ENV = "SAIDWHAT_NLP_PARSE"
NER_BATCH = 8

__all__ = ["PARSE_ENV", "ModelNotInstalled", "analyze", "load_pipeline", "speed_paths"]


def load_pipeline(model: str, statements_config: dict[str, Any] | None = None, parse: str | None = None) -> Language:
    """Load ``model`` and append the ``saidwhat_statements`` component.

    ``parse`` is the ``[nlp] parse`` mode (see ``nlp.selective``): "all" runs the
    whole model, as packaged, on every sentence; "candidates" tags and parses
    only the sentences where a statement can be and decodes the model's NER a
    batch at a time (``nlp.fast_ner``); None means $SAIDWHAT_NLP_PARSE if set
    (so that ``saidwhat eval`` can score both modes), else the default.
    """
    from saidwhat.nlp import paragraphs, selective, statements  # noqa: F401  (registers the factories)

    try:
        nlp = spacy.load(model)
    except OSError as exc:
        raise ModelNotInstalled(model) from exc
    _split_glued_quotation_marks(nlp)
    # Sentences never cross a line break (news paragraphs); the parser and senter keep preset starts.
    nlp.add_pipe("saidwhat_paragraphs", first=True)
    nlp.add_pipe("saidwhat_statements", last=True, config=statements_config or {})
    # Last, so that candidates mode can check that it finds the full pipeline's statements.
    selective.configure(nlp, parse or os.environ.get(PARSE_ENV) or None)
    return nlp


# 'Ryan said,“Look, ...”' (no space after the comma) is one token "said,“Look" for the stock
# tokenizer, and the quotation and its cue are lost: split a comma or colon and an opening mark
# glued to a word.
GLUED_QUOTATION_INFIXES = (
    r'(?<=[A-Za-z])[,:](?=[“"])',
    r"(?<=[,:])[“]",
    # '...prejudice,”Clinton said': a closing mark glued to the next word, and the punctuation before it.
    r'(?<=[A-Za-z])[,.!?](?=[”"][A-Za-z])',
    r'(?<=[,.!?])[”"](?=[A-Za-z])',
)


def _split_glued_quotation_marks(nlp: Language) -> None:
    """Add the infixes to the model's own (kept as loaded, whatever the package customised)."""
    current = getattr(nlp.tokenizer.infix_finditer, "__self__", None)
    patterns = [current.pattern] if current is not None else list(nlp.Defaults.infixes or ())
    patterns += [p for p in GLUED_QUOTATION_INFIXES if not any(p in known for known in patterns)]
    nlp.tokenizer.infix_finditer = compile_infix_regex(patterns).finditer


def analyze(nlp: Language, texts: Iterable[str], batch_size: int = 32, n_process: int = 1) -> Iterator[Analysis]:
    """Stream texts through ``nlp.pipe`` and yield one Analysis per text, in order."""
    from saidwhat.nlp.statements import analysis_of

    # The NER's working memory grows with its batch (~20 MB per document); 8 documents are as fast as 32.
    component_cfg = {"ner": {"batch_size": min(batch_size, NER_BATCH)}} if "ner" in nlp.pipe_names else None
    for doc in nlp.pipe(texts, batch_size=batch_size, n_process=n_process, component_cfg=component_cfg):
        yield analysis_of(doc)
