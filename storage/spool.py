"""A durable spool for writes that could not wait for the database lock.

DuckDB lets one process write a file, and a reader in another process (an
analyst's notebook, the DuckDB CLI) blocks that writer. The Store's write
methods wait ``lock_patience_seconds`` for the lock; if it is still held, the
call and its arguments are written to one JSON Lines file under the spool
directory (temporary file, fsync, rename) and the method returns as if it had
written. The next write through any Store on the same database -- this run,
once the reader has gone, or the next run -- first replays the spooled calls
in order, deleting each file once its transaction has committed.

Every spooled method is one transaction that is safe to replay: articles are
deduplicated by canonical URL, analyses replace an article's statements,
runs and feeds are keyed. So a crash between commit and delete repeats a
write but loses nothing.

The spool is installed on :class:`storage.store.Store` when the ``storage``
package is imported (see ``storage/__init__.py``), so every caller gets it
without changes. ``Store(path, patience, spool_dir=...)`` chooses the
directory; the default is ``spool`` next to the database file (which is what
``[storage] spool_dir`` defaults to).
"""

from __future__ import annotations

import dataclasses
import enum
import fcntl
import functools
import importlib
import itertools
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from saidwhat.storage.db import DatabaseLocked

log = logging.getLogger("saidwhat.spool")

FORMAT_VERSION = 1
# After the lock has outlasted the patience once, later writes of the same
# Store try only this long before spooling, so a reader that stays for an hour
# costs one full wait per run, not one per batch.
RETRY_PATIENCE_SECONDS = 1.0

# Store methods that are spooled, with what each returns when spooled.
SPOOLED: dict[str, Callable[..., Any]] = {
    "start_run": lambda *a, **k: None,
    "finish_run": lambda *a, **k: None,
    "record_errors": lambda *a, **k: None,
    "sync_feeds": lambda *a, **k: None,
    "record_feed_success": lambda *a, **k: None,
    "record_feed_successes": lambda *a, **k: None,
    "record_feed_failure": lambda *a, **k: None,
    "link_known_sources": lambda *a, **k: None,
    # The ids that will be added when the spool is written (at most these).
    "add_articles": lambda articles, *a, **k: list(dict.fromkeys(x.article_id for x in articles)),
    "record_page_retry": lambda *a, **k: None,
    # The number of statements that will be written.
    "save_analyses": lambda results, *a, **k: sum(len(r.analysis.statements) for r in results),
    "set_config_aliases": lambda *a, **k: None,
}
# Writes that fail loudly instead (user commands that should say the file is busy).
NOT_SPOOLED = frozenset({"retag_topics", "replace_topics", "drain_spool", "exclusive_run"})

_DECODABLE_MODULES = ("saidwhat.core.records", "saidwhat.storage.store", "pathlib")
_sequence = itertools.count()
_sequence_lock = threading.Lock()


