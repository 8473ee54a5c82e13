"""Variable-length sequence containers, padding, bucketing and batch iteration.

Shape legend: B batch, T time (padded), D input features, L label-sequence length.
Batches are numpy arrays, batch-major (``x_BTD``) unless ``time_major=True`` (``x_TBD``).
Sequences are right-padded; ``lengths_B`` holds each sequence's valid length.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "Batch",
    "SequenceDataset",
    "Splits",
    "batch_indices",
    "epoch_rng",
    "iterate_batches",
    "mask",
    "pad",
    "pad_batch",
    "padded_length",
    "unpad",
]


@dataclasses.dataclass(frozen=True, eq=False)
class SequenceDataset:
    """N variable-length sequences and their targets.

    Attributes:
      inputs: N arrays of shape (T_i, ...) (e.g. (T_i, D) features or (T_i,) token ids).
      targets: N arrays, one per example. Framewise targets have shape (T_i, ...) and align
        with the inputs step by step; label sequences (CTC) have shape (L_i,); per-example
        targets (a class, a forecast vector) have one fixed shape.
      target_kind: "frame" (aligned with the inputs), "labels" (variable-length label
        sequence, padded separately) or "example" (one fixed-shape target per example).
      meta: task description, metric, classes, vocabulary, normalisation statistics...
    """

    inputs: Sequence[np.ndarray]
    targets: Sequence[np.ndarray]
    target_kind: str = "example"
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    lengths: np.ndarray = dataclasses.field(init=False, repr=False)  # (N,) int64, from inputs

    def __post_init__(self):
        if len(self.inputs) != len(self.targets):
            raise ValueError(f"{len(self.inputs)} inputs but {len(self.targets)} targets")
        if self.target_kind not in ("frame", "labels", "example"):
            raise ValueError(
                f"target_kind must be 'frame', 'labels' or 'example', got {self.target_kind!r}"
            )
        lengths = np.fromiter((len(x) for x in self.inputs), dtype=np.int64, count=len(self))
        object.__setattr__(self, "lengths", lengths)
        if self.target_kind == "frame":
            t_lengths = np.fromiter((len(y) for y in self.targets), np.int64, count=len(self))
            if not np.array_equal(t_lengths, lengths):
                raise ValueError("framewise targets must have the same length as their inputs")

    def __len__(self) -> int:
        return len(self.inputs)

    @property
    def target_lengths(self) -> np.ndarray | None:
        """(N,) label-sequence lengths for "labels" targets, else None."""
        if self.target_kind != "labels":
            return None
        return np.fromiter((len(y) for y in self.targets), dtype=np.int64, count=len(self))

    @property
    def input_dim(self) -> int | None:
        """Feature size D of (T, D) inputs; None for token-id inputs of shape (T,)."""
        if not len(self):
            return None
        x = self.inputs[0]
        return int(x.shape[-1]) if x.ndim >= 2 else None

    def subset(self, indices: Sequence[int] | np.ndarray) -> SequenceDataset:
        """The examples at ``indices`` (no copy of the arrays)."""
        idx = np.asarray(indices, dtype=np.int64)
        return SequenceDataset(
            [self.inputs[i] for i in idx],
            [self.targets[i] for i in idx],
            self.target_kind,
            self.meta,
        )


class Splits(NamedTuple):
    """Train / validation / test datasets; unpack as ``train, valid, test = splits``."""

    train: SequenceDataset
    valid: SequenceDataset
    test: SequenceDataset


class Batch(NamedTuple):
    """One padded batch.

    x: (B, T, ...) inputs, or (T, B, ...) when time-major, zero past each length.
    lengths: (B,) valid lengths of the inputs.
    y: (B, T, ...) / (T, B, ...) framewise targets, (B, L) label sequences or (B, ...)
      per-example targets.
    y_lengths: (B,) label-sequence lengths ("labels" targets), else None.
    index: (B,) positions of the examples in the dataset.
    """

    x: np.ndarray
    lengths: np.ndarray
    y: np.ndarray
    y_lengths: np.ndarray | None
    index: np.ndarray


def padded_length(max_length: int, *, multiple: int = 1, length: int | None = None) -> int:
    """The padded time size: ``length`` if given, else ``max_length`` rounded up to ``multiple``."""
    if length is not None:
        if length < max_length:
            raise ValueError(
                f"fixed length {length} is shorter than the longest sequence {max_length}"
            )
        return int(length)
    if multiple < 1:
        raise ValueError(f"multiple must be >= 1, got {multiple}")
    return int(-(-max_length // multiple) * multiple)


def pad(
    seqs: Sequence[np.ndarray],
    *,
    multiple: int = 1,
    length: int | None = None,
    value: float | int = 0,
    time_major: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Right-pads sequences of shape (T_i, ...) into one array.

    Returns ``(x_BT..., lengths_B)``; with ``time_major`` the array is (T, B, ...). The time
    size is the longest T_i, rounded up to ``multiple``, or the fixed ``length``.
    """
    if not len(seqs):
        raise ValueError("cannot pad an empty list of sequences")
    lengths_B = np.fromiter((len(s) for s in seqs), dtype=np.int32, count=len(seqs))
    feature_shape = seqs[0].shape[1:]
    dtype = np.result_type(*[s.dtype for s in seqs])
    T = padded_length(int(lengths_B.max()), multiple=multiple, length=length)
    x_BT = np.full((len(seqs), T, *feature_shape), value, dtype=dtype)
    for b, s in enumerate(seqs):
        if s.shape[1:] != feature_shape:
            raise ValueError(f"sequence {b} has feature shape {s.shape[1:]}, not {feature_shape}")
        x_BT[b, : len(s)] = s
    if time_major:
        x_BT = np.swapaxes(x_BT, 0, 1)
    return x_BT, lengths_B


