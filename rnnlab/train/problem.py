"""What the data asks of the model, and its batches: one ``Batch`` type for every dataset.

``problem(train)`` reads the dataset's ``target_kind``, dtypes and ``meta``:

| targets                                  | head                  | objective / metrics   |
|------------------------------------------|-----------------------|-----------------------|
| "labels" (CTC label sequences)           | ``ctc``               | ``ctc``: loss, ler    |
| "example", integer class                 | ``sequence``          | ``sequence_ce``: error|
| "example", float vector                  | ``sequence_regression``| ``mse_sequence``     |
| "frame", integer, token-id inputs        | ``framewise``         | ``char``: bpc         |
| "frame", integer                         | ``framewise``         | ``framewise_ce``      |
| "frame", float in {0, 1} (piano rolls)   | ``next_step``         | ``bernoulli``         |
| "frame", other float                     | ``regression``        | ``mse``               |

Token-id inputs (T,) are fed one-hot (``vocab`` = ``meta["num_classes"]``). A trial's
training order is ``epoch_plan(train, batch_size, seed, epoch)``: full batches only, a pure
function of (seed, epoch). Time is padded to a multiple of ``pad_multiple`` (capped at the
dataset's longest sequence), or with ``pad_multiple=0`` always to the longest, and label
sequences to the dataset's longest one, which bounds the number of compiled shapes. The
recurrent loops stop at each batch's longest sequence (``rnnlab.recurrent.scan``), so
``pad_multiple=0`` compiles one training program and costs only the per-step work outside the
loops (heads, losses, weight gradients) on the padding; it also lets a population train a
whole epoch in one program (``rnnlab.train.population``, batches gathered by ``take``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from rnnlab import data
from rnnlab.data import SequenceDataset


class Batch(NamedTuple):
    """A right-padded batch (NumPy on the host, jax arrays inside a step): inputs x (B, T, ...)
    with valid ``lengths`` (B,); targets y; ``y_lengths`` (B,) for label sequences (CTC),
    else an empty (0,) array. Population batches have a leading P axis on every leaf."""

    x: Any
    lengths: Any
    y: Any
    y_lengths: Any


class Problem(NamedTuple):
    """What the model and objective need to know about the data."""

    head: str
    objective: str
    output_size: int
    vocab: int | None  # one-hot size of token-id inputs, else None
    num_train: int


def _is_int(a: np.ndarray) -> bool:
    return np.issubdtype(np.asarray(a).dtype, np.integer)


def _num_classes(ds: SequenceDataset) -> int:
    n = ds.meta.get("num_classes")
    if n is not None:
        return int(n)
    return int(max(np.max(t) for t in ds.targets)) + 1


def problem(train: SequenceDataset) -> Problem:
    """The head, objective, output size and input vocabulary of ``train`` (table above)."""
    n = len(train)
    y0 = np.asarray(train.targets[0])
    if train.target_kind == "labels":
        return Problem("ctc", "ctc", _num_classes(train), None, n)
    if train.target_kind == "example":
        if _is_int(y0):
            return Problem("sequence", "sequence_ce", _num_classes(train), None, n)
        return Problem("sequence_regression", "mse_sequence", int(y0.size), None, n)
    if _is_int(y0):
        if train.input_dim is None:
            V = _num_classes(train)
            return Problem("framewise", "char", V, V, n)
        return Problem("framewise", "framewise_ce", _num_classes(train), None, n)
    binary = all(np.all((y == 0) | (y == 1)) for y in train.targets[:32])
    head, objective = ("next_step", "bernoulli") if binary else ("regression", "mse")
    return Problem(head, objective, int(y0.shape[-1]), None, n)


def _max_label_length(ds: SequenceDataset) -> int:
    return int(np.max(ds.target_lengths)) if len(ds) else 1


def time_size(longest: int, pad_multiple: int, T_max: int) -> int:
    """The padded time of a batch whose longest sequence is ``longest``: a multiple of
    ``pad_multiple`` at most ``T_max``, or ``T_max`` itself when ``pad_multiple`` is 0."""
    if pad_multiple == 0:
        return T_max
    return min(data.padded_length(longest, multiple=pad_multiple), T_max)


def batch_time(
    ds: SequenceDataset, idx: np.ndarray, pad_multiple: int, T_max: int | None = None
) -> int:
    """The padded time size of examples ``idx`` (any shape); ``T_max`` defaults to the
    dataset's longest sequence."""
    T_max = int(np.max(ds.lengths)) if T_max is None else T_max
    return time_size(int(np.max(ds.lengths[np.ravel(idx)])), pad_multiple, T_max)