# ------------------------------------------------------------------- codec
def encode(value: Any) -> Any:
    """JSON-ready form of records, datetimes, enums, tuples, sets and dicts."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, enum.Enum):
        return {"$enum": _qualname(type(value)), "v": value.value}
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, Path):
        return {"$path": str(value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "$dc": _qualname(type(value)),
            "f": {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, frozenset | set):
        return {"$set": [encode(v) for v in sorted(value, key=repr)]}
    if isinstance(value, dict):
        return {"$dict": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    raise TypeError(f"cannot spool a {type(value).__name__}")


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$dt" in value:
        return datetime.fromisoformat(value["$dt"])
    if "$path" in value:
        return Path(value["$path"])
    if "$enum" in value:
        return _resolve(value["$enum"])(value["v"])
    if "$dc" in value:
        cls = _resolve(value["$dc"])
        return cls(**{k: decode(v) for k, v in value["f"].items()})
    if "$tuple" in value:
        return tuple(decode(v) for v in value["$tuple"])
    if "$set" in value:
        return frozenset(decode(v) for v in value["$set"])
    if "$dict" in value:
        return {decode(k): decode(v) for k, v in value["$dict"]}
    raise ValueError(f"unknown spooled value {sorted(value)}")


def _qualname(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _resolve(name: str) -> Any:
    module, _, qualname = name.partition(":")
    if module not in _DECODABLE_MODULES:
        raise ValueError(f"spool file names type {name}, which is not a saidwhat record")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


# ------------------------------------------------------------------- files
class Spool:
    """The spool directory of one database file."""

    def __init__(self, directory: Path, database: Path) -> None:
        self.directory = Path(directory)
        self.database = str(Path(database).resolve())

    def append(self, method: str, args: Sequence[Any], kwargs: dict[str, Any]) -> Path:
        """Write one call durably; returns the file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with _sequence_lock:
            seq = next(_sequence)
        name = f"{time.time_ns():020d}-{os.getpid():07d}-{seq:06d}-{method}.jsonl"
        record = {
            "format": FORMAT_VERSION,
            "database": self.database,
            "method": method,
            "args": encode(list(args)),
            "kwargs": encode(kwargs),
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
        """Spooled calls for this database, oldest first."""
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
                failed = path.with_name(path.name + ".failed")
                os.replace(path, failed)
                log.error("spool file %s is not a spooled write; moved to %s", path, failed.name)
                continue
            if head.get("database") == self.database:
                found.append(path)
        return found

    @staticmethod
    def read(path: Path) -> tuple[str, list[Any], dict[str, Any]]:
        record = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
        if record.get("format") != FORMAT_VERSION:
            raise ValueError(f"spool file {path} has format {record.get('format')}, expected {FORMAT_VERSION}")
        return record["method"], decode(record["args"]), decode(record["kwargs"])


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


# --------------------------------------------------------------- the Store
def _materialize(value: Any) -> Any:
    """Generators and other one-shot iterables become lists, so a call can be both tried and spooled."""
    if isinstance(value, str | bytes | dict | Sequence | frozenset | set) or not isinstance(value, Iterable):
        return value
    return list(value)


class _State:
    def __init__(self) -> None:
        self.lock_seen = False
        self.draining = False


def _state(store: Any) -> _State:
    state = store.__dict__.get("_spool_state")
    if state is None:
        state = store.__dict__["_spool_state"] = _State()
    return state


def spool_of(store: Any) -> Spool:
    directory = store.__dict__.get("spool_dir") or store.db.path.parent / "spool"
    return Spool(directory, store.db.path)


def drain(store: Any) -> int:
    """Replay this database's spooled calls in order; returns how many were written.

    Raises DatabaseLocked (leaving the rest in place) if the lock is still held.
    """
    state = _state(store)
    if state.draining:
        return 0
    spool = spool_of(store)
    files = spool.pending()
    if not files:
        return 0
    state.draining = True
    done = 0
    try:
        with _drain_lock(spool.directory):  # one drainer at a time; the next finds the files gone
            for path in files:
                if not path.exists():
                    continue
                done += _replay(store, path)
    finally:
        state.draining = False
    if done:
        log.warning("wrote %d spooled batch(es) from %s to %s", done, spool.directory, store.db.path)
    return done


@contextmanager
def _drain_lock(directory: Path) -> Iterator[None]:
    with open(directory / ".drain.lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _replay(store: Any, path: Path) -> int:
    """Apply one spooled call and delete its file; 1 if written, 0 if the file was set aside."""
    try:
        method, args, kwargs = Spool.read(path)
        _RAW[method](store, *args, **kwargs)
    except FileNotFoundError:
        return 0  # written and removed by another process meanwhile
    except DatabaseLocked:
        raise
    except Exception as exc:  # a bad file must not block every later write
        failed = path.with_name(path.name + ".failed")
        os.replace(path, failed)
        log.error("spool file %s could not be written (%s); moved to %s", path, exc, failed.name)
        return 0
    path.unlink(missing_ok=True)
    return 1


def _spooled(name: str, method: Callable[..., Any], placeholder: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        state = _state(self)
        if state.draining or not self.db.uses_spool:  # a DuckLake has no lock a reader could hold
            return method(self, *args, **kwargs)
        args = tuple(_materialize(a) for a in args)
        kwargs = {k: _materialize(v) for k, v in kwargs.items()}
        db = self.db
        patience = db.lock_patience_seconds
        if state.lock_seen:
            db.lock_patience_seconds = min(patience, RETRY_PATIENCE_SECONDS)
        try:
            drain(self)
            result = method(self, *args, **kwargs)
        except DatabaseLocked as exc:
            state.lock_seen = True
            path = spool_of(self).append(name, args, kwargs)
            log.warning("%s: %s; kept in %s and written by the next write", name, exc, path)
            return placeholder(*args, **kwargs)
        finally:
            db.lock_patience_seconds = patience
        state.lock_seen = False
        return result

    write.__spooled__ = True  # type: ignore[attr-defined]
    return write


_RAW: dict[str, Callable[..., Any]] = {}


def install(store_class: type) -> None:
    """Wrap the Store's write methods (idempotent) and add ``drain_spool`` and ``spool_dir``."""
    if getattr(store_class, "__spool_installed__", False):
        return
    for name, placeholder in SPOOLED.items():
        method = getattr(store_class, name, None)
        if method is None:
            continue
        _RAW[name] = method
        setattr(store_class, name, _spooled(name, method, placeholder))

    original_init = store_class.__init__

    @functools.wraps(original_init)
    def __init__(self: Any, *args: Any, spool_dir: Path | str | None = None, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if spool_dir is not None:
            self.spool_dir = Path(spool_dir)

    def drain_spool(self: Any) -> int:
        """Write what earlier runs spooled while the database was locked; returns the number of batches."""
        return drain(self) if self.db.uses_spool else 0

    def pending_spool(self: Any) -> list[Path]:
        """Spool files waiting to be written to this database."""
        return spool_of(self).pending()

    store_class.__init__ = __init__
    store_class.drain_spool = drain_spool
    store_class.pending_spool = pending_spool
    store_class.__spool_installed__ = True
