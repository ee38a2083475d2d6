"""Topic tags for statements, evaluated on the statement and its context.

A quote like "Next time in Moscow." is only about a meeting in context, so a
topic is matched against the statement's paragraph and the article title as
well as the quote itself. Topics are plain data from config.toml and are
re-evaluated by `saidwhat retag` without any NLP model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from saidwhat.config import TopicSpec


@dataclass(frozen=True, slots=True)
class StatementContext:
    """Where a statement stands: its quote and sentence, paragraph and article title."""

    quote: str
    sentence: str
    paragraph: str
    title: str | None


def _phrase_pattern(phrase: str) -> str:
    words = phrase.strip().split()
    parts = []
    for word in words:
        if word.endswith("*"):
            parts.append(re.escape(word[:-1]) + r"\w*")
        else:
            parts.append(re.escape(word))
    # Words inside a phrase may be separated by any run of whitespace.
    return r"(?<!\w)" + r"\s+".join(parts) + (r"" if words[-1].endswith("*") else r"(?!\w)")


class TopicTagger:
    """Compiled topic definitions."""

    def __init__(self, topics: Sequence[TopicSpec]) -> None:
        self.names = tuple(t.name for t in topics)
        self._groups = [
            (t.name, [re.compile("|".join(_phrase_pattern(p) for p in group), re.IGNORECASE) for group in t.all_of])
            for t in topics
        ]

    def tags(self, context: StatementContext) -> tuple[str, ...]:
        haystack = "\n".join(
            part for part in (context.quote, context.sentence, context.paragraph, context.title) if part
        )
        return tuple(name for name, groups in self._groups if all(g.search(haystack) for g in groups))


def paragraph_around(text: str, start: int, end: int) -> str:
    """The paragraph(s) of ``text`` covering [start, end), plus the one before.

    The paragraph before often names what a follow-up quote is about.
    """
    para_start = text.rfind("\n", 0, max(0, start))
    para_start = text.rfind("\n", 0, max(0, para_start)) if para_start > 0 else -1
    para_end = text.find("\n", end)
    return text[para_start + 1 : para_end if para_end != -1 else len(text)]
