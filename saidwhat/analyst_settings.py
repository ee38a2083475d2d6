"""Settings for the analysts' commands: the config file, or just --db with the defaults."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from saidwhat.config import Config, find_config, load_config
from saidwhat.errors import SaidwhatError


def analyst_config(config_path: str | None, db_path: str | None) -> Config:
    """The config with --db applied; with --db and no config file anywhere, the defaults."""
    try:
        config = load_config(Path(config_path) if config_path else None)
    except SaidwhatError:
        if config_path or not db_path:
            raise
        try:
            find_config(None)
        except SaidwhatError:
            config = Config(source=None)
        else:
            raise
    if db_path:
        config = replace(config, storage=replace(config.storage, path=Path(db_path)))
    return config


def use_prefect() -> bool:
    """Run commands as Prefect flows only when a Prefect API is configured.

    Without one, Prefect would start a temporary server for every command
    (many seconds); the commands then call the same code directly.
    """
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())
