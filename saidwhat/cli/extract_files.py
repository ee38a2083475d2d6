"""`saidwhat extract`: statements from local files, as JSON-ready dicts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from saidwhat.core.errors import InputFileError
from saidwhat.core.records import Analysis, Statement
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
    """The `extract` JSON object (the contract is in the README, "Statements from files").

    ``quote`` is the speaker's words: ``text[quote_start:quote_end]`` for one span; for a
    split quote its pieces (``quote_spans``) joined with " … ", never the reporter's words
    between them, while ``quote_start``/``quote_end`` keep the outer bounds.
    """
    obj: dict[str, Any] = {
        "doc": doc,
        "quote": s.quote,
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
        "rule": s.rule,
        "nested_in": s.nested_in,
    }
    if len(s.quote_spans) > 1:
        obj["quote_spans"] = [list(span) for span in s.quote_spans]
    return obj


def _analyses(nlp: Any, texts: list[str]) -> Iterator[Analysis | Exception]:
    """One Analysis per text, in order; a text the pipeline fails on gives its exception instead.

    All texts go through ``nlp.pipe`` together; only if that fails are they redone one by one,
    so one bad document never costs the others.
    """
    from saidwhat.nlp.pipeline import analyze

    try:
        yield from list(analyze(nlp, texts))
        return
    except Exception:  # redone one by one below, where the failing text is named
        pass
    for text in texts:
        try:
            yield next(iter(analyze(nlp, [text])))
        except Exception as exc:  # reported per file by the caller
            yield exc


def extract_files(
    paths: Iterable[Path], settings: NlpSettings, on_error: Callable[[Path, str], None]
) -> Iterator[dict[str, Any]]:
    """Statements of every readable file, in order; each file that cannot be read or analysed
    is reported through ``on_error`` (one line naming the file) and skipped."""
    from saidwhat.nlp.pipeline import load_pipeline

    readable: list[tuple[Path, str]] = []
    for path in paths:
        try:
            readable.append((path, read_text(path)))
        except InputFileError as exc:
            on_error(path, str(exc))
    if not readable:
        return  # nothing to analyse: do not load the model
    nlp = load_pipeline(settings.model, settings.statements_config, parse=settings.parse)
    texts = [text for _, text in readable]
    for (path, text), analysis in zip(readable, _analyses(nlp, texts), strict=True):
        if isinstance(analysis, Exception):
            on_error(path, f"{path}: the statement extractor failed ({type(analysis).__name__}: {analysis})")
            continue
        for statement in analysis.statements:
            yield statement_json(str(path), text, statement)


def expand_folders(paths: Iterable[Path]) -> list[Path]:
    """Each folder given stands for its .txt/.html/.htm files (not its subfolders), in name order."""
    expanded: list[Path] = []
    for path in paths:
        if not path.is_dir():
            expanded.append(path)
            continue
        found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in {".txt", *HTML_SUFFIXES})
        if not found:
            raise InputFileError(f"{path}: no .txt, .html or .htm files in this folder: give files or another folder")
        expanded.extend(found)
    return expanded
