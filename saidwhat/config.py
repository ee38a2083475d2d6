"""Load and validate ``config.toml`` into typed settings.

Every invalid key is reported as one line naming the key and what is expected,
so a user never has to read a traceback to fix a typo.

Which configuration: ``--config``, else ``$SAIDWHAT_CONFIG``, else
``./config.toml``, else the built-in default that ships inside the package
(``saidwhat/default_config.toml``, the same file as the repository's
``config.toml``; a test holds them equal). Relative paths in a config file are
relative to that file; in the built-in default, to the current directory.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from saidwhat.core.errors import ConfigError, SaidwhatError
from saidwhat.core.records import FeedSpec
from saidwhat.nlp.settings import NlpSettings, TopicSpec

CONFIG_ENV = "SAIDWHAT_CONFIG"
DEFAULT_CONFIG_FILE = "default_config.toml"
# What `saidwhat demo` writes when no --db is given; readers fall back to it (see database_to_read).
DEMO_DB = Path("demo.duckdb")


@dataclass(frozen=True, slots=True)
class StorageSettings:
    # "duckdb": one file at `path`; "ducklake": the catalog (PostgreSQL or a local .ducklake file) and a data folder.
    backend: str = "duckdb"
    path: Path = Path("data/saidwhat.duckdb")
    spool_dir: Path = Path("data/spool")
    lock_patience_seconds: float = 60.0
    catalog: str = ""
    data_path: str = ""


@dataclass(frozen=True, slots=True)
class FetchSettings:
    user_agent: str = "saidwhat/0.1 (news research; +https://github.com/saidwhat/saidwhat)"
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    # One HTTP exchange (connect, headers and body) never takes longer than this, however the server trickles.
    total_timeout_seconds: float = 30.0
    max_body_bytes: int = 5_000_000
    max_redirects: int = 5
    per_host_concurrency: int = 2
    per_host_delay_seconds: float = 1.0
    respect_robots: bool = True
    max_items_per_feed: int = 100
    page_attempts: int = 3
    unhealthy_after_failures: int = 5
    resolve_google_news: bool = True
    # Transient failures (connection errors, timeouts, truncated bodies, retry_statuses) are tried again.
    attempts: int = 3
    backoff_base_seconds: float = 1.0
    backoff_cap_seconds: float = 30.0
    retry_statuses: tuple[int | str, ...] = (429, "5xx")
    # A host whose last this-many URLs all timed out (no answer in between) is skipped for the rest of the run.
    skip_host_after_timeouts: int = 3
    # An HTTP proxy for every request ("" = none, or $HTTP_PROXY / $HTTPS_PROXY).
    proxy: str = ""


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    kind: str = "threads"
    address: str = ""
    workers: int = 2


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    ingest_cron: str = "0 * * * *"
    digest_cron: str = "0 6 * * 1"
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class DigestSettings:
    out_dir: Path = Path("digest")


@dataclass(frozen=True, slots=True)
class Config:
    source: Path | None  # None: the built-in default configuration
    storage: StorageSettings = field(default_factory=StorageSettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    nlp: NlpSettings = field(default_factory=NlpSettings)
    runner: RunnerSettings = field(default_factory=RunnerSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    digest: DigestSettings = field(default_factory=DigestSettings)
    feeds: tuple[FeedSpec, ...] = ()
    topics: tuple[TopicSpec, ...] = ()
    speaker_aliases: dict[str, str] = field(default_factory=dict)

    def topic(self, name: str) -> TopicSpec:
        for topic in self.topics:
            if topic.name == name:
                return topic
        known = ", ".join(t.name for t in self.topics) or "none configured"
        raise ConfigError(f"unknown topic '{name}': topics in {self.described} are {known}")

    @property
    def described(self) -> str:
        return str(self.source) if self.source else "the built-in configuration"


def default_config_text() -> str:
    """The built-in configuration, shipped in the package (the repository's config.toml)."""
    return resources.files("saidwhat").joinpath(DEFAULT_CONFIG_FILE).read_text(encoding="utf-8")


def find_config(explicit: Path | None = None) -> Path | None:
    """--config, then $SAIDWHAT_CONFIG, then ./config.toml; None means the built-in default."""
    if explicit is not None:
        candidate, how = explicit, "--config"
    elif os.environ.get(CONFIG_ENV):
        candidate, how = Path(os.environ[CONFIG_ENV]), f"${CONFIG_ENV}"
    else:
        candidate, how = Path("config.toml"), "the current directory"
        if not candidate.exists():
            return None  # the built-in configuration
    if candidate.is_dir():
        raise ConfigError(
            f"config file {candidate} (from {how}) is a folder:"
            f" give the file, e.g. --config {candidate / 'config.toml'}"
        )
    if not candidate.is_file():
        raise ConfigError(f"config file {candidate} (from {how}) not found: pass --config PATH or set {CONFIG_ENV}")
    return candidate


def nlp_settings(path: Path | None = None) -> NlpSettings:
    """``[nlp]`` of the config in use, for the offline commands (`extract`, `eval`)."""
    return load_config(path).nlp


def load_config(path: Path | None = None) -> Config:
    """Read and validate the config found by :func:`find_config` (or the built-in default)."""
    source = find_config(path)
    if source is None:
        return parse_config(tomllib.loads(default_config_text()), None)
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {source}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML ({exc}): fix the syntax at that line") from None
    return parse_config(raw, source)


def parse_config(raw: dict[str, Any], source: Path | None = None) -> Config:
    """Validate ``raw``; relative paths are relative to ``source``'s folder (no source: the current one)."""
    where = str(source) if source else "the built-in configuration"
    base = source.parent if source else Path()  # the built-in config: relative to the current folder
    known = {"storage", "fetch", "nlp", "runner", "schedule", "digest", "feeds", "topics", "speakers"}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{where}: unknown section [{key}]; expected one of {', '.join(sorted(known))}")
    storage = _section(raw, "storage", StorageSettings, where)
    storage = _storage_settings(storage, base, where)
    digest = _section(raw, "digest", DigestSettings, where)
    runner = _section(raw, "runner", RunnerSettings, where)
    if runner.kind not in {"threads", "dask"}:
        raise ConfigError(f'{where}: [runner] kind must be "threads" or "dask", got {runner.kind!r}')
    fetch = _section(raw, "fetch", FetchSettings, where)
    _check_fetch(fetch, where)
    nlp = _section(raw, "nlp", NlpSettings, where)
    if nlp.parse not in {"candidates", "all"}:
        raise ConfigError(f'{where}: [nlp] parse must be "candidates" or "all", got {nlp.parse!r}')
    return Config(
        source=source,
        storage=storage,
        fetch=fetch,
        nlp=nlp,
        runner=runner,
        schedule=_section(raw, "schedule", ScheduleSettings, where),
        digest=DigestSettings(out_dir=_resolve(base, digest.out_dir)),
        feeds=_feeds(raw.get("feeds", []), where),
        topics=_topics(raw.get("topics", {}), where),
        speaker_aliases=_aliases(raw.get("speakers", {}), where),
    )


def _storage_settings(storage: StorageSettings, base: Path, where: str) -> StorageSettings:
    if storage.backend not in ("duckdb", "ducklake"):
        raise ConfigError(f'{where}: [storage] backend must be "duckdb" or "ducklake", got {storage.backend!r}')
    catalog, data_path = storage.catalog.strip(), storage.data_path.strip()
    if storage.backend == "ducklake":
        if not catalog or not data_path:
            raise ConfigError(
                f'{where}: [storage] backend = "ducklake" needs catalog (a PostgreSQL connection string such as'
                ' "postgresql://saidwhat@db-host/saidwhat", or a local .ducklake file) and data_path (a folder)'
            )
        from saidwhat.storage.lake import Catalog

        if Catalog.parse(catalog).kind == "file":  # a local metadata file is relative to the config, as `path`
            catalog = str(_resolve(base, Path(catalog)))
        if "://" not in data_path:  # object storage (s3://, gs://) is passed through as is
            data_path = str(_resolve(base, Path(data_path)))
    return StorageSettings(
        backend=storage.backend,
        path=_resolve(base, storage.path),
        spool_dir=_resolve(base, storage.spool_dir),
        lock_patience_seconds=storage.lock_patience_seconds,
        catalog=catalog,
        data_path=data_path,
    )


def store_to_read(config_path: str | Path | None, db_path: str | Path | None) -> tuple[Any, Config]:
    """The Store a reading command uses (the lake, or the file by :func:`database_to_read`) and its config."""
    config = config_for(config_path, db_path, reading=True)
    return open_store(config.storage), config


def open_store(settings: StorageSettings) -> Any:
    """The Store of the configured backend (a saidwhat.storage.Store)."""
    from saidwhat.storage import Store
    from saidwhat.storage.backend import open_database

    database = open_database(
        settings.backend,
        settings.path,
        settings.catalog,
        settings.data_path,
        settings.lock_patience_seconds,
    )
    return Store(database)


def _check_fetch(fetch: FetchSettings, where: str) -> None:
    from saidwhat.fetch.retry import expand_statuses

    for key in ("attempts", "skip_host_after_timeouts"):
        if getattr(fetch, key) < 1:
            raise ConfigError(f"{where}: [fetch] {key} must be at least 1, got {getattr(fetch, key)!r}")
    if fetch.total_timeout_seconds <= 0:
        raise ConfigError(
            f"{where}: [fetch] total_timeout_seconds must be more than 0, got {fetch.total_timeout_seconds!r}"
        )
    try:
        expand_statuses(fetch.retry_statuses)
    except ValueError as exc:
        raise ConfigError(f'{where}: [fetch] retry_statuses: {exc}; e.g. retry_statuses = [429, "5xx"]') from None


def _resolve(base: Path, path: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else base / path


def _section(raw: dict[str, Any], name: str, cls: type, where: str) -> Any:
    values = raw.get(name, {})
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: [{name}] must be a table")
    defaults = cls()
    kwargs: dict[str, Any] = {}
    names = {f.name for f in fields(cls)}
    for key, value in values.items():
        if key not in names:
            raise ConfigError(f"{where}: unknown key [{name}] {key}; expected one of {', '.join(sorted(names))}")
        kwargs[key] = _coerce(value, getattr(defaults, key), f"[{name}] {key}", where)
    return cls(**{**{f.name: getattr(defaults, f.name) for f in fields(cls)}, **kwargs})


def _coerce(value: Any, default: Any, key: str, where: str) -> Any:
    expected = type(default)
    if expected is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: {key} must be true or false, got {value!r}")
    if expected in (int, float):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (expected is int and isinstance(value, float))
        ):
            kind = "a whole number" if expected is int else "a number"
            raise ConfigError(f"{where}: {key} must be {kind}, got {value!r}")
        if value < 0:
            raise ConfigError(f"{where}: {key} must not be negative, got {value!r}")
        return expected(value)
    if isinstance(default, tuple):
        if not isinstance(value, list):
            raise ConfigError(f"{where}: {key} must be a list, e.g. {key.split()[-1]} = {list(default)!r}")
        return tuple(value)
    if isinstance(default, Path):
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where}: {key} must be a path string, got {value!r}")
        return Path(value)
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string, got {value!r}")
    return value


