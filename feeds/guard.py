"""Defuse XML entity declarations before a feed reaches feedparser.

feedparser keeps "safe" internal entities (plain text values) and its lenient
fallback parser expands them without limit, so a 50 kB feed declaring one
long entity and referencing it thousands of times becomes gigabytes of text
(a quadratic blow-up; expat's own amplification guard only protects the
strict parser). External entities are dropped by feedparser, but nothing is
lost by dropping them earlier. No real news feed needs a DTD internal subset,
so it is cut out: references to its entities are left unexpanded.
"""

from __future__ import annotations

import re

# <!DOCTYPE name ... [ internal subset ]> — the subset may contain quoted '>' and ']'.
_DOCTYPE_WITH_SUBSET = re.compile(
    rb"<!DOCTYPE[^\[>]*\[(?:[^\]\"']|\"[^\"]*\"|'[^']*')*\]\s*>",
    re.IGNORECASE,
)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
# The same marker in the wide encodings a feed may legally use.
_WIDE_MARKERS = tuple("<!ENTITY".encode(codec) for codec in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"))
_WIDE_MARKERS_LOWER = tuple("<!entity".encode(codec) for codec in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"))


class EntityDeclarations(ValueError):
    """The feed declares XML entities in a form that cannot be removed safely."""


def defuse(body: bytes) -> tuple[bytes, str | None]:
    """``body`` without entity declarations, and a note when something was removed."""
    if _ENTITY.search(body) is None:
        if any(m in body for m in _WIDE_MARKERS + _WIDE_MARKERS_LOWER):
            raise EntityDeclarations("feed in a UTF-16/32 encoding declares XML entities; refused")
        return body, None
    cleaned, count = _DOCTYPE_WITH_SUBSET.subn(b"", body)
    if _ENTITY.search(cleaned) is not None:
        # A declaration outside a well-formed DOCTYPE (or an unterminated one): cut it all.
        cleaned = re.sub(rb"<!ENTITY(?:[^>\"']|\"[^\"]*\"|'[^']*')*>?", b"", cleaned, flags=re.IGNORECASE)
        cleaned = re.sub(rb"<!DOCTYPE[^>]*>?", b"", cleaned, flags=re.IGNORECASE)
        count += 1
    return cleaned, f"removed {count} DOCTYPE declaration(s) with XML entities (entity-expansion guard)"
