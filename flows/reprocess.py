"""Re-tagging and re-processing stored articles: nothing is downloaded again.

- ``retag``: topics from config.toml are evaluated again for every stored
  statement, on the statement, its paragraph and the article title taken from
  the stored article text (no NLP model needed); [speakers.aliases] is
  applied too, and the quote clusters are rebuilt under the new aliases.
- ``reprocess``: the NLP runs again on the stored text of every article whose
  statements were made by another extractor version (or of all articles with
  ``everything=True``); each batch replaces those articles' statements and
  mentions in one transaction and keeps the article rows; the new statements
  are clustered again in that transaction (storage/clusters.py).

Each flow's body is a plain function (``retag_statements``,
``reprocess_articles``) that the CLI calls directly when no Prefect API is
configured.

Both write through a plain ``Writer``, never the spool: when another process
holds the database they refuse in one line before anything is written (a
user waiting at the terminal can run them again; a spool full of re-analyses
would only be written by the next ingest). They first write what the spool
holds, so that an older spooled analysis can never overwrite their work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from saidwhat import nlp
from saidwhat.config import Config, config_for, open_store
from saidwhat.core.errors import SaidwhatError
from saidwhat.core.records import TopicEvidence
from saidwhat.flows.progress import report
from saidwhat.nlp.topics import StatementContext, TopicTagger, paragraph_around
from saidwhat.storage import Spool, Writer
from saidwhat.storage.analyst import Analyst, StoredArticle
from saidwhat.storage.commands import RebuildClusters, ReplaceTopics, SaveAnalyses, SetConfigAliases

RETAG_BATCH = 200
REPROCESS_BATCH = 32


def _writer(config: Config, command: str) -> Writer:
    """A direct writer on the configured database, after the spool is written; refuses when it is held."""
    store = open_store(config.storage)  # a DuckDB file or a DuckLake ([storage] backend)
    if not store.exists():
        raise SaidwhatError(store.db.missing_message())
    Analyst(store).ensure_schema()
    writer = Writer(store)
    writer.check_free(command)
    if config.storage.backend == "duckdb":  # a lake has no spool: its writers never wait for a reader
        Spool(config.storage.spool_dir, store.path).drain(writer.write)
    writer.write(SetConfigAliases(config.speaker_aliases))  # [speakers.aliases] edits apply now too
    return writer


def topics_for(
    articles: list[StoredArticle], tagger: TopicTagger
) -> list[tuple[str, tuple[str, ...], tuple[TopicEvidence, ...]]]:
    """(statement_id, topics, evidence) of every statement, evaluated as at ingest (nlp.worker.analyze_rows)."""
    out = []
    for article in articles:
        for s in article.statements:
            context = StatementContext(
                s.quote, s.sentence, paragraph_around(article.text, s.sentence_start, s.sentence_end), article.title
            )
            out.append((s.statement_id, *tagger.evidence(context)))
    return out


def retag_statements(config_path: str | None = None, db_path: str | None = None, logger: Any = None) -> dict[str, Any]:
    """Evaluate the configured topics again for every stored statement; the retag flow's body."""
    logger = logger or logging.getLogger("saidwhat.retag")
    config = config_for(config_path, db_path, reading=True)
    if not config.topics:
        raise SaidwhatError(
            f"no topics in {config.source or 'the config'}: add [topics.NAME] tables (retag would clear every tag)"
        )
    tagger = TopicTagger(config.topics)
    writer = _writer(config, "retag")
    analyst = Analyst(writer.store)
    seen = changed = 0
    after: str | None = None
    while batch := analyst.articles_with_statements(after, RETAG_BATCH):
        pairs = topics_for(batch, tagger)
        changed += writer.write(ReplaceTopics(tuple(pairs))).result
        seen += len(pairs)
        after = batch[-1].article_id
    # Alias edits change who is one speaker, and so which statements may share a quote cluster.
    writer.write(RebuildClusters())
    logger.info("retag: %d statements, %d changed, topics %s", seen, changed, ", ".join(tagger.names))
    return {"statements": seen, "changed": changed, "topics": list(tagger.names)}


@flow(name="retag", log_prints=False)
def retag(config_path: str | None = None, db_path: str | None = None) -> dict[str, Any]:
    """Evaluate the configured topics again for every stored statement."""
    return retag_statements(config_path, db_path, logger=get_run_logger())


def analyze(rows: list[tuple[str, str, str | None]], config: Config) -> list[Any]:
    """The ingest's NLP step (flows.tasks.analyze_articles) on stored (article_id, text, title) rows."""
    from saidwhat.flows.tasks import analyze_articles

    return analyze_articles.fn(rows, config.nlp, config.topics)


def reprocess_articles(
    config_path: str | None = None,
    db_path: str | None = None,
    everything: bool = False,
    extractor_version: str | None = None,
    *,
    analyze_batch: Callable[..., list[Any]] = analyze,
    logger: Any = None,
) -> dict[str, Any]:
    """Run the NLP again on stored texts whose statements are stale; the reprocess flow's body."""
    logger = logger or logging.getLogger("saidwhat.reprocess")
    config = config_for(config_path, db_path, reading=True)
    version = extractor_version or nlp.EXTRACTOR_VERSION
    writer = _writer(config, "reprocess")
    analyst = Analyst(writer.store)
    total = analyst.count_for_reprocess(version, everything)
    articles = statements = 0
    after: str | None = None
    while rows := analyst.articles_for_reprocess(version, everything, after, REPROCESS_BATCH):
        report("nlp", articles, total)
        results = analyze_batch(rows, config)
        statements += writer.write(SaveAnalyses(tuple(results), version)).result
        articles += len(rows)
        after = rows[-1][0]
    report("nlp", total, total)
    logger.info("reprocess: %d articles, %d statements, extractor version %s", articles, statements, version)
    return {"articles": articles, "statements": statements, "extractor_version": version}


_analyze_task = task(cache_policy=NO_CACHE, name="reanalyze")(analyze)


@flow(name="reprocess", log_prints=False)
def reprocess(
    config_path: str | None = None,
    db_path: str | None = None,
    everything: bool = False,
    extractor_version: str | None = None,
) -> dict[str, Any]:
    """Run the NLP again on stored texts whose statements are stale; keep the articles."""
    return reprocess_articles(
        config_path, db_path, everything, extractor_version, analyze_batch=_analyze_task, logger=get_run_logger()
    )