def _feeds(raw_feeds: Any, where: str) -> tuple[FeedSpec, ...]:
    if not isinstance(raw_feeds, list):
        raise ConfigError(f"{where}: feeds must be written as [[feeds]] tables")
    feeds = []
    for i, entry in enumerate(raw_feeds, 1):
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: feed #{i} must be a [[feeds]] table with name, url and publisher")
        url = entry.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}: feed #{i} url must be an http(s) URL, got {url!r}")
        extra = set(entry) - {"name", "url", "publisher"}
        if extra:
            raise ConfigError(f"{where}: feed #{i} has unknown key {sorted(extra)[0]}; expected name, url, publisher")
        name = entry.get("name") or url
        publisher = entry.get("publisher") or ""
        if not isinstance(name, str) or not isinstance(publisher, str):
            raise ConfigError(f"{where}: feed #{i} name and publisher must be strings")
        feeds.append(FeedSpec(name=name, url=url, publisher=publisher))
    return tuple(feeds)


TOPIC_KEYS = ("description", "about", "refers_to", "not_about", "all_of", "patterns")


def _topics(raw_topics: Any, where: str) -> tuple[TopicSpec, ...]:
    if not isinstance(raw_topics, dict):
        raise ConfigError(f"{where}: topics must be written as [topics.NAME] tables")
    topics = []
    for name, spec in raw_topics.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}: [topics.{name}] must be a table with about = [[...], ...]")
        at = f"{where}: [topics.{name}]"
        extra = set(spec) - set(TOPIC_KEYS)
        if extra:
            raise ConfigError(f"{at} has unknown key {sorted(extra)[0]}; expected {', '.join(TOPIC_KEYS)}")
        groups = _phrase_groups(spec.get("all_of", []), f"{at} all_of", 'all_of = [["Trump", "Putin"]]')
        about = _phrase_groups(spec.get("about", []), f"{at} about", 'about = [["summit", "visit*"], ["Moscow"]]')
        refers_to = _phrase_list(spec.get("refers_to", []), f"{at} refers_to", 'refers_to = ["the invitation"]')
        not_about = _phrase_list(spec.get("not_about", []), f"{at} not_about", 'not_about = ["sanctions"]')
        patterns = _patterns(spec.get("patterns", []), f"{at} patterns")
        if not groups and not about and not patterns:
            raise ConfigError(f"{at} needs about, all_of or patterns (with none it tags everything)")
        if refers_to and not about:
            raise ConfigError(f"{at} has refers_to but no about: refers_to only lets context supply about groups")
        if not_about and not about:
            raise ConfigError(f"{at} has not_about but no about: not_about refuses statements that matched about")
        topics.append(
            TopicSpec(
                name=name,
                description=str(spec.get("description", "")),
                all_of=groups,
                patterns=patterns,
                about=about,
                refers_to=refers_to,
                not_about=not_about,
            )
        )
    return tuple(topics)


