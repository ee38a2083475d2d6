"""The spool: write commands kept on disk while another process holds the database.

DuckDB lets one process write a file, and a reader in another process (an
analyst's notebook, the DuckDB CLI) blocks that writer. When a write command
cannot get the lock within the lock patience, the spooling writer
(``storage/writer.py``) keeps it here instead; the next run drains the spool
as its first step, oldest command first, before it writes anything else.

File format (version 2; docs/spool.md says the same with an example)
--------------------------------------------------------------------
One file per command in the spool directory (``[storage] spool_dir``), named
``<ns since epoch, 20 digits>-<pid, 7 digits>-<sequence, 6 digits>-<kind>.jsonl``
so that names sort in the order the commands were spooled. It holds one line,
a JSON object:

``format``
    ``2``. A file with another number is not read: an older one (format 1
    named Python methods and classes) is set aside as ``<name>.failed``; a
    newer one stops the drain, so nothing is written out of order, until a
    saidwhat that reads it drains it.
``database``
    The absolute path of the database file the command is for; other
    databases' files in a shared directory are left alone.
``kind``
    The command: one of ``storage.commands.COMMANDS`` (``add_articles``,
    ``save_analyses``, ``finish_run``, ...).
``spooled_at``
    ISO 8601 time, UTC; for people reading the directory.
``fields``
    The command's fields by name. Values are JSON: records are objects of
    their fields, tuples and sets are arrays, times are ISO 8601 strings,
    enumerations their value (``"page"``, ``"direct"``). A field missing from
    the file takes its default.

Each file is written to a temporary name, fsynced and renamed, so a crash
never leaves half a command. A file that cannot be read or applied is renamed
``<name>.failed`` and logged, so that it never blocks the commands after it.
"""

from __future__ import annotations

import dataclasses
import enum
import fcntl
import itertools
import json
import logging
import os
import tempfile
import threading
import time
import types
import typing
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from saidwhat.storage.commands import COMMANDS, WriteCommand
from saidwhat.storage.db import DatabaseLocked

log = logging.getLogger("saidwhat.spool")

FORMAT_VERSION = 2

_sequence = itertools.count()
_sequence_lock = threading.Lock()


class SpoolFileError(ValueError):
    """A spool file that is not a command this saidwhat can read."""


class NewerSpoolFormat(SpoolFileError):
    """A spool file written by a newer saidwhat: left in place, and the drain stops before it."""


# ------------------------------------------------------------------- codec
def to_json(command: WriteCommand) -> dict[str, Any]:
    """The ``kind`` and ``fields`` of a command, as JSON-ready values."""
    return {"kind": command.kind, "fields": {f.name: _plain(getattr(command, f.name)) for f in _fields(command)}}


def from_json(kind: str, fields: dict[str, Any]) -> WriteCommand:
    """The command a spool file describes; each value is read as its field's declared type."""
    cls = COMMANDS.get(kind)
    if cls is None:
        raise SpoolFileError(f"unknown command kind {kind!r}")
    return _typed(fields, cls)


def _fields(value: Any) -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(value)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in _fields(value)}
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    raise TypeError(f"a write command cannot hold a {type(value).__name__}")


