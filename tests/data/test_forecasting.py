"""Walk-forward folds, the train-only scaler, windows that never look ahead, baselines, MSFT."""

import numpy as np
import pytest

from rnnlab import data
from rnnlab.data import forecasting as fc


def test_folds_are_consecutive_and_end_at_the_series_end():
    folds = fc.walk_forward_folds(1000, n_folds=3, test=100, valid=50)
    assert folds[-1].test == (900, 1000)
    for f in folds:
        assert f.train[1] == f.valid[0] and f.valid[1] == f.test[0]
        assert f.train[0] == 0
    assert [f.test[0] for f in folds] == [700, 800, 900]
    sliding = fc.walk_forward_folds(1000, n_folds=3, test=100, valid=50, expanding=False)
    assert len({f.train[1] - f.train[0] for f in sliding}) == 1
    with pytest.raises(ValueError, match="do not hold"):
        fc.walk_forward_folds(100, n_folds=3, test=40, valid=30)


def test_fold_splits_scale_by_train_only_and_never_look_ahead():
    y = np.arange(300, dtype=np.float64) ** 1.5  # a trend: test values far from train ones
    fold = fc.walk_forward_folds(len(y), n_folds=1, test=50, valid=50)[0]
    s = fc.fold_splits(y, fold, input_length=10, horizon=3)
    train = y[fold.train[0] : fold.train[1]]
    assert s.train.meta["mean"] == pytest.approx(train.mean())
    assert s.train.meta["std"] == pytest.approx(train.std())
    for ds, (a, b) in zip(s, (fold.train, fold.valid, fold.test)):
        starts = ds.meta["target_start"]
        assert starts.min() >= a and starts.max() + 3 <= b  # targets inside the segment
        z = (y - ds.meta["mean"]) / ds.meta["std"]
        for x, t, t0 in zip(ds.inputs[:5], ds.targets[:5], starts[:5]):
            np.testing.assert_allclose(x[:, 0], z[t0 - 10 : t0], rtol=1e-5)  # inputs: the past
            np.testing.assert_allclose(t, z[t0 : t0 + 3], rtol=1e-5)
    assert s.train.meta["target_start"].min() >= 10  # training inputs stay in the window
    assert s.valid.meta["target_start"][0] == fold.valid[0]  # valid reads train-time context


def test_baselines():
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    np.testing.assert_array_equal(fc.persistence(x, 3), [[4.0, 4.0, 4.0]])
    np.testing.assert_array_equal(fc.seasonal_naive(x, 3, season=2), [[3.0, 4.0, 3.0]])
    with pytest.raises(ValueError, match="season"):
        fc.seasonal_naive(x, 1, season=5)
    assert fc.scores(np.array([1.0, 3.0]), np.array([2.0, 2.0])) == {"rmse": 1.0, "mae": 1.0}


def test_walk_forward_dataset_on_taylor():
    s = data.load("walk_forward", series="taylor", fold=0, n_folds=2, input_length=48)
    assert s.train.inputs[0].shape == (48, 1) and s.test.targets[0].shape == (48,)
    assert s.test.meta["segment"][1] < 4032  # fold 0 of 2 ends one test week early


def test_msft_returns_and_prices():
    s = data.load("msft")
    assert len(s.test) == 250 and len(s.valid) == 250
    m = s.test.meta
    assert m["dates"][-1] == np.datetime64("2017-11-10")
    r = np.diff(np.log(data.msft.load_close("2000-01-01")[1]))
    t0 = m["target_start"]
    np.testing.assert_allclose(
        np.concatenate(s.test.targets) * m["std"] + m["mean"], r[t0], rtol=1e-4, atol=1e-6
    )
    # a return becomes a price: c_t = c_{t-1} exp(r_t)
    np.testing.assert_allclose(m["prev_close"][t0] * np.exp(r[t0]), m["close"][t0], rtol=1e-9)
    c = data.load("msft", target="close", n_folds=3, fold=0)
    assert c.test.meta["segment"][1] == len(m["close"]) + 1 - 500  # two test years earlier
    with pytest.raises(ValueError, match="target"):
        data.load("msft", target="open")
