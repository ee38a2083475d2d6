"""Files and folders a user names for output, made ready before any work is done.

A long command (an evaluation, a digest) that fails only when it writes its
result loses the work; checking first turns the failure into one line.
"""

from __future__ import annotations

from pathlib import Path

from saidwhat.core.errors import OutputPathError


def output_dir(path: Path, fix: str = "give another --out directory") -> Path:
    """``path`` as an existing directory, created with its parents if need be."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(f"{path}: cannot make this folder ({exc.strerror}): {fix}") from None
    return path


def output_file(path: Path, fix: str) -> Path:
    """``path`` checked writable (its folder created if need be), without touching what it holds."""
    output_dir(path.parent, fix)
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise OutputPathError(f"{path}: cannot write this file ({exc.strerror}): {fix}") from None
    return path
