"""saidwhat.core.lifetime on its own: children of a killed process exit by themselves, and a stopped
process is gone by the deadline even when its code does not unwind."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import psutil

from saidwhat.core.lifetime import STOP_DEADLINE_SECONDS

PARENT = textwrap.dedent(
    """
    import os, subprocess, sys, time
    from saidwhat.core.lifetime import die_with_parent
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
    watcher = [sys.executable, "-c", "import os, time; from saidwhat.core.lifetime import exit_with_parent;"
               " exit_with_parent(int(os.environ['PARENT']), 0.2); time.sleep(120)"]
    signalled = subprocess.Popen(sleeper, preexec_fn=die_with_parent())
    watching = subprocess.Popen(watcher, env={**os.environ, "PARENT": str(os.getpid())})
    plain = subprocess.Popen(sleeper)
    print(signalled.pid, watching.pid, plain.pid, flush=True)
    time.sleep(120)
    """
)


def running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_children_of_a_killed_parent_exit_by_themselves_unless_left_to_themselves():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    signalled, watching, plain = (psutil.Process(int(pid)) for pid in parent.stdout.readline().split())
    try:
        time.sleep(1.0)  # the watcher's thread is running
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while (alive := [p for p in (signalled, watching) if running(p)]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert alive == [], [p.cmdline() for p in alive]
        # The control: a child started without either mechanism is still there.
        assert running(plain)
    finally:
        for process in (signalled, watching, plain):
            if running(process):
                process.kill()


STUBBORN = textwrap.dedent(
    """
    import threading
    from saidwhat.core.lifetime import Stopped, stopping_on_signals
    with stopping_on_signals():
        try:
            print("ready", flush=True)
            threading.Event().wait()
        except Stopped:
            pass  # code that swallows the stop ...
        threading.Event().wait()  # ... and hangs, as a stuck library call would
    """
)


def test_a_stopped_process_that_does_not_unwind_still_exits_143_by_the_deadline():
    process = subprocess.Popen([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    assert process.wait(timeout=30) == 143
    assert STOP_DEADLINE_SECONDS - 0.5 < time.monotonic() - started < 10


# A stop that arrives while DuckDB runs a query: DuckDB notices the signal, our handler raises
# Stopped inside it, and DuckDB reports "Query interrupted" raised from that Stopped.
INTERRUPTED_QUERY = textwrap.dedent(
    """
    import duckdb
    from saidwhat.core.lifetime import stop_signal_of, stopping_on_signals
    con = duckdb.connect()
    with stopping_on_signals():
        try:
            print("ready", flush=True)
            con.execute("CREATE TABLE t AS SELECT count(*) FROM range(1000000000000) a WHERE a.range % 7 = 3")
        except BaseException as exc:
            print(type(exc).__name__, stop_signal_of(exc), flush=True)
    """
)


def test_a_stop_reported_by_an_interrupted_database_query_is_still_a_stop():
    process = subprocess.Popen([sys.executable, "-c", INTERRUPTED_QUERY], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    finally:
        process.kill()  # a query DuckDB did not interrupt would otherwise run on after the test
        process.wait()
    kind, signum = out.split()
    assert kind == "RuntimeError", out  # DuckDB's own report; if DuckDB ever re-raises ours, this test can go
    assert int(signum) == signal.SIGINT, out