def _typed(value: Any, hint: Any) -> Any:
    """``value`` (from JSON) as an instance of the type ``hint``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) != 1:
            raise SpoolFileError(f"cannot read a value of type {hint}")
        return _typed(value, options[0])
    if value is None or hint is Any:
        return value
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_typed(v, args[0]) for v in value)
        return tuple(_typed(v, a) for v, a in zip(value, args, strict=True))
    if origin is frozenset:
        return frozenset(_typed(v, args[0]) for v in value)
    if origin in (list, Sequence):
        return [_typed(v, args[0]) for v in value]
    if origin is dict:
        return {_typed(k, args[0]): _typed(v, args[1]) for k, v in value.items()}
    if hint is datetime:
        return datetime.fromisoformat(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise SpoolFileError(f"expected an object for {hint.__name__}, got {type(value).__name__}")
        hints = typing.get_type_hints(hint)
        known = {f.name for f in dataclasses.fields(hint) if f.init}
        return hint(**{name: _typed(v, hints[name]) for name, v in value.items() if name in known})
    if hint in (str, int, float, bool) and not isinstance(value, hint):
        raise SpoolFileError(f"expected {hint.__name__}, got {value!r}")
    return value


# ------------------------------------------------------------------- files
@dataclass(frozen=True, slots=True)
class DrainReport:
    """What draining the spool did: commands written, files set aside, and files still waiting."""

    written: int = 0
    set_aside: tuple[Path, ...] = ()
    waiting: int = 0


class Spool:
    """The spool directory of one database file."""

    def __init__(self, directory: Path, database: Path) -> None:
        self.directory = Path(directory)
        self.database = str(Path(database).resolve())

    @classmethod
    def beside(cls, database: Path) -> Spool:
        """The default spool: a ``spool`` folder next to the database file."""
        return cls(Path(database).parent / "spool", database)

    def append(self, command: WriteCommand) -> Path:
        """Keep one command durably; returns its file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with _sequence_lock:
            seq = next(_sequence)
        name = f"{time.time_ns():020d}-{os.getpid():07d}-{seq:06d}-{command.kind}.jsonl"
        record = {
            "format": FORMAT_VERSION,
            "database": self.database,
            **to_json(command),
            "spooled_at": datetime.now(UTC).isoformat(),
        }
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".jsonl", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            target = self.directory / name
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(self.directory)
        return target

    def pending(self) -> list[Path]:
        """Spooled commands for this database, oldest first."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob("[0-9]*.jsonl")):
            try:
                with path.open(encoding="utf-8") as handle:
                    head = json.loads(handle.readline())
            except OSError:
                continue  # gone meanwhile (another process wrote it)
            except ValueError:
                _set_aside(path, "it is not JSON")
                continue
            if isinstance(head, dict) and head.get("database") == self.database:
                found.append(path)
        return found

    @staticmethod
    def read(path: Path) -> WriteCommand:
        """The command in one spool file (SpoolFileError when it cannot be read)."""
        record = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
        version = record.get("format")
        if isinstance(version, int) and version > FORMAT_VERSION:
            raise NewerSpoolFormat(f"format {version}; this saidwhat reads format {FORMAT_VERSION}")
        if version != FORMAT_VERSION:
            raise SpoolFileError(f"format {version!r}, not {FORMAT_VERSION}")
        try:
            return from_json(record["kind"], record["fields"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SpoolFileError(f"{type(exc).__name__}: {exc}") from None

    def drain(self, apply: typing.Callable[[WriteCommand], Any]) -> DrainReport:
        """Apply this database's spooled commands in order with ``apply``, deleting each file once written.

        Raises DatabaseLocked (leaving that command and the rest in place) if the lock is still held.
        """
        files = self.pending()
        if not files:
            return DrainReport()
        written, set_aside = 0, []
        with _drain_lock(self.directory):  # one drainer at a time; the next finds the files gone
            for index, path in enumerate(files):
                try:
                    command = self.read(path)
                except FileNotFoundError:
                    continue  # written and removed by another process meanwhile
                except NewerSpoolFormat as exc:
                    log.error("spool file %s: %s; it and the %d after it wait for that saidwhat",
                              path, exc, len(files) - index - 1)  # fmt: skip
                    return DrainReport(written, tuple(set_aside), len(files) - index)
                except (SpoolFileError, ValueError, IndexError) as exc:
                    set_aside.append(_set_aside(path, str(exc)))
                    continue
                try:
                    apply(command)
                except DatabaseLocked:
                    raise
                except Exception as exc:  # a command the database refuses must not block every later write
                    set_aside.append(_set_aside(path, f"the database refused it: {exc}"))
                    continue
                path.unlink(missing_ok=True)
                written += 1
        if written:
            log.warning("wrote %d spooled command(s) from %s to %s", written, self.directory, self.database)
        return DrainReport(written, tuple(set_aside))


def _set_aside(path: Path, why: str) -> Path:
    failed = path.with_name(path.name + ".failed")
    os.replace(path, failed)
    log.error("spool file %s cannot be written (%s); moved to %s", path, why, failed.name)
    return failed


@contextmanager
def _drain_lock(directory: Path) -> Iterator[None]:
    with open(directory / ".drain.lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
