"""The engine trains an LSTM on every registered dataset (``DataConfig.name``).

Fast: one epoch on a small subset of each; the validation metric must beat the same model
untrained (``epochs=0`` evaluates the initial parameters) and a trivial baseline.
Slow: one epoch on each full dataset.
"""

import math

import numpy as np
import pytest

from rnnlab import data
from rnnlab.train import Config, train

# dataset -> (options for a small subset, selection metric, trivial baseline of that metric)
CASES = {
    "jsb": ({"limit": 20}, "loss", 88 * math.log(2.0)),  # every key at p = 1/2 (20 chorales)
    "japanese_vowels": ({}, "error", 1 - 1 / 9),  # chance over 9 speakers
    "japanese_vowels_framewise": ({}, "error", 1 - 1 / 9),
    "digits": ({}, "error", 0.9),
    "digits_ctc": ({"num_sequences": (320, 64, 64)}, "loss", None),
    "kjv": ({"max_chars": 40_000}, "bpc", math.log2(63)),  # uniform over the vocabulary
    "msft": ({"target": "close", "start": "2014-01-01", "test": 60, "valid": 60}, "loss", None),
    "walk_forward": (
        {"input_length": 48, "horizon": 12, "stride": 6, "n_folds": 2, "fold": 0},
        "loss",
        None,
    ),
    "taylor": (
        {"input_length": 48, "horizon": 12, "stride": 6, "days": (14, 4, 4)},
        "loss",
        1.0,  # predicting the (standardised) mean
    ),
}


def _config(name, options, metric, hidden=16, lr=2e-2, batch_size=16, bucket=None):
    return Config.from_dict(
        {
            "data": {
                "name": name,
                "options": options,
                "pad_multiple": 32,
                "eval_batch_size": 1024,
                "batch_size": batch_size,
                "bucket": bucket,
            },
            "model": {"cell": "lstm", "hidden": hidden, "hoist": True},
            "optim": {"name": "adam", "lr": lr},
            "loop": {"epochs": 1, "metric": metric, "progress": False},
        }
    )


def test_every_registered_dataset_is_covered():
    # synthetic tasks train in tests/train; frames (moving_digits) in tests/test_cells_train.py
    others = set(data.synthetic.TASKS) | {"moving_digits"}
    assert sorted(CASES) == sorted(set(data.available()) - others)


SLOW_SUBSETS = {"digits", "digits_ctc", "japanese_vowels"}  # ~25 s each on 2 cores


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_SUBSETS else n for n in sorted(CASES)],
)
def test_one_epoch_on_a_subset_beats_untrained_and_trivial(name):
    options, metric, trivial = CASES[name]
    cfg = _config(name, options, metric, batch_size=4 if name == "jsb" else 16)
    trained = train(cfg)
    untrained = train(cfg.override({"loop.epochs": 0}))  # same compiled programs
    assert trained.epochs_trained == 1 and not trained.diverged
    after, before = trained.valid, untrained.valid
    assert np.isfinite(after["loss"]) and np.isfinite(trained.test["loss"])
    assert after["loss"] < 0.95 * before["loss"]
    assert after[metric] <= before[metric]
    if trivial is not None:
        assert after[metric] < trivial
    assert set(trained.test) == set(after)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_one_epoch_on_the_full_dataset(name):
    _, metric, trivial = CASES[name]
    cfg = _config(name, {}, metric, hidden=32, lr=1e-2, batch_size=32, bucket=16)
    trained = train(cfg)
    assert trained.epochs_trained == 1 and not trained.diverged
    assert np.isfinite(trained.test[metric])
    if trivial is not None:
        assert trained.valid[metric] < trivial
