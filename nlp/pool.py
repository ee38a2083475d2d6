"""Where the NLP of a chunk of articles runs: here, or on a persistent pool of worker processes.

With ``n_process`` >= 2 the rows go to a pool of that many spawned processes,
each of which loads the model once and keeps it for later chunks and later
runs in the same process; otherwise the model runs in the calling process.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from saidwhat.core.lifetime import exit_with_parent
from saidwhat.nlp.settings import NlpSettings, TopicSpec
from saidwhat.nlp.worker import Analysed, Row, analyze_rows, pipeline

_pool_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_pool_key: tuple[str, str, bool, int] | None = None


def analyze(rows: Sequence[Row], settings: NlpSettings, topics: Sequence[TopicSpec]) -> list[Analysed]:
    """(article_id, analysis, topics, topic evidence) of ``rows``, in order; on the pool when ``n_process`` >= 2."""
    if settings.n_process > 1:
        return analyze_in_pool(rows, settings, topics)
    return analyze_rows(rows, settings, topics)


def _pool_for(settings: NlpSettings) -> ProcessPoolExecutor:
    """The persistent NLP worker pool for these settings (started on first use, reused by later runs)."""
    global _pool, _pool_key
    key = (settings.model, settings.parse, settings.nested, settings.n_process)
    with _pool_lock:
        if _pool is None or _pool_key != key:
            if _pool is not None:
                _pool.shutdown(wait=True, cancel_futures=True)
            # spawn, not fork: the flow's process runs threads (Prefect, httpx) that must not be forked.
            context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(
                max_workers=settings.n_process, mp_context=context, initializer=_warm, initargs=(settings, os.getpid())
            )
            _pool_key = key
        return _pool


def shutdown_pool() -> None:
    global _pool, _pool_key
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
        _pool, _pool_key = None, None


atexit.register(shutdown_pool)


def abandon_pool() -> None:
    """End the workers now, dropping the chunks they are analysing (a stopped run's are redone by the next).

    ``shutdown`` alone would wait for the chunks in flight, and so would
    Prefect's task runner, whose thread waits on them.
    """
    global _pool, _pool_key
    with _pool_lock:
        pool, _pool, _pool_key = _pool, None, None
    if pool is None:
        return
    pool.abandoned = True  # type: ignore[attr-defined]
    for process in list((pool._processes or {}).values()):  # no public handle on the workers
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def warm_pool(settings: NlpSettings) -> None:
    """Start the pool's processes now (each loads the model), without waiting for them."""
    pool = _pool_for(settings)
    for _ in range(settings.n_process):
        pool.submit(_noop)


def _noop() -> None:
    return None


def _warm(settings: NlpSettings, parent_pid: int) -> None:
    # A worker outlives a killed parent otherwise (it waits on its task queue forever).
    exit_with_parent(parent_pid)
    # Ctrl+C reaches the whole terminal process group: the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pipeline(settings)


def _analyze_here(rows: Sequence[Row], settings: NlpSettings, topics: Sequence[TopicSpec]) -> list[Analysed]:
    return analyze_rows(rows, settings, topics)


def analyze_in_pool(rows: Sequence[Row], settings: NlpSettings, topics: Sequence[TopicSpec]) -> list[Analysed]:
    """(article_id, analysis, topics, topic evidence) of ``rows``, computed on the worker pool's processes."""
    pool = _pool_for(settings)
    size = max(1, -(-len(rows) // settings.n_process))
    chunks = [list(rows[i : i + size]) for i in range(0, len(rows), size)]
    try:
        futures = [pool.submit(_analyze_here, chunk, settings, topics) for chunk in chunks]
        return [result for future in futures for result in future.result()]
    except BrokenProcessPool:
        if getattr(pool, "abandoned", False):
            return []  # the run is being stopped and saves nothing more: no failure to report
        # A worker died (killed for memory, or a crash in native code). The
        # next call gets a fresh pool, so the caller's one-by-one fallback can
        # find the article that does it instead of failing on a dead pool.
        _discard(pool)
        raise


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool, _pool_key
    with _pool_lock:
        if _pool is pool:
            _pool, _pool_key = None, None
    pool.shutdown(wait=False, cancel_futures=True)
