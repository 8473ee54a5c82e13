"""Daily Microsoft (MSFT) stock prices, 1986-2017, shipped offline by pmdarima 2.1.1.

7,983 trading days (13 March 1986 to 10 November 2017) of open, high, low, close and
volume. Task: forecast the next ``horizon`` daily log returns r_t = log(c_t / c_{t-1}) of the
closing price from the last ``input_length`` ones (``target="log_return"``, the default), or
the closing prices themselves (``target="close"``).

Splits are walk-forward folds (:mod:`rnnlab.data.forecasting`): by default one fold whose
last 250 trading days (about a year) are test and the 250 before them valid, trained on
everything from ``start`` up to there; ``n_folds`` > 1 moves the test year back in steps of
``test`` days and ``fold`` picks one. The scaler is fitted on the training segment only and
no target leaves its segment. ``meta["close"]`` holds the closing prices of the series used
and ``meta["target_start"]`` the index (into it) of each window's first target, so that a
return forecast becomes a price forecast: c^_t = c_{t-1} exp(r^_t).

Next-day returns of a large stock are close to unpredictable: persistence of the price (a
return of zero) is the baseline to beat, and it is hard to beat.
"""

from __future__ import annotations

import numpy as np

from rnnlab.data import _common, forecasting
from rnnlab.data.batching import SequenceDataset, Splits
from rnnlab.data.registry import DatasetSpec, register

PMDARIMA_PIN = "pmdarima==2.1.1"
TASK = "next-day forecasting of MSFT daily log returns (or closing prices), regression"
METRIC = "mean squared error on the training window's standardised scale"
SOURCE = "MSFT daily prices 1986-2017 (Kaggle 'Huge Stock Market Dataset') via pmdarima 2.1.1"
LICENSE = "pmdarima MIT; prices CC0 (Kaggle dataset by B. Marjanovic)"
TARGETS = ("log_return", "close")


def load_prices():
    """The raw table: a pandas DataFrame with Date, Open, High, Low, Close, Volume."""
    datasets = _common.require("pmdarima.datasets", PMDARIMA_PIN)
    return datasets.load_msft()


def load_close(start: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(dates as numpy datetime64[D], closing prices float64) from ``start`` (ISO date) on."""
    df = load_prices()
    dates = np.asarray(df["Date"], dtype="datetime64[D]")
    close = np.asarray(df["Close"], dtype=np.float64)
    if start is not None:
        keep = dates >= np.datetime64(start)
        dates, close = dates[keep], close[keep]
    return dates, close


def load_msft(
    *,
    input_length: int = 20,
    horizon: int = 1,
    target: str = "log_return",
    start: str = "2000-01-01",
    test: int = 250,
    valid: int = 250,
    n_folds: int = 1,
    fold: int = -1,
    stride: int = 1,
) -> Splits:
    """MSFT windows as train/valid/test :class:`SequenceDataset` s (module docstring).

    Inputs (input_length, 1), targets (horizon,) float32, standardised with the training
    segment's mean and std. ``meta`` adds ``dates``, ``close`` and ``target`` to what
    :func:`rnnlab.data.forecasting.fold_splits` records.
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}.")
    dates, close = load_close(start)
    if target == "log_return":
        y = np.diff(np.log(close))
        dates, close = dates[1:], close[1:]  # y[i] is the return into day i
        prev = close / np.exp(y)  # the close before each return's day
    else:
        y = close
        prev = None
    folds = forecasting.walk_forward_folds(
        len(y), n_folds=n_folds, test=test, valid=valid, min_train=input_length + horizon
    )
    splits = forecasting.fold_splits(
        y, folds[fold], input_length, horizon, stride=stride, name="msft"
    )
    out = []
    for ds in splits:
        meta = {**ds.meta, "target": target, "dates": dates, "close": close}
        if prev is not None:
            meta["prev_close"] = prev
        meta["task"], meta["metric"] = TASK, METRIC
        out.append(SequenceDataset(ds.inputs, ds.targets, "example", meta))
    return Splits(*out)


def _log_returns() -> np.ndarray:
    return np.diff(np.log(load_close()[1]))


forecasting.SERIES["msft"] = lambda: load_close()[1]
forecasting.SERIES["msft_log_return"] = _log_returns
register(DatasetSpec("msft", load_msft, TASK, METRIC, SOURCE, LICENSE))
