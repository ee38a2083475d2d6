"""Where the NLP runs, and how it overlaps with fetching.

* ``[runner] kind = "threads"`` (default): the NLP task runs in a thread of the
  flow; with ``[nlp] n_process`` >= 2 it hands its rows to a persistent pool
  of that many worker processes (each loads the model once), so fetching,
  extraction and writes in the flow's process overlap with the NLP.
* ``[runner] kind = "dask"``: the NLP task is submitted through prefect-dask's
  ``DaskTaskRunner`` (``address`` of an existing scheduler, else a local
  cluster of ``workers`` single-threaded worker processes); each worker loads
  the model once and runs it in process.  Polling and fetching stay in the
  flow's threads; the flow remains the single writer of the DuckDB file.

:class:`NlpStream` keeps a bounded number of NLP chunks in flight and saves
their results as they complete, so memory stays flat with the corpus size.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from typing import Any

from saidwhat.config import Config, NlpSettings, RunnerSettings, TopicSpec
from saidwhat.core.lifetime import stop_signal_of

Row = tuple[str, str, str | None]  # (article_id, text, title)
Submit = Callable[[list[Row]], Any]  # returns a future with .result()


# ------------------------------------------------------------------ process pool (threads runner)
_pool_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_pool_key: tuple[str, str, int] | None = None


def _pool_for(settings: NlpSettings) -> ProcessPoolExecutor:
    """The persistent NLP worker pool for these settings (started on first use, reused by later runs)."""
    global _pool, _pool_key
    key = (settings.model, settings.parse, settings.n_process)
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
    from saidwhat.nlp.worker import pipeline

    from saidwhat.core.lifetime import exit_with_parent

    # A worker outlives a killed parent otherwise (it waits on its task queue forever).
    exit_with_parent(parent_pid)
    # Ctrl+C reaches the whole terminal process group: the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    pipeline(settings.model, settings.parse)


def _analyze_here(rows: Sequence[Row], settings: NlpSettings, topics: Sequence[TopicSpec]) -> list:
    from saidwhat.nlp.worker import analyze_rows

    return analyze_rows(rows, settings.model, settings.parse, settings.batch_size, topics)


def analyze_in_pool(rows: Sequence[Row], settings: NlpSettings, topics: Sequence[TopicSpec]) -> list:
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


# ------------------------------------------------------------------ task runners
def dask_runner(runner: RunnerSettings):
    """prefect-dask's DaskTaskRunner for ``[runner]``: an existing cluster, or a local one."""
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:  # pragma: no cover - depends on the extra
        from saidwhat.core.errors import ConfigError

        raise ConfigError('[runner] kind = "dask" needs the dask extra: pip install -e ".[dask]"') from exc
    if runner.address:
        return DaskTaskRunner(address=runner.address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": max(1, runner.workers),
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
        }
    )


@contextmanager
def nlp_submitter(config: Config) -> Iterator[Submit]:
    """A function that submits a chunk of rows to the configured runner and returns its future.

    The Dask runner (and its local cluster) starts on the first chunk, so a run
    with nothing to analyse never pays for it.
    """
    from saidwhat.flows.tasks import analyze_articles

    if config.runner.kind != "dask":

        def submit_here(rows: list[Row]) -> Any:
            return analyze_articles.submit(rows, config.nlp, config.topics)

        if config.nlp.n_process > 1:
            submit_here.warm = lambda: warm_pool(config.nlp)  # type: ignore[attr-defined]
        try:
            yield submit_here
        except BaseException as exc:
            if stop_signal_of(exc) is not None:
                abandon_pool()
            raise
        return
    settings = replace(config.nlp, n_process=1)  # one model per Dask worker process
    with ExitStack() as stack:
        runner = None

        def submit(rows: list[Row]) -> Any:
            nonlocal runner
            if runner is None:
                runner = stack.enter_context(dask_runner(config.runner))
            return runner.submit(analyze_articles, {"rows": rows, "settings": settings, "topics": config.topics})

        yield submit


def chunk_size(config: Config) -> int:
    """Rows per NLP task: one nlp.pipe batch per worker process."""
    workers = config.runner.workers if config.runner.kind == "dask" else config.nlp.n_process
    return max(1, config.nlp.batch_size) * (1 if config.runner.kind == "dask" else max(1, workers))


def max_in_flight(config: Config) -> int:
    """NLP chunks submitted and not yet saved: enough to keep every worker busy, bounded."""
    if config.runner.kind == "dask":
        return 2 * max(1, config.runner.workers)
    return 3  # chunks span every pool process; a third keeps them busy while the flow fetches


class NlpStream:
    """A bounded queue of NLP chunks in flight; ``save`` is called with each chunk's results, in order.

    ``fallback(rows)`` is called instead when a chunk fails (it analyses the
    rows one by one and records the article that fails); errors in
    ``fatal`` (e.g. the model is not installed) propagate.
    """

    def __init__(
        self,
        submit: Submit,
        save: Callable[[list[Row], list], None],
        fallback: Callable[[list[Row]], list],
        chunk: int,
        depth: int,
        fatal: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.submit, self.save, self.fallback = submit, save, fallback
        self.chunk, self.depth, self.fatal = max(1, chunk), max(1, depth), fatal
        self.in_flight: deque[tuple[list[Row], Any]] = deque()
        self.pending: list[Row] = []
        self.ids: set[str] = set()  # every article submitted (ids only: 16 characters each)
        self.skipped: set[str] = set()  # articles whose analysis failed on their own, for the caller
        self.warmed = False

    def add(self, rows: Sequence[Row], flush: bool = False) -> None:
        if rows and not self.warmed:
            self.warmed = True
            warm = getattr(self.submit, "warm", None)
            if warm is not None:
                warm()  # the workers load the model while the flow fetches the next batch
        for row in rows:
            if row[0] not in self.ids:
                self.ids.add(row[0])
                self.pending.append(row)
        while len(self.pending) >= self.chunk or (flush and self.pending):
            chunk, self.pending = self.pending[: self.chunk], self.pending[self.chunk :]
            while len(self.in_flight) >= self.depth:
                self._collect()
            self.in_flight.append((chunk, self.submit(chunk)))

    def drain(self) -> None:
        self.add((), flush=True)
        while self.in_flight:
            self._collect()

    def _collect(self) -> None:
        rows, future = self.in_flight.popleft()
        try:
            results = future.result()
        except self.fatal:
            raise
        except Exception:
            results = self.fallback(rows)
        self.save(rows, results)
