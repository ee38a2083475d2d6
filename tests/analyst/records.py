"""Hand-made articles and analyses, written for these tests (not from the demo corpus)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from saidwhat.core.records import Analysis, Article, EntityMention, SpeakerType, Statement, StatementKind, TextSource
from saidwhat.extract import article_id_for
from saidwhat.storage.store import AnalysedArticle


def article(
    slug: str, text: str, title: str, published: datetime | None, publisher: str = "Wire One",
    fetched: datetime | None = None,
) -> Article:  # fmt: skip
    url = f"https://news.example/{slug}"
    return Article(
        article_id=article_id_for(url),
        url=url,
        canonical_url=url,
        feed_url="https://news.example/feed.xml",
        guid=slug,
        title=title,
        authors=(),
        publisher=publisher,
        published_at=published,
        fetched_at=fetched or datetime(2026, 1, 30, 12, 0, tzinfo=UTC),
        text=text,
        text_source=TextSource.PAGE,
        text_hash=hashlib.sha256(text.encode()).hexdigest(),
    )


def statement(text: str, quote: str, speaker: str | None, role: str | None = None, kind=StatementKind.DIRECT,
              speaker_type: SpeakerType = SpeakerType.PERSON, cue: str = "said") -> Statement:  # fmt: skip
    start = text.index(quote)
    end = start + len(quote)
    sent_start = text.rfind("\n", 0, start) + 1
    sent_end = text.find("\n", end)
    sent_end = len(text) if sent_end == -1 else sent_end
    return Statement(
        quote=quote, quote_start=start, quote_end=end, kind=kind, sentence=text[sent_start:sent_end],
        sentence_start=sent_start, sentence_end=sent_end, speaker=speaker, speaker_mention=speaker,
        speaker_type=speaker_type if speaker else SpeakerType.UNKNOWN, speaker_role=role, cue=cue, cue_lemma=cue,
    )  # fmt: skip


def analysed(
    art: Article, statements: list[Statement], aliases: dict[str, set[str]] | None = None,
    persons: tuple[str, ...] = (), topics: list[tuple[str, ...]] | None = None,
) -> AnalysedArticle:  # fmt: skip
    mentions = []
    for name in persons:
        at = art.text.find(name)
        if at >= 0:
            mentions.append(EntityMention(name, "PERSON", at, at + len(name), name))
    analysis = Analysis(
        statements=tuple(statements),
        mentions=tuple(mentions),
        speaker_aliases={k: frozenset(v) for k, v in (aliases or {}).items()},
    )
    return AnalysedArticle(art.article_id, analysis, tuple(topics) if topics else tuple(() for _ in statements))
