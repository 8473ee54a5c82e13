"""Taylor (2003) half-hourly electricity demand of England and Wales (pmdarima 2.1.1).

4,032 values in MW, 5 June to 27 August 2000 (84 days x 48 half-hours; seasonalities 48
and 336). Task: forecast the next ``horizon`` values from the last ``input_length`` values.

No leakage by construction: the series is split by whole days *before* windowing (default
60/12/12 days), the mean and std are fitted on the train segment only, and the windows are
cut within each segment, so no window crosses a split boundary and every valid/test index
is later than every train index. Metric: mean squared error on the standardised scale
(RMSE in MW = sqrt(MSE) * ``meta["std"]``).
"""

from __future__ import annotations

import numpy as np

from rnnlab.data import _common
from rnnlab.data.batching import SequenceDataset, Splits
from rnnlab.data.registry import DatasetSpec, register

PMDARIMA_PIN = "pmdarima==2.1.1"
STEPS_PER_DAY = 48
TASK = "multi-step forecasting of half-hourly electricity demand (regression)"
METRIC = "mean squared error of the standardised forecast (train mean/std)"
SOURCE = "Taylor (2003), England & Wales demand, Jun-Aug 2000, via pmdarima 2.1.1"
LICENSE = "pmdarima MIT; data provided by J. W. Taylor (no explicit licence)"


def load_series() -> np.ndarray:
    """The raw series (4032,) float64 in MW."""
    datasets = _common.require("pmdarima.datasets", PMDARIMA_PIN)
    return np.asarray(datasets.load_taylor(), dtype=np.float64)


def split_bounds(days: tuple[int, int, int]) -> list[tuple[int, int]]:
    """[start, stop) sample indices of the train, valid and test segments."""
    ends = np.cumsum(days) * STEPS_PER_DAY
    starts = np.concatenate([[0], ends[:-1]])
    return [(int(a), int(b)) for a, b in zip(starts, ends)]


def windows(
    z: np.ndarray, offset: int, input_length: int, horizon: int, stride: int
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Windows of one segment ``z`` (which starts at absolute index ``offset``).

    Returns inputs (input_length, 1), targets (horizon,) (views into ``z``) and the
    absolute index of each window's first input.
    """
    starts = np.arange(0, len(z) - input_length - horizon + 1, stride)
    z_T1 = z[:, None]
    inputs = [z_T1[s : s + input_length] for s in starts]
    targets = [z[s + input_length : s + input_length + horizon] for s in starts]
    return inputs, targets, starts + offset


def load_taylor(
    *,
    input_length: int = 336,
    horizon: int = 48,
    stride: int = 1,
    days: tuple[int, int, int] = (60, 12, 12),
) -> Splits:
    """Taylor windows as train/valid/test :class:`SequenceDataset` s.

    Inputs (input_length, 1) float32, targets (horizon,) float32 (``target_kind="example"``),
    both standardised with the train segment's mean and std. ``meta`` holds ``mean``,
    ``std``, the segment ``bounds`` and ``input_start`` (absolute index of each window).
    Defaults: one week of context, one day ahead, 60/12/12 days.
    """
    y = load_series()
    if sum(days) * STEPS_PER_DAY > len(y) or min(days) < 1:
        raise ValueError(f"days {days} must be >= 1 each and fit in {len(y) // STEPS_PER_DAY}")
    if min(input_length, horizon, stride) < 1:
        raise ValueError("input_length, horizon and stride must be >= 1")
    bounds = split_bounds(days)
    train = y[bounds[0][0] : bounds[0][1]]
    mean, std = float(train.mean()), float(train.std())
    datasets = []
    for split, (a, b) in zip(("train", "valid", "test"), bounds):
        z = ((y[a:b] - mean) / std).astype(np.float32)
        if len(z) < input_length + horizon:
            raise ValueError(
                f"{split} holds {len(z)} steps, fewer than input_length + horizon = "
                f"{input_length + horizon}; use shorter windows or more days"
            )
        inputs, targets, input_start = windows(z, a, input_length, horizon, stride)
        meta = {
            "name": "taylor",
            "split": split,
            "task": TASK,
            "metric": METRIC,
            "mean": mean,
            "std": std,
            "bounds": (a, b),
            "input_start": input_start,
            "input_length": input_length,
            "horizon": horizon,
        }
        datasets.append(SequenceDataset(inputs, targets, "example", meta))
    return Splits(*datasets)


register(DatasetSpec("taylor", load_taylor, TASK, METRIC, SOURCE, LICENSE))