def batch(ds: SequenceDataset, idx_B: np.ndarray, T: int) -> Batch:
    """Examples ``idx_B`` of ``ds`` padded to ``T`` steps."""
    b = data.pad_batch(ds, idx_B, length=T)
    x = b.x.astype(np.int32 if _is_int(b.x) else np.float32)
    if ds.target_kind == "labels":
        labels_BL = np.zeros((len(idx_B), _max_label_length(ds)), np.int32)
        labels_BL[:, : b.y.shape[1]] = b.y
        return Batch(x, b.lengths.astype(np.int32), labels_BL, b.y_lengths.astype(np.int32))
    y = b.y.astype(np.int32 if _is_int(b.y) else np.float32)
    if ds.target_kind == "frame" and y.ndim > 3:  # frames: per-step vectors (B, T, H*W*C)
        y = y.reshape(*y.shape[:2], -1)
    return Batch(x, b.lengths.astype(np.int32), y, np.zeros((0,), np.int32))


class Padded(NamedTuple):
    """A whole dataset padded once to its longest sequence (host arrays), so a step's batches
    are gathered rows cut to their padded time; ``per_step`` says whether y has a time axis."""

    batch: Batch
    per_step: bool


def pad_all(ds: SequenceDataset) -> Padded:
    """``ds`` as one padded batch of all its examples."""
    full = batch(ds, np.arange(len(ds)), int(np.max(ds.lengths)))
    return Padded(full, ds.target_kind == "frame")


def population_batch(padded: Padded, idx_PB: np.ndarray, pad_multiple: int) -> Batch:
    """One batch per trial, stacked (P, B, ...), all padded to the longest one's time."""
    b = padded.batch
    T = time_size(int(np.max(b.lengths[idx_PB])), pad_multiple, b.x.shape[1])
    cut = b._replace(x=b.x[:, :T], y=b.y[:, :T] if padded.per_step else b.y)  # views
    return take(cut, idx_PB)


def take(batch: Batch, idx_PB: Any) -> Batch:
    """Examples ``idx_PB`` (P, B) of ``batch`` (a whole padded dataset), stacked (P, B, ...);
    NumPy or jax arrays (inside a compiled epoch)."""
    P = idx_PB.shape[0]
    y_lengths = batch.y_lengths[idx_PB] if batch.y_lengths.size else np.zeros((P, 0), np.int32)
    return Batch(batch.x[idx_PB], batch.lengths[idx_PB], batch.y[idx_PB], y_lengths)


def epoch_plan(
    ds: SequenceDataset, batch_size: int, seed: int, epoch: int, bucket: int | None
) -> np.ndarray:
    """(steps, batch_size) example indices of one epoch, a pure function of (seed, epoch);
    the last incomplete batch is dropped."""
    plan = data.batch_indices(
        ds.lengths, batch_size, seed, epoch, shuffle=True, bucket=bucket, drop_remainder=True
    )
    return np.stack(plan).astype(np.int64)


def eval_batches(
    ds: SequenceDataset, batch_size: int, pad_multiple: int, T_max: int | None = None
) -> list[Batch]:
    """All of ``ds`` in order of length (less padding), in batches of ``batch_size``, padded
    to at most ``T_max`` (``batch_time``; pass the longest of several splits so that they
    share programs)."""
    order = np.argsort(ds.lengths, kind="stable")
    out = []
    for s in range(0, len(ds), batch_size):
        idx = order[s : s + batch_size]
        out.append(batch(ds, idx, batch_time(ds, idx, pad_multiple, T_max)))
    return out
