"""Leakage-free forecasting: walk-forward folds, a scaler fitted on the training window only,
windows whose targets never leave their segment, and the baselines a model must beat.

A fold is three consecutive segments of one series, train | valid | test, given as
[start, stop) indices; fold k+1 moves the valid and test segments ``step`` steps later and
lets the training window grow (``expanding=True``) or slide (fixed length)::

    folds = walk_forward_folds(len(y), n_folds=4, test=250, valid=250)
    splits = fold_splits(y, folds[-1], input_length=20, horizon=1)

Rules that keep the evaluation honest:

- the scaler (mean, std) is fitted on the fold's training segment and applied to everything;
- a window's targets lie inside one segment; its inputs may reach back before the segment
  (they are past values, known when the forecast is made), never forward;
- every valid target is later than every train target, every test target later than every
  valid one.

Baselines (on windows of the original scale): :func:`persistence` repeats the last input,
:func:`seasonal_naive` the value one season earlier. ``walk_forward`` is also a registered
dataset (``rnnlab.data.load("walk_forward", series="taylor", fold=0, ...)``), so the
training engine reads each fold by name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from rnnlab.data.batching import SequenceDataset, Splits
from rnnlab.data.registry import DatasetSpec, register


@dataclasses.dataclass(frozen=True)
class Fold:
    """[start, stop) indices of the train, valid and test segments of one fold."""

    train: tuple[int, int]
    valid: tuple[int, int]
    test: tuple[int, int]


@dataclasses.dataclass(frozen=True)
class Scaler:
    """z = (y - mean) / std, fitted on a training window only."""

    mean: float
    std: float

    @staticmethod
    def fit(y: np.ndarray) -> Scaler:
        y = np.asarray(y, np.float64)
        std = float(y.std())
        return Scaler(float(y.mean()), std if std > 0 else 1.0)

    def transform(self, y: np.ndarray) -> np.ndarray:
        return (np.asarray(y, np.float64) - self.mean) / self.std

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(z, np.float64) * self.std + self.mean


def walk_forward_folds(
    n: int,
    *,
    n_folds: int,
    test: int,
    valid: int = 0,
    step: int | None = None,
    min_train: int | None = None,
    expanding: bool = True,
) -> list[Fold]:
    """``n_folds`` folds over a series of ``n`` steps; the last fold's test segment ends at
    ``n``; consecutive folds are ``step`` (default ``test``) steps apart. With
    ``expanding=False`` every training window has the first fold's length."""
    step = test if step is None else step
    if min(n_folds, test, step) < 1 or valid < 0:
        raise ValueError("n_folds, test and step must be >= 1 and valid >= 0.")
    first_test = n - test - (n_folds - 1) * step
    first_train = first_test - valid
    if first_train < max(1, min_train or 1):
        raise ValueError(
            f"{n} steps do not hold {n_folds} folds of valid={valid}, test={test}, step={step}"
            + (f" after min_train={min_train}" if min_train else "")
            + "."
        )
    folds = []
    for k in range(n_folds):
        t0 = first_test + k * step
        v0 = t0 - valid
        a = 0 if expanding else v0 - first_train
        folds.append(Fold((a, v0), (v0, t0), (t0, t0 + test)))
    return folds


