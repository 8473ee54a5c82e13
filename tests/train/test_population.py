"""Population training equals training each trial alone; trials do not disturb each other."""

import jax
import numpy as np
import pytest

from rnnlab.train import TrainConfig, train_and_evaluate, train_population, train_trials

LRS = np.array([0.3, 0.05, 0.15, 0.1], np.float32)
MOMENTA = np.array([0.9, 0.5, 0.0, 0.7], np.float32)
NOISE = np.array([0.05, 0.01, 0.2, 0.1], np.float32)  # all > 0: one compiled program
SEEDS = [0, 1, 2, 0]


def _alone(cfg, i):
    return train_and_evaluate(
        cfg.replace(
            seed=SEEDS[i], lr=float(LRS[i]), momentum=float(MOMENTA[i]), noise_std=float(NOISE[i])
        )
    )


def _close(a, b, rtol=2e-5, atol=1e-6):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("strategy", ["loop", "map", "chunked", "vmap"])
def test_population_equals_each_trial_alone(tiny, strategy):
    hp = {"lr": LRS, "momentum": MOMENTA, "noise_std": NOISE}
    pop = train_population(tiny, hp, SEEDS, strategy=strategy, chunk_size=2)
    for i in range(4):
        one = _alone(tiny, i)
        got = pop.trial(i)
        _close(got["best_metric"], one["best_metric"])
        assert got["best_epoch"] == one["best_epoch"]
        _close([r["valid_loss"] for r in got["history"]], [r["valid_loss"] for r in one["history"]])
        _close([r["train_loss"] for r in got["history"]], [r["train_loss"] for r in one["history"]])
        _close(got["test"]["loss"], one["test"]["loss"])
        jax.tree.map(
            lambda a, b, i=i: _close(a[i], b, rtol=1e-4, atol=1e-5), pop.best_params, one["params"]
        )
    # trials really differ (different lr, seed, noise)
    assert len({round(float(v), 6) for v in pop.best_metric}) == 4


@pytest.mark.parametrize("strategy", ["vmap", "map"])
def test_diverging_trial_leaves_the_others_unchanged(tiny, strategy):
    base = train_population(tiny, {"lr": LRS}, SEEDS, strategy=strategy)
    lrs = LRS.copy()
    lrs[1] = 1e30
    pop = train_population(tiny, {"lr": lrs}, SEEDS, strategy=strategy)
    np.testing.assert_array_equal(pop.diverged, [False, True, False, False])
    assert not base.diverged.any()
    for i in (0, 2, 3):
        _close(pop.best_metric[i], base.best_metric[i], rtol=1e-6, atol=1e-7)
        _close(pop.test["loss"][i], base.test["loss"][i], rtol=1e-6, atol=1e-7)
        assert pop.history[-1]["valid_loss"][i] == pytest.approx(
            base.history[-1]["valid_loss"][i], rel=1e-6
        )
    # the diverged trial is frozen at finite parameters and trained no further
    assert pop.epochs_trained[1] == 1 and pop.steps_trained[1] <= 4
    assert all(np.all(np.isfinite(x[1])) for x in jax.tree.leaves(pop.best_params))


def test_early_stopped_trial_freezes_and_others_go_on(tiny):
    cfg = tiny.replace(patience=1, epochs=4)
    lrs = np.array([0.3, 0.0, 0.05, 0.1], np.float32)
    pop = train_population(cfg, {"lr": lrs, "noise_std": NOISE}, SEEDS, strategy="map")
    # lr = 0 never improves after epoch 0: stops after epoch 1 (patience 1)
    np.testing.assert_array_equal(pop.epochs_trained, [4, 2, 4, 4])
    spe = cfg.num_train // cfg.batch_size
    np.testing.assert_array_equal(pop.steps_trained, [4 * spe, 2 * spe, 4 * spe, 4 * spe])
    assert pop.best_epoch[1] == 0 and not pop.diverged.any()
    alone = train_and_evaluate(cfg.replace(lr=0.3, seed=0, noise_std=float(NOISE[0])))
    _close(pop.best_metric[0], alone["best_metric"])


def test_train_trials_groups_by_structure(tiny):
    trials = [
        (tiny.replace(lr=0.3), 0),
        (tiny.replace(hidden=4, lr=0.1), 1),
        (tiny.replace(lr=0.05), 2),
    ]
    got = train_trials(trials, strategy="loop")
    for (cfg, seed), res in zip(trials, got):
        one = train_and_evaluate(cfg.replace(seed=seed))
        assert res["seed"] == seed
        _close(res["best_metric"], one["best_metric"])


def test_structural_hparam_is_refused(tiny):
    with pytest.raises(ValueError, match="not continuous hyperparameters"):
        train_population(tiny, {"hidden": np.array([4, 8])}, [0, 1])


def test_population_on_a_dataset_equals_each_trial_alone():
    """With a dataset all trials share the epoch's batches (drawn from data_seed, epoch);
    seeds and continuous hyperparameters still differ per trial."""
    cfg = TrainConfig(
        dataset="japanese_vowels",
        hidden=8,
        optimizer="adam",
        batch_size=32,
        pad_multiple=32,
        epochs=2,
        metric="error",
        progress=False,
    )
    lrs, seeds = np.array([3e-2, 1e-2], np.float32), [0, 3]
    pop = train_population(cfg, {"lr": lrs}, seeds, strategy="vmap")
    for i in range(2):
        one = train_and_evaluate(cfg.replace(lr=float(lrs[i]), seed=seeds[i]))
        got = pop.trial(i)
        _close([r["train_loss"] for r in got["history"]], [r["train_loss"] for r in one["history"]])
        _close(got["valid"]["loss"], one["valid"]["loss"])
        _close(got["test"]["error"], one["test"]["error"])
    assert pop.history[-1]["train_loss"][0] != pop.history[-1]["train_loss"][1]
