"""The paragraphs around a statement, cut into plain and highlighted pieces (saidwhat show, saidwhat web).

Offsets are character offsets into the stored article text, whose paragraphs are separated by line
breaks (as trafilatura writes them). Nothing here formats: callers style the pieces (rich for the
terminal, escaped HTML for the web).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Piece:
    text: str
    mark: str | None  # "quote", "speaker" or None


@dataclass(frozen=True, slots=True)
class Paragraph:
    start: int
    pieces: tuple[Piece, ...]


def _paragraph_bounds(text: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for line in text.split("\n"):
        end = start + len(line)
        if line.strip():
            bounds.append((start, end))
        start = end + 1
    return bounds


def excerpt(
    text: str,
    marks: Sequence[tuple[int, int, str]],
    context: int = 1,
) -> list[Paragraph]:
    """The paragraphs holding ``marks`` ((start, end, name) spans), plus ``context`` paragraphs either side.

    Spans are clipped to the text; where two overlap, the one listed first wins (pass the quote before
    the speaker mention, which can sit inside a quote's sentence but never inside the quote).
    """
    bounds = _paragraph_bounds(text)
    spans = [(max(0, s), min(len(text), e), name) for s, e, name in marks if s is not None and e is not None and e > s]
    if not bounds:
        return []
    if not spans:
        chosen = range(0, min(len(bounds), 1 + context))
    else:
        lo = min(s for s, _, _ in spans)
        hi = max(e for _, e, _ in spans)
        hit = [i for i, (s, e) in enumerate(bounds) if s < hi and e > lo] or [0]
        chosen = range(max(0, hit[0] - context), min(len(bounds), hit[-1] + 1 + context))
    out = []
    for i in chosen:
        start, end = bounds[i]
        owner: list[str | None] = [None] * (end - start)
        for s, e, name in reversed(spans):  # the first listed is written last, so it wins
            for pos in range(max(s, start), min(e, end)):
                owner[pos - start] = name
        pieces: list[Piece] = []
        run_start = 0
        for pos in range(1, len(owner) + 1):
            if pos == len(owner) or owner[pos] != owner[run_start]:
                pieces.append(Piece(text[start + run_start : start + pos], owner[run_start]))
                run_start = pos
        out.append(Paragraph(start, tuple(pieces)))
    return out
