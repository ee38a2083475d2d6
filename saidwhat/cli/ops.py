"""Operations commands: `saidwhat serve` runs the ingest and digest schedules with Prefect.

`serve` needs a Prefect API (schedules live on the server):

    prefect server start                                   # terminal 1
    prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api
    saidwhat serve --config config.toml                    # terminal 2

It registers two deployments from this one process -- `ingest/ingest` on
`[schedule] ingest_cron` and `digest/digest` on `[schedule] digest_cron` --
and runs their scheduled (or manually triggered) flow runs until stopped.
Overlapping ingest runs queue: the deployment has a concurrency limit of 1,
the flow takes the global concurrency limit `saidwhat-ingest`, and a lock file
next to the database keeps out anything else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from saidwhat.cli.options import ConfigOption
from saidwhat.core.errors import SaidwhatError

err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    config: ConfigOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many flow runs at once")] = 2,
) -> None:
    """Serve the hourly `ingest` and weekly `digest` deployments (needs a Prefect server)."""
    from prefect.settings import PREFECT_API_URL

    from saidwhat.config import load_config

    settings = load_config(config)  # a broken config fails here, in one line, not at 3 a.m.
    if not PREFECT_API_URL.value():
        raise SaidwhatError(
            "saidwhat serve needs a Prefect server for its schedules: run `prefect server start`, then "
            "`prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api` (or export it) and try again"
        )
    deployments = build_deployments(settings)
    ensure_ingest_concurrency_limit()
    names = ", ".join(f"{d.flow_name}/{d.name} ({_cron_of(d)})" for d in deployments)
    err.print(f"Serving {names} from {settings.source}; Ctrl+C stops.", highlight=False)
    serve_until_stopped(deployments, limit)


def serve_until_stopped(deployments: list[Any], limit: int) -> None:
    """``prefect.serve``, except that SIGTERM ends the command as a stop (exit 143), not as a success.

    Prefect's runner takes SIGTERM over while it runs and shuts down
    gracefully, cancelling the flow runs in flight; it then returns as if
    nothing had happened. The runner below remembers the signal, so the CLI
    ends what is left and exits 143 like every other stopped command. SIGINT
    (Ctrl+C) is the CLI's own ``Stopped`` from the start.
    """
    import asyncio
    import signal

    from prefect.runner import Runner

    from saidwhat.core.lifetime import Stopped, start_deadline

    class StoppableRunner(Runner):
        stopped_by: int | None = None

        def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:
            if not start_deadline(signal.SIGTERM):
                return  # already stopping: the deadline is running
            self.stopped_by = signal.SIGTERM
            if not self.started or self.stopping or self._loop is None:
                raise Stopped(signal.SIGTERM)  # Prefect would exit 0 here
            super().handle_sigterm(*args, **kwargs)

    runner = StoppableRunner(pause_on_shutdown=True, limit=limit)
    for deployment in deployments:
        runner.add_deployment(deployment)
    asyncio.run(runner.start())
    if runner.stopped_by is not None:
        raise Stopped(runner.stopped_by)


def build_deployments(settings: Any) -> list[Any]:
    """The `ingest` (hourly) and `digest` (weekly) RunnerDeployments, one run at a time each."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron

    from saidwhat.flows.digest import digest
    from saidwhat.flows.ingest import ingest

    config_path = str(Path(settings.source).resolve()) if settings.source else None
    one_at_a_time = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)
    jobs = [
        (ingest, settings.schedule.ingest_cron, "Poll the feeds, store new articles, attribute statements."),
        (digest, settings.schedule.digest_cron, "The weekly digest of who said what."),
    ]
    return [
        flow.to_deployment(
            name=flow.name,
            schedules=[Cron(cron, timezone=settings.schedule.timezone)],
            parameters={"config_path": config_path},
            concurrency_limit=one_at_a_time,
            description=description,
            tags=["saidwhat"],
        )
        for flow, cron, description in jobs
    ]


def ensure_ingest_concurrency_limit() -> None:
    """Create the global concurrency limit the ingest flow takes (limit 1), if it is missing."""
    from prefect.client.orchestration import get_client

    from saidwhat.flows.ingest import INGEST_CONCURRENCY_LIMIT

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(INGEST_CONCURRENCY_LIMIT)
        except Exception:  # ObjectNotFound, or an older server: create it
            client.upsert_global_concurrency_limit_by_name(INGEST_CONCURRENCY_LIMIT, 1)


def _cron_of(deployment: Any) -> str:
    crons = [getattr(s.schedule, "cron", "?") for s in (deployment.schedules or [])]
    return ", ".join(crons) or "no schedule"
