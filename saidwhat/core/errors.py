"""Errors a user can cause. Each carries one line naming the cause and the fix."""

from __future__ import annotations


class SaidwhatError(Exception):
    """Base class: the CLI prints ``str(error)`` on one line and exits non-zero."""

    exit_code = 2


class ConfigError(SaidwhatError):
    """The configuration file is missing, unreadable or has an invalid key."""


class InputFileError(SaidwhatError):
    """A file given on the command line cannot be read."""


class NothingProcessed(SaidwhatError):
    """A run could not process anything (all feeds failed, database locked, ...)."""

    exit_code = 1


class OutputPathError(SaidwhatError):
    """A file or folder given for output cannot be created or written."""


class LinkNotResolved(Exception):
    """A link that could not be turned into the address to fetch (a Google News link), as it is recorded."""

    def __init__(self, error_class: str, message: str) -> None:
        super().__init__(message)
        self.error_class = error_class
