"""Where the NLP runs, and how it overlaps with fetching.

* ``[runner] kind = "threads"`` (default): the NLP task runs in a thread of the
  flow; with ``[nlp] n_process`` >= 2 it hands its rows to a persistent pool
  of that many worker processes (``nlp/pool.py``; each loads the model once), so fetching,
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

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from typing import Any

from saidwhat.config import Config, RunnerSettings
from saidwhat.core.lifetime import stop_signal_of
from saidwhat.flows.tasks import analyze_articles
from saidwhat.nlp.pool import abandon_pool, warm_pool
from saidwhat.nlp.worker import Row  # (article_id, text, title)

Submit = Callable[[list[Row]], Any]  # returns a future with .result()


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
