"""Prefect's temporary API server, started by us so that it cannot outlive the command.

Without ``PREFECT_API_URL``, the first Prefect client of a process starts a
temporary API server: a ``uvicorn`` child process (``SubprocessASGIServer``, a
singleton per process) that Prefect stops at interpreter exit. A process
killed with SIGKILL never reaches its exit, and the server (200 to 250 MB)
stayed behind with no parent, one per killed run.

:func:`start_temporary_server` starts that same singleton, from the main
thread, before the flow does: same command, settings and port choice, and
Prefect's own stop at exit, with one addition -- the child asks the kernel
for SIGTERM when its parent dies (``saidwhat.core.lifetime.die_with_parent``),
and sits in its own process group so that a terminal's Ctrl+C is handled by
the command, which stops it after the run has recorded its end. Prefect then
finds the server already running and uses it.

Why this and not something else: a watchdog inside the server would need code
in Prefect's server process; running our own server would replace Prefect's
start-up logic; ending it from the command's exit handlers does nothing
against SIGKILL. The kernel's parent-death signal needs no code in the child
and no change to Prefect's behaviour.
"""

from __future__ import annotations

import functools
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from saidwhat.core.errors import SaidwhatError
from saidwhat.core.lifetime import die_with_parent

_swap_lock = threading.Lock()


def temporary_server_needed() -> bool:
    """True when a flow run in this process would start Prefect's temporary API server."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    return not PREFECT_API_URL.value() and bool(PREFECT_SERVER_EPHEMERAL_ENABLED.value())


def start_temporary_server() -> float | None:
    """Start Prefect's temporary API server now, tied to this process; return the seconds it took to answer.

    None when no temporary server is needed (a Prefect API is configured), it
    is already running, or this is not the main thread (the parent-death
    signal follows the thread that starts the child, and Prefect's own lazy
    start is then the safer choice).
    """
    if not temporary_server_needed() or threading.current_thread() is not threading.main_thread():
        return None
    server_class = _server_that_dies_with_us()
    server = server_class()
    if not isinstance(server, server_class) or server.running:
        return None  # Prefect made (or started) its own first: leave it as it is
    started = time.monotonic()
    try:
        server.start()
    except RuntimeError as exc:  # Prefect's "Timed out while attempting to connect ..."
        from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS as STARTUP_TIMEOUT

        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SaidwhatError(
            f"Prefect's temporary API server did not start within {STARTUP_TIMEOUT.value()} s ({reason}): set"
            " PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS higher, or run `prefect server start` and set"
            " PREFECT_API_URL (see README, Running every hour with Prefect)"
        ) from None
    return time.monotonic() - started


def temporary_server_pid() -> int | None:
    """The pid of this process's temporary API server, if one is running."""
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer._instances.get(None)
    process = getattr(server, "server_process", None)
    return process.pid if process is not None and process.poll() is None else None


@functools.cache
def _server_that_dies_with_us() -> type:
    """Prefect's SubprocessASGIServer whose uvicorn child gets a parent-death signal.

    ``SubprocessASGIServer()`` returns one instance per port from a registry
    shared with subclasses, so the instance made from this class is the one
    Prefect's client finds. Defined on first use: Prefect's server module is
    only worth importing when a temporary server is needed.
    """
    from prefect.server.api.server import SubprocessASGIServer

    class ServerThatDiesWithUs(SubprocessASGIServer):
        def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
            with _popen_with_preexec(die_with_parent()):
                return super()._run_uvicorn_command()

    return ServerThatDiesWithUs


@contextmanager
def _popen_with_preexec(preexec: Any) -> Iterator[None]:
    """Within the block, Popen calls made by Prefect's server module pass ``preexec_fn``.

    Only that module's name ``subprocess`` is replaced, and only while the
    server's command is being started, so nothing else in the process sees it.
    """
    from prefect.server.api import server as server_module

    def popen(*args: Any, **kwargs: Any) -> subprocess.Popen[Any]:
        kwargs.setdefault("preexec_fn", preexec)
        return subprocess.Popen(*args, **kwargs)

    with _swap_lock:
        original = server_module.subprocess
        server_module.subprocess = SimpleNamespace(**{**vars(subprocess), "Popen": popen})
        try:
            yield
        finally:
            server_module.subprocess = original