def _phrase_groups(raw: Any, where: str, example: str) -> tuple[tuple[str, ...], ...]:
    if not isinstance(raw, list) or not all(
        isinstance(g, list) and g and all(isinstance(p, str) and p.strip() for p in g) for g in raw
    ):
        raise ConfigError(f"{where} must be a list of non-empty lists of phrases, e.g. {example}")
    return tuple(tuple(g) for g in raw)


def _phrase_list(raw: Any, where: str, example: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) and p.strip() for p in raw):
        raise ConfigError(f"{where} must be a list of phrases, e.g. {example}")
    return tuple(raw)


def _patterns(raw: Any, where: str) -> tuple[str, ...]:
    """spaCy Matcher patterns (lists of token tables), kept as JSON strings; nlp/topics.py checks the attributes."""
    import json

    example = 'e.g. patterns = [[{LOWER = "next"}, {LOWER = "time"}]]'
    if not isinstance(raw, list) or not all(
        isinstance(p, list) and p and all(isinstance(t, dict) for t in p) for p in raw
    ):
        raise ConfigError(f"{where} must be a list of token patterns (lists of tables), {example}")
    return tuple(json.dumps(p, sort_keys=True, ensure_ascii=False) for p in raw)


def _aliases(raw_speakers: Any, where: str) -> dict[str, str]:
    if not isinstance(raw_speakers, dict):
        raise ConfigError(f"{where}: [speakers] must be a table")
    extra = set(raw_speakers) - {"aliases"}
    if extra:
        raise ConfigError(f"{where}: unknown key [speakers] {sorted(extra)[0]}; expected aliases")
    aliases = raw_speakers.get("aliases", {})
    if not isinstance(aliases, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()):
        raise ConfigError(
            f'{where}: [speakers.aliases] must map names to names, e.g. "Donald J. Trump" = "Donald Trump"'
        )
    return dict(aliases)