def unpad(x: np.ndarray, lengths_B: np.ndarray, *, time_major: bool = False) -> list[np.ndarray]:
    """Inverse of :func:`pad`: the list of (T_i, ...) sequences (views into ``x``)."""
    x_BT = np.swapaxes(x, 0, 1) if time_major else x
    if len(lengths_B) != x_BT.shape[0]:
        raise ValueError(f"{len(lengths_B)} lengths for a batch of {x_BT.shape[0]}")
    if np.any(lengths_B > x_BT.shape[1]) or np.any(lengths_B < 0):
        raise ValueError(f"lengths must lie in [0, {x_BT.shape[1]}], got {lengths_B}")
    return [x_BT[b, : int(n)] for b, n in enumerate(lengths_B)]


def mask(lengths_B: np.ndarray, T: int, *, time_major: bool = False) -> np.ndarray:
    """Boolean validity mask: (B, T), or (T, B) when time-major; True where t < length."""
    mask_BT = np.arange(T)[None, :] < np.asarray(lengths_B)[:, None]
    return mask_BT.T if time_major else mask_BT


def pad_batch(
    dataset: SequenceDataset,
    indices: Sequence[int] | np.ndarray,
    *,
    multiple: int = 1,
    length: int | None = None,
    time_major: bool = False,
) -> Batch:
    """Pads the examples at ``indices`` into a :class:`Batch`.

    Framewise targets are padded like the inputs (same T, zeros past each length); label
    sequences are padded with zeros to the batch's longest label sequence (batch-major);
    per-example targets are stacked.
    """
    idx = np.asarray(indices, dtype=np.int64)
    inputs = [dataset.inputs[i] for i in idx]
    targets = [dataset.targets[i] for i in idx]
    x, lengths_B = pad(inputs, multiple=multiple, length=length, time_major=time_major)
    T = x.shape[0] if time_major else x.shape[1]
    y_lengths_B = None
    if dataset.target_kind == "frame":
        y, _ = pad(targets, length=T, time_major=time_major)
    elif dataset.target_kind == "labels":
        y, y_lengths_B = pad(targets)
    else:
        y = np.stack(targets)
    return Batch(x, lengths_B, y, y_lengths_B, idx)


def epoch_rng(seed: int, epoch: int) -> np.random.Generator:
    """The shuffling generator of one epoch: a pure function of (seed, epoch)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(epoch)]))


def batch_indices(
    lengths: np.ndarray,
    batch_size: int,
    seed: int = 0,
    epoch: int = 0,
    *,
    shuffle: bool = True,
    bucket: int | None = None,
    drop_remainder: bool = False,
) -> list[np.ndarray]:
    """The epoch's plan: a list of index arrays, one per batch.

    Without ``bucket``, a permutation (or ``arange`` when not shuffling) cut into batches.
    With ``bucket=k``, the permutation is cut into pools of ``k`` batches; each pool is
    sorted by length (stable) and cut into batches, so a batch holds similar lengths; then
    the batch order is shuffled. A large ``k`` sorts the whole set. Every example appears
    exactly once, except the last short batch, dropped with ``drop_remainder``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    lengths = np.asarray(lengths)
    n = len(lengths)
    rng = epoch_rng(seed, epoch)
    order = rng.permutation(n) if shuffle else np.arange(n)
    if bucket is not None:
        if bucket < 1:
            raise ValueError(f"bucket must be a number of batches >= 1, got {bucket}")
        pool = bucket * batch_size
        pools = [order[i : i + pool] for i in range(0, n, pool)]
        order = np.concatenate([p[np.argsort(lengths[p], kind="stable")] for p in pools] or [order])
    batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    if drop_remainder and batches and len(batches[-1]) < batch_size:
        batches.pop()
    if bucket is not None and shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def iterate_batches(
    dataset: SequenceDataset,
    batch_size: int,
    seed: int = 0,
    epoch: int = 0,
    *,
    shuffle: bool = True,
    bucket: int | None = None,
    drop_remainder: bool = False,
    multiple: int = 1,
    length: int | None = None,
    time_major: bool = False,
) -> Iterator[Batch]:
    """Yields the padded batches of one epoch, deterministic given (seed, epoch).

    Only each batch is materialised; the dataset itself is never copied. See
    :func:`batch_indices` for shuffling and bucketing and :func:`pad_batch` for padding
    (``multiple`` or a fixed ``length`` limit the number of distinct shapes to compile).
    """
    plan = batch_indices(
        dataset.lengths,
        batch_size,
        seed=seed,
        epoch=epoch,
        shuffle=shuffle,
        bucket=bucket,
        drop_remainder=drop_remainder,
    )
    for idx in plan:
        yield pad_batch(dataset, idx, multiple=multiple, length=length, time_major=time_major)
