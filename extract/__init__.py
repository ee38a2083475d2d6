"""Text extraction: HTML bytes in, article text and metadata out."""

from saidwhat.extract.html import ExtractionFailed, extract_page, summary_text

__all__ = ["ExtractionFailed", "extract_page", "summary_text"]
