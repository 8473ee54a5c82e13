"""Real datasets in the engine: which head/objective a dataset needs, and its batches.

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

Token-id inputs (T,) are fed one-hot (``vocab`` = ``meta["num_classes"]``). Training
batches: the epoch's plan from ``rnnlab.data.batch_indices`` drawn from (seed, epoch),
last short batch dropped; time padded to a multiple of ``pad_multiple`` (capped at the
dataset's longest sequence) and label sequences to the dataset's longest one, which bounds
the number of compiled shapes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from rnnlab import data, tasks
from rnnlab.data import SequenceDataset


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


def load(name: str, options: dict[str, Any]) -> dict[str, SequenceDataset]:
    """The train/valid/test splits of dataset ``name`` as a dict."""
    return data.load(name, **options)._asdict()


def _max_label_length(ds: SequenceDataset) -> int:
    return int(np.max(ds.target_lengths)) if len(ds) else 1


def to_batch(ds: SequenceDataset, idx: np.ndarray, pad_multiple: int) -> tasks.Batch:
    """Examples ``idx`` of ``ds`` as an engine batch: x float32 (or int32 token ids), y the
    targets, or (labels_BL, label_lengths_B) for label sequences."""
    T_max = int(np.max(ds.lengths))
    T = min(data.padded_length(int(np.max(ds.lengths[idx])), multiple=pad_multiple), T_max)
    b = data.pad_batch(ds, idx, length=T)
    x = b.x.astype(np.int32 if _is_int(b.x) else np.float32)
    if ds.target_kind == "labels":
        labels_BL = np.zeros((len(idx), _max_label_length(ds)), np.int32)
        labels_BL[:, : b.y.shape[1]] = b.y
        y: Any = (labels_BL, b.y_lengths.astype(np.int32))
    else:
        y = b.y.astype(np.int32 if _is_int(b.y) else np.float32)
    return tasks.Batch(x, b.lengths.astype(np.int32), y)


def train_plan(ds: SequenceDataset, batch_size: int, seed: int, epoch: int, bucket) -> list:
    """The epoch's index arrays (full batches only), a pure function of (seed, epoch)."""
    return data.batch_indices(
        ds.lengths, batch_size, seed, epoch, shuffle=True, bucket=bucket, drop_remainder=True
    )


def eval_batches(ds: SequenceDataset, batch_size: int, pad_multiple: int) -> list[tasks.Batch]:
    """All of ``ds`` in order of length (less padding), in batches of ``batch_size``."""
    order = np.argsort(ds.lengths, kind="stable")
    return [
        to_batch(ds, order[s : s + batch_size], pad_multiple) for s in range(0, len(ds), batch_size)
    ]


def sample(ds: SequenceDataset) -> tasks.Batch:
    """A one-example batch (for parameter shapes)."""
    return to_batch(ds, np.zeros(1, np.int64), 1)
