"""Opening a study from whatever the user names: a .db file, a storage URL or a journal file.

``open_study(storage, name)`` accepts a path to an SQLite file (-> ``sqlite:///``), an SQLAlchemy
URL (``sqlite://``, ``postgresql://``, ``mysql://`` ...) or an Optuna journal file
(``JournalFileBackend``). A URL's password is never shown: :func:`redact` replaces it with
``***`` and :func:`scrub` removes it from any message (errors included).
"""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import optuna

_SQLITE_MAGIC = b"SQLite format 3\x00"
_SECRET_KEYS = ("password", "passwd", "pwd", "secret", "token")


class StorageError(ValueError):
    """A storage or study that cannot be opened; the message is safe to print."""


def redact(url: str) -> str:
    """``postgresql://u:secret@h/db`` -> ``postgresql://u:***@h/db`` (also ``?password=``)."""
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
    netloc = parts.netloc
    if "@" in netloc:
        cred, host = netloc.rsplit("@", 1)
        if ":" in cred:
            netloc = cred.split(":", 1)[0] + ":***@" + host
    query = parts.query
    if query:
        q = [(k, "***" if k.lower() in _SECRET_KEYS else v) for k, v in parse_qsl(query, True)]
        query = urlencode(q, safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _secrets(url: str) -> list[str]:
    if "://" not in url:
        return []
    out = []
    try:
        parts = urlsplit(url)
        if parts.password:
            out.append(parts.password)
        for k, v in parse_qsl(parts.query, True):
            if k.lower() in _SECRET_KEYS and v:
                out.append(v)
    except ValueError:
        m = re.search(r"://[^:/@]*:([^@]*)@", url)
        if m:
            out.append(m.group(1))
    return [s for s in out if s]


def scrub(text: str, url: str) -> str:
    """``text`` with every form of ``url``'s password replaced by ``***``."""
    out = text.replace(url, redact(url))
    for s in _secrets(url):
        for form in {s, unquote(s), quote(s, safe="")}:
            if form:
                out = out.replace(form, "***")
    return out


def _check_sqlite(path: str) -> None:
    """Refuses an SQLite file without Optuna's tables (Optuna would create them in it)."""
    import sqlite3

    try:
        con = sqlite3.connect(f"file:{os.path.abspath(path)}?mode=ro", uri=True)
        try:
            names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            con.close()
    except sqlite3.Error as e:
        raise StorageError(f"cannot read SQLite file {path}: {e}") from None
    if "studies" not in names:
        raise StorageError(f"{path} is not an Optuna storage (no 'studies' table)")


def resolve(storage: str) -> str | optuna.storages.BaseStorage:
    """A storage argument -> an Optuna storage URL or a journal storage."""
    if "://" in storage:
        if storage.startswith("sqlite:///") and storage != "sqlite:///:memory:":
            path = storage[len("sqlite:///") :].split("?", 1)[0]
            if not os.path.isfile(path):
                raise StorageError(f"no such SQLite file: {path}")
            _check_sqlite(path)
        return storage
    if not os.path.exists(storage):
        raise StorageError(
            f"no such file: {storage} (give a .db file, a journal file or a storage URL "
            "such as sqlite:///study.db or postgresql://user@host/db)"
        )
    if os.path.isdir(storage):
        raise StorageError(f"{storage} is a folder; give the study's .db or journal file")
    with open(storage, "rb") as f:
        head = f.read(len(_SQLITE_MAGIC))
    if head == _SQLITE_MAGIC or (not head and storage.endswith((".db", ".sqlite", ".sqlite3"))):
        _check_sqlite(storage)
        return "sqlite:///" + os.path.abspath(storage)
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(os.path.abspath(storage)))


def open_study(storage: str, name: str | None = None) -> optuna.Study:
    """Loads study ``name`` (optional when the storage holds one study) read as-is.

    Raises :class:`StorageError` with a message fit to print (password redacted) when the
    storage cannot be opened, holds no study, holds several and ``name`` is None, or has no
    study ``name`` (the message lists the ones it has).
    """
    shown = redact(storage)
    try:
        st = resolve(storage)
        names = sorted(optuna.get_all_study_names(storage=st))
    except StorageError:
        raise
    except Exception as e:  # any driver / parse error: name it, never leak the password
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StorageError(scrub(f"cannot open storage {shown}: {msg}", storage)) from None
    if not names:
        how = " (read as an Optuna journal file)" if not isinstance(st, str) else ""
        raise StorageError(f"no studies in {shown}{how}")
    if name is None:
        if len(names) > 1:
            raise StorageError(
                f"{shown} holds {len(names)} studies; choose one with --study: {', '.join(names)}"
            )
        name = names[0]
    elif name not in names:
        raise StorageError(f"no study named {name!r} in {shown}; studies there: {', '.join(names)}")
    try:
        return optuna.load_study(study_name=name, storage=st)
    except Exception as e:
        raise StorageError(
            scrub(f"cannot load study {name!r} from {shown}: {e}", storage)
        ) from None
