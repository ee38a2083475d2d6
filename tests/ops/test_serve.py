"""`saidwhat serve` registers both schedules against a real local Prefect server, and
prefect.yaml describes the same deployments for work pools."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from saidwhat.config import ScheduleSettings

from .publishers import write_config

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen, sig: int = signal.SIGINT) -> str:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.stdout.read() if process.stdout else ""


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory):
    """A throw-away Prefect server on a free port, with its own PREFECT_HOME; skips if it cannot start."""
    tmp_path = tmp_path_factory.mktemp("prefect")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_LOGGING_LEVEL="WARNING", PREFECT_SERVER_UI_ENABLED="false")  # fmt: skip
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            output = stop(server, signal.SIGTERM)
            pytest.skip(f"a local Prefect server did not start within {STARTUP_SECONDS}s: {output[-500:]}")
        time.sleep(0.5)
    env["PREFECT_API_URL"] = api
    try:
        yield api, env
    finally:
        stop(server, signal.SIGTERM)


def deployments(api: str) -> dict[str, dict]:
    flows = {f["id"]: f["name"] for f in httpx.post(f"{api}/flows/filter", json={}, timeout=10).json()}
    found = httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()
    return {f"{flows.get(d['flow_id'], '?')}/{d['name']}": d for d in found}


def crons(deployment: dict) -> list[tuple[str, str]]:
    return [(s["schedule"]["cron"], s["schedule"].get("timezone")) for s in deployment.get("schedules", [])]


def test_serve_registers_the_ingest_and_digest_schedules(prefect_server, tmp_path):
    api, env = prefect_server
    config = write_config(tmp_path)
    with config.open("a", encoding="utf-8") as handle:
        handle.write('[schedule]\ningest_cron = "15 * * * *"\ndigest_cron = "0 7 * * 1"\ntimezone = "UTC"\n')
    serve = subprocess.Popen(
        [str(BIN / "saidwhat"), "serve", "--config", str(config)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not {"ingest/ingest", "digest/digest"} <= set(deployments(api)):
            assert serve.poll() is None, stop(serve)
            assert time.monotonic() < deadline, "serve did not register its deployments"
            time.sleep(0.5)
        found = deployments(api)
        listing = subprocess.run([str(BIN / "prefect"), "deployment", "ls"], env=env, capture_output=True,
                                 text=True, timeout=60)  # fmt: skip
        limit = httpx.post(f"{api}/v2/concurrency_limits/filter", json={}, timeout=10).json()
    finally:
        output = stop(serve)
    assert crons(found["ingest/ingest"]) == [("15 * * * *", "UTC")]
    assert crons(found["digest/digest"]) == [("0 7 * * 1", "UTC")]
    assert found["ingest/ingest"]["parameters"] == {"config_path": str(config.resolve())}
    assert "ingest/ingest" in listing.stdout and "digest/digest" in listing.stdout, listing.stdout
    assert any(gcl["name"] == "saidwhat-ingest" and gcl["limit"] == 1 for gcl in limit)
    assert "Serving ingest/ingest (15 * * * *), digest/digest (0 7 * * 1)" in output, output


def test_prefect_yaml_describes_the_same_deployments():
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    by_name = {d["name"]: d for d in spec["deployments"]}
    defaults = ScheduleSettings()
    assert set(by_name) == {"ingest", "digest"}
    assert by_name["ingest"]["schedules"] == [{"cron": defaults.ingest_cron, "timezone": defaults.timezone}]
    assert by_name["digest"]["schedules"] == [{"cron": defaults.digest_cron, "timezone": defaults.timezone}]
    for deployment in by_name.values():
        path, _, name = deployment["entrypoint"].partition(":")
        assert (ROOT / path).is_file() and f"def {name}(" in (ROOT / path).read_text(encoding="utf-8")
        assert deployment["concurrency_limit"]["limit"] == 1


def test_prefect_deploy_accepts_prefect_yaml(prefect_server):
    api, env = prefect_server
    env = {**env, "SAIDWHAT_HOME": str(ROOT)}
    prefect = str(BIN / "prefect")
    pool = subprocess.run([prefect, "work-pool", "create", "saidwhat", "--type", "process"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert pool.returncode == 0, pool.stdout + pool.stderr
    deploy = subprocess.run([prefect, "--no-prompt", "deploy", "--all"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert deploy.returncode == 0, deploy.stdout[-2000:] + deploy.stderr[-2000:]
    found = deployments(api)
    assert crons(found["ingest/ingest"]) == [("0 * * * *", "UTC")]
    assert crons(found["digest/digest"]) == [("0 6 * * 1", "UTC")]
    assert found["ingest/ingest"]["work_pool_name"] == "saidwhat"


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_serve_stops_on_a_signal_with_its_exit_status_and_nothing_left(prefect_server, tmp_path, sig, code):
    import psutil

    _, env = prefect_server
    config = write_config(tmp_path)
    log = tmp_path / "serve.log"
    with log.open("w", encoding="utf-8") as output:  # a file: a leftover child would hold a pipe open
        serve = subprocess.Popen([str(BIN / "saidwhat"), "serve", "--config", str(config)], cwd=tmp_path, env=env,
                                 stdin=subprocess.DEVNULL, stdout=output, stderr=output)  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while "Serving ingest/ingest" not in log.read_text(encoding="utf-8"):
            assert serve.poll() is None, log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "serve did not start serving"
            time.sleep(0.2)
        time.sleep(1.0)  # the runner is polling for scheduled runs now
        tree = psutil.Process(serve.pid).children(recursive=True)
        serve.send_signal(sig)
        started = time.monotonic()
        assert serve.wait(timeout=30) == code, log.read_text(encoding="utf-8")
        assert time.monotonic() - started < 10
        psutil.wait_procs(tree, timeout=max(0.1, started + 10 - time.monotonic()))
        assert [p.pid for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    assert f"stopped by {signal.Signals(sig).name}" in log.read_text(encoding="utf-8")


def test_a_killed_serve_leaves_no_flow_run_behind(prefect_server, tmp_path):
    """SIGKILL on `serve` while its ingest run works: the run's process notices and exits by itself."""
    import psutil

    from saidwhat.demo.server import Route

    from .publishers import FaultySite, Item, feed_route, slow

    _, env = prefect_server
    items = [Item(f"k-{i}", None, title=f"t{i}", summary="s") for i in range(3)]
    with FaultySite(
        {"/slow.xml": slow(feed_route(items), 120.0), "/robots.txt": Route(b"", "text/plain")}
    ).start() as site:
        config = write_config(tmp_path, [("slow", site.url("/slow.xml"))], read_timeout=150.0)
        log = tmp_path / "serve.log"
        with log.open("w", encoding="utf-8") as output:
            serve = subprocess.Popen([str(BIN / "saidwhat"), "serve", "--config", str(config)], cwd=tmp_path,
                                     env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output)  # fmt: skip
        tree: list[psutil.Process] = []
        try:
            deadline = time.monotonic() + 120
            ours = {"config_path": str(config.resolve())}  # not a deployment left by an earlier test's serve
            while deployments(env["PREFECT_API_URL"]).get("ingest/ingest", {}).get("parameters") != ours:
                assert serve.poll() is None and time.monotonic() < deadline, log.read_text(encoding="utf-8")
                time.sleep(0.5)
            ingest = deployments(env["PREFECT_API_URL"])["ingest/ingest"]
            httpx.post(f"{env['PREFECT_API_URL']}/deployments/{ingest['id']}/create_flow_run", json={}, timeout=30)
            while not site.requests_to("/slow.xml"):  # the run is polling the (slow) feed now
                assert serve.poll() is None and time.monotonic() < deadline, log.read_text(encoding="utf-8")
                time.sleep(0.2)
            tree = psutil.Process(serve.pid).children(recursive=True)
            assert tree, "the flow run was expected in a child process of serve"
            serve.send_signal(signal.SIGKILL)
            serve.wait()
            _, alive = psutil.wait_procs(tree, timeout=30)
            alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
            assert alive == [], [" ".join(p.cmdline())[:100] for p in alive]
        finally:
            for process in tree:
                with contextlib.suppress(psutil.Error):
                    process.kill()
            if serve.poll() is None:
                serve.kill()
                serve.wait()
