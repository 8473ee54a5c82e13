"""Kill and restart: the resumed run ends exactly like an uninterrupted one."""

import json

import jax
import numpy as np
import pytest

from rnnlab.train import TrainConfig, train_and_evaluate, train_population


class Killed(Exception):
    pass


def _kill_after(epoch_to_die):
    def callback(epoch, record):
        if epoch == epoch_to_die:
            raise Killed

    return callback


def _lines(path):
    with open(path) as f:
        recs = [json.loads(x) for x in f]
    for r in recs:
        r.pop("seconds")
    return recs


def test_resume_equals_uninterrupted_run(tiny, tmp_path):
    cfg = tiny.replace(epochs=4, schedule="plateau", plateau_patience=1)
    full = train_and_evaluate(cfg, tmp_path / "full")
    with pytest.raises(Killed):
        train_and_evaluate(cfg, tmp_path / "cut", callback=_kill_after(1))
    assert len(_lines(tmp_path / "cut" / "metrics.jsonl")) == 2
    resumed = train_and_evaluate(cfg, tmp_path / "cut")
    assert _lines(tmp_path / "cut" / "metrics.jsonl") == _lines(tmp_path / "full" / "metrics.jsonl")
    assert resumed["history"] == full["history"]
    assert resumed["test"] == full["test"] and resumed["best_metric"] == full["best_metric"]
    for a, b in zip(jax.tree.leaves(resumed["params"]), jax.tree.leaves(full["params"])):
        np.testing.assert_array_equal(a, b)


def test_same_seed_same_numbers_other_seed_other_numbers(tiny):
    a, b = train_and_evaluate(tiny), train_and_evaluate(tiny)
    c = train_and_evaluate(tiny.replace(seed=5))
    assert a["history"] == b["history"] and a["test"] == b["test"]
    assert a["history"] != c["history"]


def test_population_resume(tiny, tmp_path):
    hp, seeds = {"lr": np.array([0.3, 0.05, 0.15, 0.1], np.float32)}, [0, 1, 2, 0]
    full = train_population(tiny, hp, seeds, strategy="vmap", workdir=tmp_path / "a")
    with pytest.raises(Killed):
        train_population(
            tiny, hp, seeds, strategy="vmap", workdir=tmp_path / "b", callback=_kill_after(0)
        )
    resumed = train_population(tiny, hp, seeds, strategy="vmap", workdir=tmp_path / "b")
    np.testing.assert_array_equal(resumed.best_metric, full.best_metric)
    assert resumed.history == full.history


def test_other_config_in_same_workdir_is_refused(tiny, tmp_path):
    train_and_evaluate(tiny.replace(epochs=1), tmp_path)
    with pytest.raises(ValueError, match="holds a different run"):
        train_and_evaluate(tiny.replace(epochs=1, hidden=4), tmp_path)


def test_resume_on_a_dataset_equals_uninterrupted_run(tmp_path):
    """Real data (20 JSB chorales): shuffled, bucketed, variably padded batches."""
    cfg = TrainConfig(
        dataset="jsb",
        dataset_options={"limit": 20},
        hidden=8,
        optimizer="adam",
        lr=1e-2,
        batch_size=4,
        bucket=2,
        pad_multiple=64,
        epochs=3,
        progress=False,
    )
    full = train_and_evaluate(cfg, tmp_path / "full")
    with pytest.raises(Killed):
        train_and_evaluate(cfg, tmp_path / "cut", callback=_kill_after(0))
    resumed = train_and_evaluate(cfg, tmp_path / "cut")
    assert _lines(tmp_path / "cut" / "metrics.jsonl") == _lines(tmp_path / "full" / "metrics.jsonl")
    assert resumed["test"] == full["test"] and resumed["history"] == full["history"]
    losses = [r["train_loss"] for r in full["history"]]
    assert losses[2] < losses[0]
