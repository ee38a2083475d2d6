"""Find quotations in raw text, independently of the parser.

Quotation marks are matched on characters, not tokens, because the tokenizer
and the sentence splitter both make mistakes around quotes; working on the
text keeps the spans exact.  Supported styles: straight ``"``, doubled
apostrophes ``''`` (NYT style), curly ``“ ”``, low-high ``„ “`` and
guillemets ``« »``; doubled curly apostrophes ``’’`` (and ``''``) close a
quotation as printed, whichever mark opened it (``“We only sell,’’``).
A quote left open at the end of a paragraph continues in the next paragraph
when that one opens with a quotation mark (the usual newspaper convention for multi-paragraph quotes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Span = tuple[int, int]

_MARK_RE = re.compile(r"''|‘‘|’’|[\"“”„«»]")
_OPENERS = {"“", "„", "«", "‘‘"}
_CLOSERS = {"”", "»", "’’"}
_WORD_RE = re.compile(r"\w")


@dataclass(frozen=True, slots=True)
class Quote:
    """A quotation; ``spans`` include the quotation marks, one per paragraph."""

    spans: tuple[Span, ...]
    closed: bool  # False when the last piece runs to a paragraph end unclosed

    @property
    def start(self) -> int:
        return self.spans[0][0]

    @property
    def end(self) -> int:
        return self.spans[-1][1]


def count_words(text: str) -> int:
    """Whitespace tokens with a letter or digit (the metric's notion of a word)."""
    return sum(1 for tok in text.split() if _WORD_RE.search(tok))


def paragraphs(text: str) -> list[Span]:
    """Spans of the non-empty lines of ``text`` (news paragraphs are lines)."""
    out = []
    start = 0
    for line in text.split("\n"):
        end = start + len(line)
        if line.strip():
            left = start + len(line) - len(line.lstrip())
            right = end - (len(line) - len(line.rstrip()))
            out.append((left, right))
        start = end + 1
    return out


def _looks_closing(text: str, pos: int, mark: str) -> bool:
    """A mark glued to the word before it and followed by space/punctuation."""
    before = text[pos - 1] if pos > 0 else " "
    after_pos = pos + len(mark)
    after = text[after_pos] if after_pos < len(text) else " "
    return not before.isspace() and (after.isspace() or not after.isalnum())


def _scan_paragraph(text: str, start: int, end: int) -> tuple[list[Span], int | None]:
    """Closed quote spans of one paragraph, and the offset of a quote left open."""
    spans: list[Span] = []
    open_at: int | None = None
    for m in _MARK_RE.finditer(text, start, end):
        mark, pos = m.group(), m.start()
        if open_at is None:
            if mark in _CLOSERS and _looks_closing(text, pos, mark):
                continue  # a stray closer (e.g. the end of a quote we could not see open)
            open_at = pos
        elif mark in _OPENERS and not _looks_closing(text, pos, mark):
            open_at = pos  # an opener while open: the earlier mark was unbalanced
        else:
            spans.append((open_at, m.end()))
            open_at = None
    return spans, open_at


def find_quotes(text: str) -> list[Quote]:
    """All quotations in ``text``, in order, with multi-paragraph quotes joined."""
    quotes: list[Quote] = []
    pending: list[Span] = []  # pieces of a quote still open at the last paragraph end
    for p_start, p_end in paragraphs(text):
        spans, open_at = _scan_paragraph(text, p_start, p_end)
        opens_with_mark = bool(_MARK_RE.match(text, p_start))
        if pending:
            if opens_with_mark and spans and spans[0][0] == p_start:
                quotes.append(Quote((*tuple(pending), spans[0]), closed=True))
                spans = spans[1:]
                pending = []
            elif opens_with_mark and not spans and open_at == p_start:
                pending.append((p_start, p_end))
                continue
            else:
                quotes.append(Quote(tuple(pending), closed=False))
                pending = []
        quotes.extend(Quote((s,), closed=True) for s in spans)
        if open_at is not None:
            pending = [(open_at, p_end)]
    if pending:
        quotes.append(Quote(tuple(pending), closed=False))
    return quotes
