"""Taylor electricity demand: split by days before windowing, train-only normalisation."""

import sys

import numpy as np
import pytest

from rnnlab.data import taylor


@pytest.fixture(scope="module")
def series():
    return taylor.load_series()


@pytest.fixture(scope="module")
def splits():
    return taylor.load_taylor(input_length=96, horizon=24, stride=5)


def window_indices(d):
    """Absolute sample indices of each window's inputs and of its targets."""
    L, H = d.meta["input_length"], d.meta["horizon"]
    starts = d.meta["input_start"]
    return [np.arange(s, s + L) for s in starts], [np.arange(s + L, s + L + H) for s in starts]


def test_no_leakage_between_splits(splits):
    train_in, train_out = window_indices(splits.train)
    last_train = max(np.concatenate(train_in + train_out))
    for d in (splits.valid, splits.test):
        ins, outs = window_indices(d)
        assert min(np.concatenate(ins)) > last_train
        assert min(np.concatenate(outs)) > last_train
    valid_ins, valid_outs = window_indices(splits.valid)
    test_ins, test_outs = window_indices(splits.test)
    assert min(np.concatenate(test_ins + test_outs)) > max(np.concatenate(valid_ins + valid_outs))
    for d in splits:  # no window crosses its segment's bounds
        a, b = d.meta["bounds"]
        ins, outs = window_indices(d)
        assert min(i[0] for i in ins) >= a and max(o[-1] for o in outs) < b


def test_normalisation_uses_train_only_and_windows_match_series(series, splits):
    a, b = splits.train.meta["bounds"]
    assert (a, b) == (0, 60 * 48)
    assert splits.train.meta["mean"] == pytest.approx(series[a:b].mean())
    assert splits.train.meta["std"] == pytest.approx(series[a:b].std())
    assert splits.test.meta["mean"] == splits.train.meta["mean"]
    assert abs(splits.train.meta["mean"] - series.mean()) > 1.0  # differs from all-data stats
    mean, std = splits.train.meta["mean"], splits.train.meta["std"]
    for d in splits:
        ins, outs = window_indices(d)
        for k in (0, len(d) - 1):
            x, y = d.inputs[k], d.targets[k]
            assert x.shape == (96, 1) and y.shape == (24,)
            np.testing.assert_allclose(x[:, 0], (series[ins[k]] - mean) / std, rtol=1e-5)
            np.testing.assert_allclose(y, (series[outs[k]] - mean) / std, rtol=1e-5)


def test_default_sizes_and_errors(series):
    assert series.shape == (4032,)
    d = taylor.load_taylor()
    assert [len(s) for s in d] == [2497, 193, 193]
    with pytest.raises(ValueError, match="fewer than"):
        taylor.load_taylor(input_length=600)
    with pytest.raises(ValueError, match="days"):
        taylor.load_taylor(days=(80, 12, 12))


def test_missing_pmdarima_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pmdarima", None)
    monkeypatch.setitem(sys.modules, "pmdarima.datasets", None)
    with pytest.raises(ImportError, match=r"pmdarima==2\.1\.1"):
        taylor.load_taylor()
