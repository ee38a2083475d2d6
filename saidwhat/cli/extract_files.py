"""`saidwhat extract`: statements from local files, as JSON-ready dicts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from saidwhat.core.errors import InputFileError
from saidwhat.core.records import Statement
from saidwhat.nlp.settings import NlpSettings

HTML_SUFFIXES = {".html", ".htm"}


def read_text(path: Path) -> str:
    """The text the offsets refer to: .txt as read (UTF-8), HTML through trafilatura."""
    if path.is_dir():
        raise InputFileError(f"{path} is a folder: give the .txt or .html files in it, e.g. {path}/*.html")
    if not path.is_file():
        raise InputFileError(f"{path}: no such file: check the path")
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        from saidwhat.extract import ExtractionFailed, extract_page

        try:
            return extract_page(path.read_bytes()).text
        except ExtractionFailed as exc:
            raise InputFileError(f"{path}: no article text found ({exc})") from None
    if suffix != ".txt":
        raise InputFileError(f"{path}: unsupported file type {suffix or '(none)'}: give .txt, .html or .htm files")
    try:
        # newline="" keeps \r\n as is, so offsets match the file's own characters.
        with path.open(encoding="utf-8", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}): convert it to UTF-8"
        ) from None


def statement_json(doc: str, text: str, s: Statement) -> dict[str, Any]:
    """The `extract` JSON object; ``quote`` is exactly ``text[quote_start:quote_end]``.

    For a split quote that slice includes the attribution between the pieces;
    ``quote_spans`` then lists the quoted pieces alone.
    """
    obj: dict[str, Any] = {
        "doc": doc,
        "quote": text[s.quote_start : s.quote_end],
        "quote_start": s.quote_start,
        "quote_end": s.quote_end,
        "speaker": s.speaker,
        "speaker_mention": s.speaker_mention,
        "speaker_start": s.speaker_start,
        "speaker_end": s.speaker_end,
        "speaker_type": str(s.speaker_type),
        "speaker_role": s.speaker_role,
        "cue": s.cue,
        "cue_start": s.cue_start,
        "cue_end": s.cue_end,
        "kind": str(s.kind),
    }
    if len(s.quote_spans) > 1:
        obj["quote_spans"] = [list(span) for span in s.quote_spans]
    return obj


def extract_files(paths: Iterable[Path], settings: NlpSettings) -> Iterator[dict[str, Any]]:
    from saidwhat.nlp.pipeline import analyze, load_pipeline

    paths = list(paths)
    texts = [read_text(p) for p in paths]  # fail on a bad file before loading the model
    nlp = load_pipeline(settings.model, parse=settings.parse)
    for path, text, analysis in zip(paths, texts, analyze(nlp, texts), strict=True):
        for statement in analysis.statements:
            yield statement_json(str(path), text, statement)
