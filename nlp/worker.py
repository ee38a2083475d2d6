"""The NLP work of one chunk of articles, importable without Prefect, DuckDB or the fetch stack.

``nlp.pool.analyze`` calls it in process, and the worker processes of
its pool call it too: a worker then holds the spaCy
model and little else.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache

from saidwhat.core.records import Analysis, TopicEvidence
from saidwhat.nlp.settings import NlpSettings, TopicSpec
from saidwhat.nlp.topics import StatementContext, TopicTagger, paragraph_around

Row = tuple[str, str, str | None]  # (article_id, text, title)
# (article_id, analysis, topics of each statement, topic evidence of each statement)
Analysed = tuple[str, Analysis, tuple[tuple[str, ...], ...], tuple[tuple[TopicEvidence, ...], ...]]


# A spaCy pipeline is not safe to use from two threads at once (shared vocabulary, memory zones), and
# in process the flow's task threads may analyse several chunks at the same time: one at a time here.
_ONE_AT_A_TIME = threading.Lock()


def pipeline(settings: NlpSettings):
    """The loaded pipeline for ``settings``, once per process, model and mode."""
    # Only what shapes the pipeline is the cache key: another batch size reuses the loaded one.
    return _pipeline(NlpSettings(model=settings.model, parse=settings.parse, nested=settings.nested))


@lru_cache(maxsize=2)
def _pipeline(shape: NlpSettings):
    from saidwhat.nlp.pipeline import load_pipeline

    return load_pipeline(shape.model, shape.statements_config, parse=shape.parse)


def analyze_rows(rows: Sequence[Row], settings: NlpSettings, topics: Sequence[TopicSpec]) -> list[Analysed]:
    """(article_id, analysis, topics and topic evidence of each statement) for each row, in order."""
    with _ONE_AT_A_TIME:
        return _analyze_rows(rows, settings, topics)


def _analyze_rows(rows: Sequence[Row], settings: NlpSettings, topics: Sequence[TopicSpec]) -> list[Analysed]:
    from saidwhat.nlp.pipeline import analyze

    nlp = pipeline(settings)
    batch_size = settings.batch_size
    tagger = TopicTagger(topics)
    results = []
    texts = (text for _, text, _ in rows)
    # Every new word form adds to the vocabulary for the life of the process;
    # the memory zone drops them after the chunk (the results are plain
    # strings), so a long-lived worker's memory stays flat.
    with nlp.memory_zone():
        analyses = analyze(nlp, texts, batch_size=batch_size)
        for (article_id, text, title), analysis in zip(rows, analyses, strict=True):
            decided = [
                tagger.evidence(
                    StatementContext(
                        s.quote, s.sentence, paragraph_around(text, s.sentence_start, s.sentence_end), title
                    )
                )
                for s in analysis.statements
            ]
            tags = tuple(topics for topics, _ in decided)
            evidence = tuple(found for _, found in decided)
            results.append((article_id, analysis, tags, evidence))
    return results
