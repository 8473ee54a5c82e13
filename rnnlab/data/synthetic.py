"""Synthetic sequence tasks as datasets, generated deterministically from a seed (NumPy).

``rnnlab.data.load("sine", num_train=256, seed=0)`` gives train/valid/test ``Splits`` like
every other dataset (each split from its own seed derived from ``seed``). Every generator
returns a ``Batch(x, lengths, y)`` of NumPy arrays: ``x`` (B, T, D) float32
right-padded with zeros, ``lengths`` (B,) int32, ``y`` the targets (shape per task).

| task             | x              | y                      | head / loss                      |
|------------------|----------------|------------------------|----------------------------------|
| ``sine``         | (B, T, 1)      | (B, T, 1) next value   | regression / mse                 |
| ``adding``       | (B, T', 2)     | (B, 1) scaled sum      | sequence_regression / mse        |
| ``temporal_order``| (B, 110, 8)   | (B,) class             | sequence / cross-entropy         |
| ``copy``         | (B, T, K+2)    | (B, T) symbol per step | framewise / cross-entropy        |
| ``piano_roll``   | (B, T, 88)     | (B, T, 88) next frame  | next_step / Bernoulli NLL        |

Adding and temporal-order problems follow Hochreiter & Schmidhuber (1997), Experiments 4
and 6; the copy task follows Arjovsky et al. (2016).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from rnnlab.data.batching import SequenceDataset, Splits
from rnnlab.data.registry import DatasetSpec, register


class Batch(NamedTuple):
    """A right-padded batch: inputs x (B, T, D), lengths (B,), targets y."""

    x: np.ndarray
    lengths: np.ndarray
    y: np.ndarray


class TaskSpec(NamedTuple):
    """How a task is generated and learned: generator, model head, objective name."""

    make: Callable[..., Batch]
    head: str
    objective: str


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def sine(
    seed: int,
    num: int,
    length: int = 100,
    min_length: int | None = None,
    noise_std: float = 0.1,
    period_range: tuple[float, float] = (10.0, 40.0),
) -> Batch:
    """Noisy sine next-value prediction: s_t = a sin(2 pi t / p + phi) + eps_t,
    a ~ U[0.5, 1.5], p ~ U[period_range], phi ~ U[0, 2 pi), eps ~ N(0, noise_std^2).

    x_t = s_t, y_t = s_{t+1} for t < length_b; lengths ~ U{min_length..length} when
    ``min_length`` is given (else all equal ``length``).
    """
    rng = _rng(seed)
    amp_B = rng.uniform(0.5, 1.5, num)
    period_B = rng.uniform(*period_range, num)
    phase_B = rng.uniform(0.0, 2 * np.pi, num)
    t_T = np.arange(length + 1)
    s_BT = amp_B[:, None] * np.sin(2 * np.pi * t_T[None, :] / period_B[:, None] + phase_B[:, None])
    s_BT = s_BT + noise_std * rng.standard_normal(s_BT.shape)
    lo = length if min_length is None else min_length
    lengths_B = rng.integers(lo, length + 1, num).astype(np.int32)
    mask_BT = np.arange(length)[None, :] < lengths_B[:, None]
    x_BT = np.where(mask_BT, s_BT[:, :-1], 0.0)
    y_BT = np.where(mask_BT, s_BT[:, 1:], 0.0)
    return Batch(x_BT[..., None].astype(np.float32), lengths_B, y_BT[..., None].astype(np.float32))


def adding(seed: int, num: int, T: int = 100) -> Batch:
    """Adding problem (Hochreiter & Schmidhuber 1997, Exp. 4).

    Each step is a pair (value ~ U[-1, 1], marker). Length ~ U{T..T + T//10}. Exactly two
    pairs have marker 1: one among the first 10 (X1), one among the first T/2 - 1 others
    (X2). The first and last pairs have marker -1 unless marked; the rest 0. If the first
    pair is marked its value is set to 0 (X1 := 0). Target (at the end):
    y = 0.5 + (X1 + X2) / 4, in [0, 1]. Padded to T + T//10 steps.
    """
    rng = _rng(seed)
    T_max = T + T // 10
    lengths_B = rng.integers(T, T_max + 1, num).astype(np.int32)
    x_BT2 = np.zeros((num, T_max, 2), np.float32)
    y_B1 = np.zeros((num, 1), np.float32)
    half = T // 2 - 1
    for b in range(num):
        n = lengths_B[b]
        values = rng.uniform(-1.0, 1.0, n)
        markers = np.zeros(n)
        markers[0] = markers[n - 1] = -1.0
        i1 = rng.integers(0, 10)
        i2 = rng.choice([i for i in range(half) if i != i1])
        markers[[i1, i2]] = 1.0
        if i1 == 0 or i2 == 0:
            values[0] = 0.0
        x_BT2[b, :n, 0] = values
        x_BT2[b, :n, 1] = markers
        y_B1[b, 0] = 0.5 + (values[i1] + values[i2]) / 4.0
    return Batch(x_BT2, lengths_B, y_B1)


def temporal_order(seed: int, num: int, n_relevant: int = 2, length: int = 100) -> Batch:
    """Temporal order problem (Hochreiter & Schmidhuber 1997, Exp. 6a/6b).

    One-hot symbols over {a, b, c, d, X, Y, B, E}; length ~ U{100..110}; starts with B, ends
    with E, random a-d elsewhere except at the relevant positions t1 ~ U{10..20},
    t2 ~ U{50..60} (6a) or t1 ~ U{10..20}, t2 ~ U{33..43}, t3 ~ U{66..76} (6b), which hold X
    or Y. The class is the order read as binary digits (X = 0, Y = 1), most significant
    first: 6a has 4 classes (XX=0, XY=1, YX=2, YY=3), 6b has 8.

    ``length`` L scales the task (the paper's is L = 100): lengths ~ U{L..L + L//10} and
    every window bound is multiplied by L / 100 (rounded), so the lags grow with L.
    """
    windows = {2: ((10, 20), (50, 60)), 3: ((10, 20), (33, 43), (66, 76))}
    if n_relevant not in windows:
        raise ValueError(f"n_relevant must be 2 (Exp. 6a) or 3 (Exp. 6b), got {n_relevant}.")
    if length < 10:
        raise ValueError(f"length must be at least 10, got {length}.")
    bounds = [
        (round(lo * length / 100), round(hi * length / 100)) for lo, hi in windows[n_relevant]
    ]
    rng = _rng(seed)
    T_max = length + length // 10
    lengths_B = rng.integers(length, T_max + 1, num).astype(np.int32)
    x_BT8 = np.zeros((num, T_max, 8), np.float32)
    y_B = np.zeros((num,), np.int32)
    for b in range(num):
        n = lengths_B[b]
        sym = rng.integers(0, 4, n)
        sym[0], sym[n - 1] = 6, 7
        bits = rng.integers(0, 2, n_relevant)
        for (lo, hi), bit in zip(bounds, bits):
            sym[rng.integers(lo, hi + 1)] = 4 + bit
        x_BT8[b, np.arange(n), sym] = 1.0
        y_B[b] = int("".join(map(str, bits)), 2)
    return Batch(x_BT8, lengths_B, y_B)


def copy(seed: int, num: int, seq_len: int = 10, delay: int = 20, n_symbols: int = 8) -> Batch:
    """Copy task (Arjovsky et al. 2016): remember seq_len symbols over a delay.

    Input symbols (one-hot over K + 2): s_1..s_L ~ U{1..K}, then delay - 1 blanks (0), a
    delimiter (K + 1), then L blanks; T = delay + 2 L. Target per step: blank (0) for the
    first delay + L steps, then s_1..s_L. Memoryless baseline CE = L log K / T.
    """
    rng = _rng(seed)
    T = delay + 2 * seq_len
    s_BL = rng.integers(1, n_symbols + 1, (num, seq_len))
    in_BT = np.zeros((num, T), np.int64)
    in_BT[:, :seq_len] = s_BL
    in_BT[:, seq_len + delay - 1] = n_symbols + 1
    y_BT = np.zeros((num, T), np.int32)
    y_BT[:, -seq_len:] = s_BL
    x_BTK = np.eye(n_symbols + 2, dtype=np.float32)[in_BT]
    return Batch(x_BTK, np.full((num,), T, np.int32), y_BT)


def piano_roll(
    seed: int, num: int, length: int = 100, n_notes: int = 88, n_chords: int = 8
) -> Batch:
    """Synthetic polyphonic music for next-step Bernoulli NLL (JSB-like shapes).

    A fixed (from the seed) set of ``n_chords`` random 3-5 note chords and a random
    transition matrix; each sequence is a Markov chain over chords, held 1-4 steps each.
    x_t = frame_t, y_t = frame_{t+1} (B, T, n_notes) binary.
    """
    rng = _rng(seed)
    chords_CN = np.zeros((n_chords, n_notes), np.float32)
    for c in range(n_chords):
        chords_CN[c, rng.choice(n_notes, rng.integers(3, 6), replace=False)] = 1.0
    trans_CC = rng.dirichlet(np.full(n_chords, 0.3), n_chords)
    frames_BT = np.zeros((num, length + 1), np.int64)
    for b in range(num):
        c, t = rng.integers(n_chords), 0
        while t < length + 1:
            hold = rng.integers(1, 5)
            frames_BT[b, t : t + hold] = c
            t += hold
            c = rng.choice(n_chords, p=trans_CC[c])
    roll_BTN = chords_CN[frames_BT]
    return Batch(roll_BTN[:, :-1], np.full((num,), length, np.int32), roll_BTN[:, 1:])


TASKS: dict[str, TaskSpec] = {
    "sine": TaskSpec(sine, "regression", "mse"),
    "adding": TaskSpec(adding, "sequence_regression", "mse_sequence"),
    "temporal_order": TaskSpec(temporal_order, "sequence", "sequence_ce"),
    "copy": TaskSpec(copy, "framewise", "framewise_ce"),
    "piano_roll": TaskSpec(piano_roll, "next_step", "bernoulli"),
}


def get(name: str) -> TaskSpec:
    """The task registered as ``name``."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; available: {', '.join(sorted(TASKS))}.")
    return TASKS[name]


def make(name: str, seed: int, num: int, **kwargs: Any) -> Batch:
    """Generate ``num`` examples of task ``name`` from ``seed``."""
    return get(name).make(seed, num, **kwargs)


def as_dataset(batch: Batch, objective: str, meta: dict[str, Any]) -> SequenceDataset:
    """A generated batch as a ``SequenceDataset``: each example cut to its length; per-step
    targets aligned with the inputs, per-sequence targets kept whole."""
    per_step = batch.y.ndim >= 2 and objective not in ("mse_sequence", "sequence_ce")
    n = batch.x.shape[0]
    inputs = [batch.x[i, : batch.lengths[i]] for i in range(n)]
    if per_step:
        targets = [batch.y[i, : batch.lengths[i]] for i in range(n)]
    else:
        targets = [batch.y[i] for i in range(n)]
    return SequenceDataset(inputs, targets, "frame" if per_step else "example", meta)


def load_task(
    name: str,
    *,
    num_train: int = 256,
    num_valid: int = 64,
    num_test: int = 64,
    seed: int = 0,
    **kwargs: Any,
) -> Splits:
    """Train/valid/test splits of task ``name``; split i is generated from seed 3 seed + i."""
    spec = get(name)
    batches = [
        spec.make(seed * 3 + i, n, **kwargs) for i, n in enumerate((num_train, num_valid, num_test))
    ]
    meta: dict[str, Any] = {"task": name}
    if name == "copy":
        meta["num_classes"] = batches[0].x.shape[-1] - 1
    elif spec.objective == "sequence_ce":
        meta["num_classes"] = 2 ** kwargs.get("n_relevant", 2)
    return Splits(*(as_dataset(b, spec.objective, meta) for b in batches))


_DESCRIPTIONS = {
    "sine": ("noisy sine next-value prediction", "MSE"),
    "adding": ("adding problem (Hochreiter & Schmidhuber 1997, Exp. 4)", "MSE"),
    "temporal_order": ("temporal order (Hochreiter & Schmidhuber 1997, Exp. 6)", "error rate"),
    "copy": ("copy a sequence over a delay (Arjovsky et al. 2016)", "cross-entropy"),
    "piano_roll": ("synthetic chord sequences, next-step prediction", "Bernoulli NLL"),
}
for _name, (_task, _metric) in _DESCRIPTIONS.items():
    register(
        DatasetSpec(
            _name,
            load_task,
            _task,
            _metric,
            "generated (rnnlab.data.synthetic)",
            "n/a",
            {"name": _name},
        )
    )
