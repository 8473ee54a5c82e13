"""Where a study lives: storage URLs, the study's recorded identity, and a study-wide lock.

URLs (``resolve``):

    (none)                          sqlite file ``runs/<study>/study.db`` (the run folder)
    path/to/study.db, sqlite:///p   an SQLite file; its folder is the run folder
    path/to/study.journal,          Optuna's JournalFileBackend (append-only log, one host)
      journal:///path
    postgresql://user:pw@host/db,   any Optuna RDB URL (PostgreSQL, MySQL, ...); the run folder
      mysql://...                   is ``runs/<study>`` unless given

Passwords never leave this module in clear: ``redact`` hides them in URLs and error messages,
and workers receive the URL through the environment, not their command line.

SQLite cannot hand out queued trials safely to several processes (it has no ``SELECT ... FOR
UPDATE``), so every state change the sweep makes (enqueue, claim, finish, reap) runs under
``study_lock``: an ``flock`` on a file beside an SQLite or journal store, a PostgreSQL advisory
lock (or MySQL ``GET_LOCK``) for a server. A process killed with -9 drops its lock with it
(the kernel closes the file; the server closes the session).

The study records what it was planned from in ``study.user_attrs["rnnlab"]`` (config, space,
seed, their hash, sampler, package versions, git revision); resuming it with another config,
space, seed or sampler is refused with one line that names the difference.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import os
import re
import sqlite3
import subprocess
import sys
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

from rnnlab.sweep.plan import canonical_json

ATTR = "rnnlab"


class StorageError(RuntimeError):
    """A storage problem, with any password already removed from the message."""


@dataclasses.dataclass(frozen=True)
class StorageSpec:
    """A resolved storage: ``kind`` is "sqlite", "journal" or "rdb"; ``url`` is what Optuna
    gets (for a journal, its file path); ``path`` the local file (sqlite, journal)."""

    kind: str
    url: str
    path: str | None
    run_dir: str

    @property
    def display(self) -> str:
        return redact(self.url)


_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)@")


def redact(text: str, url: str | None = None) -> str:
    """``text`` with the password of every URL in it (and of ``url``, wherever it appears
    alone) replaced by ``***``."""
    text = str(text)
    if url:
        m = _PASSWORD.search(url)
        if m and m.group("pw"):
            pw = m.group("pw")
            text = text.replace(pw, "***")
            from urllib.parse import unquote

            if unquote(pw) != pw:
                text = text.replace(unquote(pw), "***")
    return _PASSWORD.sub(lambda m: m.group("head") + ("***" if m.group("pw") else "") + "@", text)


def resolve(url: str | None, study: str, run_dir: str | None = None) -> StorageSpec:
    """The storage for ``url`` (see module docstring); ``run_dir`` overrides the run folder."""
    if not url:
        path = os.path.join(run_dir or os.path.join("runs", study), "study.db")
        return StorageSpec("sqlite", f"sqlite:///{path}", path, os.path.dirname(path))
    if url.startswith("journal://"):
        path = url[len("journal://") :]  # journal:///abs/path or journal://relative/path
        return StorageSpec("journal", path, path, run_dir or os.path.dirname(path) or ".")
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        return StorageSpec("sqlite", url, path, run_dir or os.path.dirname(path) or ".")
    if "://" in url:
        return StorageSpec("rdb", url, None, run_dir or os.path.join("runs", study))
    if url.endswith(".journal") or url.endswith(".log"):
        return StorageSpec("journal", url, url, run_dir or os.path.dirname(url) or ".")
    return StorageSpec("sqlite", f"sqlite:///{url}", url, run_dir or os.path.dirname(url) or ".")


def open_storage(spec: StorageSpec, *, create: bool = True) -> Any:
    """The Optuna storage for ``spec``; a ``StorageError`` naming the problem if it cannot be
    reached (password removed)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        if spec.kind == "journal":
            from optuna.storages.journal import JournalFileBackend, JournalStorage

            if not create and not os.path.exists(spec.path):
                raise StorageError(f"no study journal at {spec.path}.")
            _ensure_dir(spec.path)
            return JournalStorage(JournalFileBackend(spec.path, lock_obj=_journal_lock(spec.path)))
        if spec.kind == "sqlite":
            if not create and not os.path.exists(spec.path):
                raise StorageError(f"no study database at {spec.path}.")
            _ensure_dir(spec.path)
            with contextlib.closing(sqlite3.connect(spec.path, timeout=60)) as con:
                con.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            storage = optuna.storages.RDBStorage(
                spec.url, engine_kwargs={"connect_args": {"timeout": 60}}
            )
            _sqlite_pragmas(storage.engine)
            return storage
        return optuna.storages.RDBStorage(
            _driver_url(spec.url), engine_kwargs={"pool_pre_ping": True}
        )
    except StorageError:
        raise
    except Exception as e:  # driver errors differ by backend; the message is what matters
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StorageError(
            f"cannot open study storage {spec.display}: {redact(reason, spec.url)}"
        ) from None


