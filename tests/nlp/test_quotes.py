"""Quotation scanning on raw text (no model needed)."""

from __future__ import annotations

import pytest

from saidwhat.nlp.quotes import find_quotes


def _texts(text: str) -> list[tuple[str, ...]]:
    return [tuple(text[s:e] for s, e in q.spans) for q in find_quotes(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('He said "yes" and "no".', [('"yes"',), ('"no"',)]),
        ("She said “we will win” today.", [("“we will win”",)]),
        ("Il a dit «non» hier.", [("«non»",)]),
        ("''It's a home run,'' she said.", [("''It's a home run,''",)]),
        ('"First paragraph.\n\n"Second paragraph."', [('"First paragraph.', '"Second paragraph."')]),
        ('"Open at the end\n\nNo quote here.', [('"Open at the end',)]),
        ("It’s a “big deal”, he said", [("“big deal”",)]),
    ],
)
def test_find_quotes(text: str, expected: list[tuple[str, ...]]) -> None:
    assert _texts(text) == expected


def test_unclosed_quote_is_marked_open() -> None:
    quotes = find_quotes('"We are ready.\n\nThe end.')
    assert len(quotes) == 1 and not quotes[0].closed
