"""Text extraction: HTML bytes in, article text and metadata out; the Article record with its identity."""

from saidwhat.extract.article import article_from_page, article_id_for, build_article, text_hash
from saidwhat.extract.html import ExtractionFailed, extract_page, summary_text

__all__ = [
    "ExtractionFailed",
    "article_from_page",
    "article_id_for",
    "build_article",
    "extract_page",
    "summary_text",
    "text_hash",
]