def windows(
    z: np.ndarray, segment: tuple[int, int], input_length: int, horizon: int, stride: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows of series ``z`` whose ``horizon`` targets lie in ``segment`` = [a, b) and whose
    ``input_length`` inputs are the steps just before (reaching back before ``a`` when the
    series has them). Returns inputs (N, input_length), targets (N, horizon) and the index of
    each window's first target."""
    a, b = segment
    first = max(a, input_length)
    starts = np.arange(first, b - horizon + 1, stride)
    if not len(starts):
        return (np.zeros((0, input_length)), np.zeros((0, horizon)), starts)
    idx_in = starts[:, None] + np.arange(-input_length, 0)[None, :]
    idx_out = starts[:, None] + np.arange(horizon)[None, :]
    return z[idx_in], z[idx_out], starts


def fold_splits(
    y: np.ndarray,
    fold: Fold,
    input_length: int,
    horizon: int,
    *,
    stride: int = 1,
    name: str = "series",
) -> Splits:
    """Train/valid/test datasets of one fold: inputs (input_length, 1), targets (horizon,)
    float32 on the scale of the training segment. ``meta`` holds ``mean``, ``std``,
    ``fold``, ``segment`` and ``target_start`` (index of each window's first target).
    The training windows' inputs also stay inside the training segment."""
    y = np.asarray(y, np.float64)
    scaler = Scaler.fit(y[fold.train[0] : fold.train[1]])
    z = scaler.transform(y).astype(np.float32)
    out = []
    for split, seg in zip(("train", "valid", "test"), (fold.train, fold.valid, fold.test)):
        if split == "train":  # no input before the training window either
            a, b = seg
            x, t, s = windows(z[a:b], (0, b - a), input_length, horizon, stride)
            s = s + a
        else:
            x, t, s = windows(z, seg, input_length, horizon, 1)
        if not len(x):
            raise ValueError(
                f"the {split} segment {seg} holds no window of input_length={input_length}, "
                f"horizon={horizon}."
            )
        meta = {
            "name": name,
            "split": split,
            "mean": scaler.mean,
            "std": scaler.std,
            "fold": dataclasses.asdict(fold),
            "segment": seg,
            "target_start": s,
            "input_length": input_length,
            "horizon": horizon,
        }
        out.append(SequenceDataset(list(x[:, :, None]), list(t), "example", meta))
    return Splits(*out)


def persistence(inputs_NL: np.ndarray, horizon: int) -> np.ndarray:
    """Every future value equals the last input: (N, horizon)."""
    last = np.asarray(inputs_NL)[:, -1:]
    return np.repeat(last, horizon, axis=1)


def seasonal_naive(inputs_NL: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The value one season earlier: y^_{t+h} = y_{t+h-season} (repeating the last season
    when the horizon is longer than it): (N, horizon). Needs ``season <= input_length``."""
    x = np.asarray(inputs_NL)
    if season > x.shape[1]:
        raise ValueError(f"season {season} is longer than the input window {x.shape[1]}.")
    last = x[:, -season:]
    reps = -(-horizon // season)
    return np.tile(last, (1, reps))[:, :horizon]


def scores(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """RMSE and MAE of a forecast (any matching shapes)."""
    err = np.asarray(pred, np.float64) - np.asarray(true, np.float64)
    return {"rmse": float(np.sqrt(np.mean(err**2))), "mae": float(np.mean(np.abs(err)))}


def _series(name: str) -> np.ndarray:
    if name == "taylor":
        from rnnlab.data import taylor

        return taylor.load_series()
    if name in SERIES:
        return SERIES[name]()
    raise ValueError(f"unknown series {name!r}; available: taylor, {', '.join(sorted(SERIES))}.")


# Series a walk_forward dataset can read by name (besides "taylor"); rnnlab.data.msft adds its.
SERIES: dict[str, Callable[[], np.ndarray]] = {}


def load_walk_forward(
    *,
    series: str = "taylor",
    fold: int = -1,
    n_folds: int = 4,
    test: int = 7 * 48,
    valid: int = 7 * 48,
    step: int | None = None,
    input_length: int = 96,
    horizon: int = 48,
    stride: int = 1,
    expanding: bool = True,
) -> Splits:
    """Fold ``fold`` (of ``n_folds``, negative counts from the last) of a named series as
    :class:`Splits` (see :func:`fold_splits`). Defaults: taylor, two days of context, one
    day ahead, one week each of valid and test per fold."""
    y = _series(series)
    folds = walk_forward_folds(
        len(y), n_folds=n_folds, test=test, valid=valid, step=step, expanding=expanding
    )
    return fold_splits(y, folds[fold], input_length, horizon, stride=stride, name=series)


register(
    DatasetSpec(
        "walk_forward",
        load_walk_forward,
        "multi-step forecasting on one walk-forward fold of a named series",
        "mean squared error on the training window's standardised scale",
        "taylor (pmdarima) or msft (pmdarima); folds by rnnlab.data.forecasting",
        "as the series",
    )
)