def _sqlite_pragmas(engine: Any) -> None:
    """WAL with ``synchronous=NORMAL`` on every connection: commits survive a killed process
    (only an OS crash can lose the last ones, which then count as interrupted and rerun), at a
    fraction of the fsyncs."""
    import sqlalchemy

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    sqlalchemy.event.listen(engine, "connect", on_connect)
    engine.dispose()  # connections made before the listener are replaced


def _journal_lock(path: str) -> Any:
    """The journal's append lock as an ``flock`` on ``<path>.flock``: a writer killed with -9
    drops it at once (Optuna's own lock files are broken open only after a 30 s grace period).
    Every process writing the journal must use it, so write rnnlab journals with rnnlab
    (reading them, e.g. with optuna-dashboard, needs no lock)."""
    import threading

    from optuna.storages.journal import JournalFileOpenLock

    class FlockLock(JournalFileOpenLock):
        def __init__(self, lock_path: str) -> None:
            self._lock_path = lock_path
            self._held = threading.local()

        def acquire(self) -> bool:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._held.fd = fd
            return True

        def release(self) -> None:
            fd = getattr(self._held, "fd", None)
            self._held.fd = None
            if fd is not None:
                os.close(fd)

    return FlockLock(f"{path}.flock")


def _driver_url(url: str) -> str:
    """``postgresql://`` means psycopg (3) to SQLAlchemy 2.1; use psycopg2 if only it is here."""
    if url.startswith("postgresql://"):
        import importlib.util

        if importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2"):
            return "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


def _ensure_dir(path: str) -> None:
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)


@contextlib.contextmanager
def study_lock(spec: StorageSpec, storage: Any, study: str) -> Iterator[None]:
    """Exclusive across processes (and machines, for a server) for the study ``study``."""
    if spec.kind in ("sqlite", "journal"):
        lock_path = f"{spec.path}.rnnlab-lock"  # not .lock: the journal uses that name
        _ensure_dir(lock_path)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing drops the flock
        return
    dialect = storage.engine.dialect.name
    lock_id = zlib.crc32(f"rnnlab-study:{study}".encode())
    if dialect not in ("postgresql", "mysql"):
        yield  # row-locked state changes only (e.g. an RDB without advisory locks)
        return
    import sqlalchemy

    with storage.engine.connect() as conn:
        if dialect == "postgresql":
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": lock_id})
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": lock_id})
                conn.commit()
        else:
            name = f"rnnlab-{lock_id}"
            conn.execute(sqlalchemy.text("SELECT GET_LOCK(:n, -1)"), {"n": name})
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT RELEASE_LOCK(:n)"), {"n": name})
                conn.commit()


# --- the study's recorded identity ---------------------------------------------------------


def config_hash(config: Mapping[str, Any], space: Mapping[str, Any], seed: int) -> str:
    blob = canonical_json({"config": config, "space": space, "seed": seed})
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for name in ("rnnlab", "jax", "optuna", "numpy", "flax", "optax"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def git_revision() -> str:
    """The git revision of the rnnlab source tree ("+dirty" if modified), or "unknown"."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        rev = subprocess.run(
            ["git", "-C", here, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if rev.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "-C", here, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, Mapping):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out if out or not prefix else {prefix[:-1]: {}}
    return {prefix[:-1]: d}


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """``"path: old -> new"`` for every leaf that differs (lists compared whole)."""
    a, b = _flat(old), _flat(new)
    out = []
    for path in sorted(set(a) | set(b)):
        va, vb = a.get(path, "<unset>"), b.get(path, "<unset>")
        if canonical_json(va) != canonical_json(vb):
            out.append(f"{path}: {va!r} -> {vb!r}")
    return out


def check_resume(recorded: Mapping[str, Any], wanted: Mapping[str, Any], study: str) -> None:
    """Raise ``StorageError`` (one line) if ``wanted`` plans differently from ``recorded``."""
    old, new = recorded.get("sampler", "random"), wanted.get("sampler", "random")
    if old != new:
        raise StorageError(
            f"study {study!r} was run with --sampler {old}, not {new} (planned and proposed "
            f"trials do not mix); resume it with --sampler {old}, or pass --study NAME for a "
            "new study."
        )
    problems = []
    for part in ("config", "space", "seed"):
        diff = differences({part: recorded.get(part)}, {part: wanted.get(part)})
        problems.extend(diff)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise StorageError(
            f"study {study!r} was planned with a different setup: {'; '.join(problems[:3])}"
            f"{more}; resume it with the same experiment, preset and --set values, or pass "
            "--study NAME for a new study."
        )
