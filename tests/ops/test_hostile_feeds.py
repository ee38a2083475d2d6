"""Hostile and odd feeds at the parsing layer: a usable result or a FeedParseError, quickly, never more."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from saidwhat.extract import ExtractionFailed, extract_page
from saidwhat.feeds import FeedParseError, parse_feed
from tests.conftest import shared_path

from .publishers import Item, rss

SHARED_FEED_DIRS = ("feedparser-edgecases", "rss-parser-feeds/input", "mediacloud-rss-fetcher")


def shared_feed_files() -> list[Path]:
    """Every file of the three shared feed folders (empty when ../shared is absent)."""
    from tests.conftest import CORPUS

    files = []
    for folder in SHARED_FEED_DIRS:
        root = CORPUS / folder
        if root.is_dir():
            files += sorted(p for p in root.rglob("*") if p.is_file() and p.name != "SOURCES.txt")
    return files


@pytest.mark.parametrize("path", shared_feed_files() or [None], ids=lambda p: p.name if p else "absent")
def test_every_shared_feed_parses_or_fails_cleanly(path):
    if path is None:
        shared_path("corpus", "feedparser-edgecases")  # skips
    started = time.monotonic()
    try:
        parsed = parse_feed("http://127.0.0.1/feed", path.read_bytes(), "application/xml")
    except FeedParseError as exc:
        assert str(exc).startswith("not a usable feed")
    else:
        assert parsed.items or parsed.bozo_reason is None  # no items only from a well-formed feed
        assert len({i.guid for i in parsed.items}) == len(parsed.items)
        for item in parsed.items:
            assert item.url is None or item.url.startswith(("http://", "https://"))
    assert time.monotonic() - started < 5


def billion_laughs(levels: int = 10) -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(entities) + "\n]>\n"
        f'<rss version="2.0"><channel><title>&lol{levels - 1};</title><item><title>&lol{levels - 1};</title>'
        "<link>http://127.0.0.1/a/1</link><description>bomb</description></item></channel></rss>"
    ).encode()


def quadratic_blowup(size: int = 30_000) -> bytes:
    """One long plain entity referenced many times: the form feedparser itself keeps as 'safe'."""
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "' + b"x" * size + b'">\n]>\n'
        b'<rss version="2.0"><channel><title>t</title><item><title>bomb</title><link>http://127.0.0.1/a/1</link>'
        b"<description>" + b"&a;" * size + b"</description></item></channel></rss>"
    )


def test_entity_expansion_bombs_are_defused():
    for body in (billion_laughs(), quadratic_blowup()):
        started = time.monotonic()
        parsed = parse_feed("http://127.0.0.1/feed", body)
        assert time.monotonic() - started < 2
        assert "entity-expansion guard" in (parsed.bozo_reason or "")
        for item in parsed.items:  # references stay unexpanded: nothing grows
            assert len(item.summary or "") <= len(body) and len(item.title or "") < 1000


def test_external_entities_are_never_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE", encoding="utf-8")
    body = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        '<rss version="2.0"><channel><title>t</title><item><title>&xxe;</title>'
        "<link>http://127.0.0.1/a/1</link><description>&xxe;</description></item></channel></rss>"
    ).encode()
    parsed = parse_feed("http://127.0.0.1/feed", body)
    assert all("TOP-SECRET" not in f"{i.title}{i.summary}" for i in parsed.items)
    wide = body.decode().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-16"?>')
    with pytest.raises(FeedParseError, match="entities"):
        parse_feed("http://127.0.0.1/feed", wide.encode("utf-16"))


def test_a_body_that_looks_like_a_path_is_not_opened(tmp_path):
    secret = tmp_path / "feed.xml"
    secret.write_bytes(rss([Item("g", "http://127.0.0.1/a/local-file")]))
    with pytest.raises(FeedParseError):
        parse_feed("http://127.0.0.1/feed", str(secret).encode())


@pytest.mark.parametrize(
    "body", [b"", b"   \n", b"\x00\x01\x02binary\xff\xfe", b"<html><body>Not a feed</body></html>"]
)
def test_empty_binary_and_html_bodies_are_parse_errors(body):
    with pytest.raises(FeedParseError):
        parse_feed("http://127.0.0.1/feed", body)


def test_items_without_links_dates_titles_and_with_duplicates():
    now = datetime(2025, 11, 4, tzinfo=UTC)
    body = rss(
        [
            Item("dup", "http://127.0.0.1/a/1", title="First"),
            Item("dup", "http://127.0.0.1/a/2", title="Second copy of the guid"),
            Item(None, None, title="No link, no guid", summary="Only text here."),
            Item("nodate", "http://127.0.0.1/a/3", published=None),
            Item("future", "http://127.0.0.1/a/4", published="Sat, 01 Jan 2huh 10:00:00 GMT"),
            Item("far-future", "http://127.0.0.1/a/5", published="Fri, 01 Jan 2100 10:00:00 GMT"),
            Item("untitled", "http://127.0.0.1/a/6", title=None, summary=None),
            Item("relative", "/a/relative-link"),
        ]
    )
    items = {i.guid: i for i in parse_feed("http://127.0.0.1/feed", body, now=now).items}
    assert items["dup"].title == "First"
    no_link = [i for i in items.values() if i.title == "No link, no guid"]
    assert no_link and no_link[0].url is None and no_link[0].guid.startswith("sha1:")
    assert items["nodate"].published_at is None
    assert items["future"].published_at is None  # unparseable
    assert items["far-future"].published_at is None  # a publisher's error, not a date
    assert items["untitled"].title is None and items["untitled"].url == "http://127.0.0.1/a/6"
    assert items["relative"].url is None  # not fetchable as it stands


def test_max_items_keeps_the_first_distinct_items():
    body = rss([Item(f"g{i % 7}", f"http://127.0.0.1/a/{i}") for i in range(50)])
    parsed = parse_feed("http://127.0.0.1/feed", body, max_items=5)
    assert [i.guid for i in parsed.items] == ["g0", "g1", "g2", "g3", "g4"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x00" * 5000,
        bytes(range(256)) * 40,
        "<html><body><p>caf\u00e9 \u00fcber na\u00efve</p></body></html>".encode("cp1252"),
        "<html><body><p>\u041a\u0440\u0435\u043c\u043b\u044c</p></body></html>".encode("koi8-r"),
        b"<html><body>" + b"<div>" * 5000 + b"deep" + b"</div>" * 5000 + b"</body></html>",
    ],
    ids=["empty", "nul", "binary", "cp1252", "koi8r", "deep-nesting"],
)
def test_hostile_html_is_an_extraction_error_not_a_crash(body):
    with pytest.raises(ExtractionFailed):
        extract_page(body, "http://127.0.0.1/a/x")