def config_for(
    config_path: str | Path | None,
    db_path: str | Path | None = None,
    *,
    reading: bool = False,
    feed_urls: Sequence[str] | None = None,
    feeds: Sequence[FeedSpec] | None = None,
    fetch_overrides: dict[str, Any] | None = None,
) -> Config:
    """The config of one command: the config in use (:func:`find_config`) with the command's overrides.

    ``db_path`` (--db) names a DuckDB file, whatever backend the config chooses. ``reading``: the
    command reads the database, chosen by :func:`database_to_read` (the lake, when configured and no
    --db is given). ``feed_urls`` (--feed) replace the feed list (a configured feed keeps its name and
    publisher); ``feeds`` are the feeds themselves (the demo); ``fetch_overrides`` fields of ``[fetch]``.
    """
    config = load_config(Path(config_path) if config_path else None)
    db = Path(db_path) if db_path else None
    if reading and not (db is None and config.storage.backend == "ducklake"):
        db = database_to_read(config, db)
    if db is not None:
        config = replace(config, storage=replace(config.storage, backend="duckdb", path=db))
    if feed_urls:
        config = replace(config, feeds=tuple(_adhoc_feed(url, config.feeds) for url in feed_urls))
    if feeds:
        config = replace(config, feeds=tuple(feeds))
    if fetch_overrides:
        config = replace(config, fetch=replace(config.fetch, **fetch_overrides))
    return config


def database_to_read(config: Config, db: Path | None) -> Path:
    """The one rule for the database a command reads.

    ``--db`` if given; else the config's ``[storage] path``; else, when no config
    file is in use (the built-in default) and that database does not exist,
    ``./demo.duckdb`` if `saidwhat demo` wrote it. A missing database is one
    line naming the ``--db`` to pass.
    """
    if db is not None:
        if not db.exists():
            raise SaidwhatError(
                f"database {db} (from --db) does not exist: check the path, or run `saidwhat run` or"
                " `saidwhat demo` first"
            )
        return db
    path = config.storage.path
    if path.exists():
        return path
    if config.source is None and DEMO_DB.exists():
        return DEMO_DB
    hint = f"pass --db {DEMO_DB}" if DEMO_DB.exists() else "pass --db PATH"
    raise SaidwhatError(
        f"database {path} ([storage] path in {config.described}) does not exist yet: {hint},"
        " or run `saidwhat run` or `saidwhat demo` first"
    )


def _adhoc_feed(url: str, configured: Sequence[FeedSpec]) -> FeedSpec:
    """A --feed URL: the configured feed with that URL, else one named after its host."""
    for spec in configured:
        if spec.url == url:
            return spec
    host = urlsplit(url).netloc or url
    return FeedSpec(name=host, url=url, publisher=host)


def use_prefect() -> bool:
    """Run commands as Prefect flows only when a Prefect API is configured.

    Without one, Prefect would start a temporary server for every command
    (many seconds); the commands then call the same code directly.
    """
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())
