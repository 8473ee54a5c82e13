"""Populations equal training each trial alone: same structure, mixed hidden sizes (padded to
a bucket), and slots refilled from a queue; trials do not disturb each other."""

import jax
import numpy as np
import pytest

from rnnlab.train import (
    Trial,
    default_slots,
    hidden_bucket,
    program_key,
    run_queue,
    train,
    train_population,
    train_trials,
)
from rnnlab.train.population import worth_moving

LRS = np.array([0.3, 0.05, 0.15, 0.1], np.float32)
MOMENTA = np.array([0.9, 0.5, 0.0, 0.7], np.float32)
NOISE = np.array([0.05, 0.0, 0.2, 0.1], np.float32)
SEEDS = [0, 1, 2, 0]


def _trial_config(cfg, i):
    return cfg.override(
        {"optim.lr": LRS[i], "optim.momentum": MOMENTA[i], "optim.noise_std": NOISE[i]}
    )


def _close(a, b, rtol=2e-5, atol=1e-6):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _same_trial(got, one, rtol=2e-5, atol=1e-6):
    assert got.best_epoch == one.best_epoch and got.epochs_trained == one.epochs_trained
    assert got.diverged == one.diverged
    for key in ("train_loss", "valid_loss"):
        _close([r[key] for r in got.history], [r[key] for r in one.history], rtol, atol)
    _close(got.best_metric, one.best_metric, rtol, atol)
    _close(got.test["loss"], one.test["loss"], rtol, atol)
    jax.tree.map(lambda a, b: _close(a, b, 10 * rtol, 10 * atol), got.params, one.params)


@pytest.mark.parametrize(
    "strategy", [pytest.param("map", marks=pytest.mark.slow), "chunked", "vmap"]
)
def test_population_equals_each_trial_alone(tiny, strategy):
    hp = {"lr": LRS, "momentum": MOMENTA, "noise_std": NOISE}
    pop = train_population(tiny, hp, SEEDS, strategy=strategy, chunk_size=2)
    for i in range(4):
        _same_trial(pop[i], train(_trial_config(tiny, i).override({"loop.seed": SEEDS[i]})))
    assert len({round(float(v), 6) for v in pop.best_metric}) == 4  # trials really differ


def test_diverging_trial_leaves_the_others_unchanged(tiny):
    base = train_population(tiny, {"lr": LRS}, SEEDS, strategy="vmap")
    lrs = LRS.copy()
    lrs[1] = 1e30
    pop = train_population(tiny, {"lr": lrs}, SEEDS, strategy="vmap")
    np.testing.assert_array_equal(pop.diverged, [False, True, False, False])
    assert not base.diverged.any()
    for i in (0, 2, 3):
        _same_trial(pop[i], base[i], rtol=1e-6, atol=1e-7)
    assert pop[1].epochs_trained == 1 and pop[1].steps_trained <= 4  # frozen at once
    assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves(pop[1].params))


@pytest.mark.slow
def test_early_stopped_trial_freezes_and_others_go_on(tiny):
    cfg = tiny.override({"loop.patience": 1, "loop.epochs": 4})
    lrs = np.array([0.3, 0.0, 0.05, 0.1], np.float32)
    pop = train_population(cfg, {"lr": lrs}, SEEDS, strategy="map")
    # lr = 0 never improves after epoch 0: stops after epoch 1 (patience 1)
    assert [t.epochs_trained for t in pop] == [4, 2, 4, 4]
    spe = 32 // 8
    assert [t.steps_trained for t in pop] == [4 * spe, 2 * spe, 4 * spe, 4 * spe]
    assert pop[1].best_epoch == 0 and not pop.diverged.any()
    _same_trial(pop[0], train(cfg.override({"optim.lr": 0.3})))


def test_structural_hparam_is_refused(tiny):
    with pytest.raises(ValueError, match="not continuous hyperparameters"):
        train_population(tiny, {"hidden": np.array([4, 8])}, [0, 1])


def test_hidden_buckets():
    assert [hidden_bucket(h) for h in (1, 16, 17, 24, 25, 33, 64, 65, 200)] == [
        16,
        16,
        24,
        24,
        32,
        48,
        64,
        96,
        256,
    ]


@pytest.mark.parametrize(
    ("cell", "options"),
    [
        pytest.param("lstm", {"variant": "V"}, marks=pytest.mark.slow),
        pytest.param("lstm", {"variant": "FGR"}, marks=pytest.mark.slow),
        ("lstm", {"variant": "CIFG"}),
        ("gru", {}),
    ],
)
def test_mixed_hidden_sizes_equal_each_trial_alone(tiny, cell, options):
    """Sizes 17, 20 and 24 share the bucket 24; Adam, weight decay, clipping, input noise,
    input dropout and dropout between layers all see padded units. Sequences of 2-12 steps in
    batches of 4 are padded to multiples of 4, and a population step pads every slot's batch
    to the longest of them: the per-step draws of a trial's real steps stay its own."""
    cfg = tiny.override(
        {
            "data.options": {**tiny.data.options, "min_length": 2},
            "data.batch_size": 4,
            "data.pad_multiple": 4,
            "model.cell": cell,
            "model.cell_options": options,
            "model.num_layers": 2,
            "model.dropout": 0.25,
            "model.input_dropout": 0.2,
            "optim.name": "adam",
            "optim.lr": 1e-2,
            "optim.weight_decay": 1e-3,
            "optim.clip_norm": 0.5,
            "loop.epochs": 2,
        }
    )
    trials = [
        Trial(cfg.override({"model.hidden": h, "optim.lr": lr}), seed, str(h))
        for h, lr, seed in ((17, 1e-2, 0), (24, 3e-2, 1), (20, 2e-2, 2))
    ]
    assert len({program_key(t.config) for t in trials}) == 1
    got = train_trials(trials, slots=3, strategy="vmap")
    for t, res in zip(trials, got):
        one = train(t.config.override({"loop.seed": t.seed}))
        assert jax.tree.map(np.shape, res.params) == jax.tree.map(np.shape, one.params)
        _same_trial(res, one, rtol=1e-4, atol=1e-5)


MIXED_VARIANTS = (("V", 17, 0), ("NIG", 20, 1), ("NFG", 24, 2), ("NOAF", 18, 3), ("NP", 22, 4))
MIXED_VARIANTS += (("CIFG", 19, 5), ("NOG", 23, 6), ("NIAF", 21, 7))


def _fixed_parts_stay(trials, slots):
    """One epoch of the trials' population (the group compiled by train_trials): switches
    keep their variant's values; absent parts and padding stay zero."""
    from rnnlab.cells.lstm import switch_values
    from rnnlab.train import population, variants

    group = population.group_for(trials[0].config, slots, population.Runner("vmap"))
    pop = population.Population(group)
    for s, t in enumerate(trials):
        pop.assign(s, t)
    pop.train_epoch()
    params, mask = jax.device_get((pop.pop.params, pop.pop.grad_mask))
    for (path, p), m in zip(jax.tree_util.tree_flatten_with_path(params)[0], jax.tree.leaves(mask)):
        if path[-1].key == "switches":
            want = [switch_values(variants.variant_of(t.config.model)) for t in trials]
            np.testing.assert_array_equal(p, np.stack(want))
        else:
            np.testing.assert_array_equal(p * (1 - m), 0.0)


SGD = {"optim.name": "sgd", "optim.momentum": 0.9, "optim.nesterov": True}
ADAM = {"optim.name": "adam", "optim.clip_norm": 0.5}
FOUR = ("V", "NFG", "NOAF", "CIFG")  # peepholes and all gates; no forget gate; no output
# activation; coupled gates: the default run, the eight in the slow ones


@pytest.mark.parametrize(
    ("optimiser", "names"),
    [
        (SGD, FOUR),
        pytest.param(SGD, None, marks=pytest.mark.slow),
        pytest.param(ADAM, None, marks=pytest.mark.slow),
    ],
    ids=["sgd-nesterov-4", "sgd-nesterov-8", "adam-clip-8"],
)
def test_mixed_variants_equal_each_trial_alone(tiny, optimiser, names):
    """LSTM variants (the eight other than FGR, or ``names``) of sizes 17..24 share one
    program (the switchable LSTM in bucket 24) and each equals its lone run in its own
    program (pad=False); weight decay acts on every parameter, and the switches do not
    move."""
    cfg = tiny.override(
        {"model.cell": "lstm", "optim.weight_decay": 1e-3, "loop.epochs": 2, **optimiser}
    )
    lr = 0.3 if optimiser["optim.name"] == "sgd" else 1e-2
    trials = [
        Trial(
            cfg.override(
                {
                    "model.hidden": h,
                    "model.cell_options": {"variant": v},
                    "optim.lr": lr * (1 + k / 4),
                }
            ),
            k,
            v,
        )
        for v, h, k in MIXED_VARIANTS
        if names is None or v in names
    ]
    assert len({program_key(t.config) for t in trials}) == 1
    got = train_trials(trials, slots=len(trials), strategy="vmap")
    alone = train_trials(trials, pad=False, strategy="vmap")
    for res, one in zip(got, alone):
        assert jax.tree.map(np.shape, res.params) == jax.tree.map(np.shape, one.params)
        _same_trial(res, one)
    assert len({round(r.best_metric, 5) for r in got}) == len(trials)
    _fixed_parts_stay(trials, len(trials))


def test_refilled_slot_equals_trial_alone(tiny):
    """Five trials through two slots: later trials start in whichever slot frees first, at
    other global epochs; each equals its lone run and utilisation is reported."""
    cfg = tiny.override({"loop.patience": 1, "loop.epochs": 4})
    lrs = [0.0, 0.3, 0.05, 0.0, 0.1]  # lr = 0 stops early (patience 1)
    trials = [Trial(cfg.override({"optim.lr": lr}), i, f"t{i}") for i, lr in enumerate(lrs)]
    queue, seen, stats = list(trials), [], []
    got = run_queue(
        lambda: queue.pop(0) if queue else None,
        slots=2,
        strategy="map",
        on_epoch=lambda t, rec: seen.append((t.key, rec["epoch"])),
        progress=stats.append,
    )
    assert [r.key for r in got] == [t.key for t in trials]
    for t, res in zip(trials, got):
        _same_trial(res, train(cfg.override({"optim.lr": t.config.optim.lr, "loop.seed": t.seed})))
    assert sorted(seen) == sorted((r.key, e) for r in got for e in range(r.epochs_trained))
    useful = sum(r.epochs_trained for r in got)
    assert stats[-1]["final"] and stats[-1]["useful"] == useful
    assert useful <= stats[-1]["slot_epochs"] <= 2 * max(r.epochs_trained for r in got) * 5


def test_population_holds_only_live_trials(tiny):
    """Four trials offered eight slots get four; when the two with lr = 0 stop early the two
    others move into a population of two, then one (both compiled by earlier runs, so the
    moves are free): no slot-epoch is spent on an empty slot, and every trial still equals its
    lone run."""
    cfg = tiny.override({"loop.patience": 1, "loop.epochs": 5})
    lrs = [0.0, 0.3, 0.0, 0.1]
    trials = [Trial(cfg.override({"optim.lr": lr}), i, f"t{i}") for i, lr in enumerate(lrs)]
    for warm in (trials[1:3], trials[1:2]):  # populations of two and one slot
        run_queue(lambda w=warm: w.pop(0) if w else None, strategy="chunked", chunk_size=2)
    queue, stats, done = list(trials), [], []
    got = run_queue(
        lambda: queue.pop(0) if queue else None,
        slots=8,
        strategy="chunked",
        chunk_size=2,
        progress=stats.append,
        on_done=lambda t, res: done.append(t.key),
    )
    for t, res in zip(trials, got):
        _same_trial(res, train(cfg.override({"optim.lr": t.config.optim.lr, "loop.seed": t.seed})))
    epochs = [r.epochs_trained for r in got]
    assert epochs[0] == epochs[2] == 2 and min(epochs[1], epochs[3]) > 2
    assert stats[-1]["slot_epochs"] == stats[-1]["useful"] == sum(epochs)
    assert done[:2] == ["t0", "t2"]  # reported when they ended, not at the end


def test_large_models_at_small_batch_train_one_at_a_time_on_cpu(tiny):
    """On CPU at batch < 8 a population of hidden bucket > 64 (> 32 with an epoch in one
    program) is measured no faster per trial than one model at a time, so the queue runs
    such trials one after another."""
    small = tiny.override({"data.batch_size": 1, "model.hidden": 64})
    large = small.override({"model.hidden": 65})  # bucket 96
    assert default_slots(small, 8, backend="cpu") == 8
    assert default_slots(large, 8, backend="cpu") == 1
    assert default_slots(large.override({"data.batch_size": 8}), 8, backend="cpu") == 8
    assert default_slots(large, 8, backend="gpu") == 8
    one_program = {"data.pad_multiple": 0}  # an epoch in one program: no step overhead to share
    assert default_slots(small.override({**one_program, "model.hidden": 32}), 8, backend="cpu") == 8
    assert default_slots(small.override(one_program), 8, backend="cpu") == 1
    cfg = large.override({"loop.epochs": 2, "data.options": {**tiny.data.options, "num_train": 4}})
    trials = [Trial(cfg.override({"optim.lr": lr}), i, f"t{i}") for i, lr in enumerate([0.1, 0.2])]
    queue, seen, stats = list(trials), [], []
    run_queue(
        lambda: queue.pop(0) if queue else None,
        slots=8,
        on_epoch=lambda t, rec: seen.append(t.key),
        progress=stats.append,
    )
    assert seen == ["t0", "t0", "t1", "t1"] and stats[-1]["slot_epochs"] == 4


def test_a_population_moves_to_fewer_slots_when_that_pays_for_compiling():
    # first epoch 12 s (11 s of it compiling), then 1 s: halving saves 0.5 s an epoch
    assert not worth_moving([12.0, 1.0], 8, 4, epochs_left=8)  # 4 s saved < 11 s
    assert worth_moving([12.0, 1.0], 8, 4, epochs_left=30)  # 15 s > 11 s
    assert worth_moving([12.0, 1.0, 1.0], 8, 1, epochs_left=13)  # 0.875 s x 13 > 11 s
    assert not worth_moving([12.0], 8, 1, epochs_left=100)  # no steady epoch measured yet


def test_queue_refuses_another_structure(tiny):
    trials = [Trial(tiny, 0), Trial(tiny.override({"model.cell": "lstm"}), 1)]
    with pytest.raises(ValueError, match="share their structure"):
        run_queue(lambda: trials.pop(0) if trials else None, slots=2)


@pytest.mark.slow
def test_train_trials_groups_by_structure(tiny):
    trials = [
        Trial(tiny.override({"optim.lr": 0.3}), 0),
        Trial(tiny.override({"model.cell": "lstm", "optim.lr": 0.1}), 1),
        Trial(tiny.override({"optim.lr": 0.05}), 2),
    ]
    for t, res in zip(trials, train_trials(trials, strategy="map")):
        assert res.seed == t.seed
        _same_trial(res, train(t.config.override({"loop.seed": t.seed})))


@pytest.mark.slow
def test_population_on_a_dataset_equals_each_trial_alone():
    """Per-trial data order on a real dataset: every trial has its own batches."""
    from rnnlab.train import Config, DataConfig, LoopConfig, ModelConfig, OptimConfig

    cfg = Config(
        DataConfig("japanese_vowels", batch_size=32, pad_multiple=32),
        ModelConfig("lstm", 8),
        OptimConfig(name="adam"),
        LoopConfig(epochs=2, metric="error", progress=False),
    )
    lrs, seeds = np.array([3e-2, 1e-2], np.float32), [0, 3]
    pop = train_population(cfg, {"lr": lrs}, seeds, strategy="vmap")
    for i in range(2):
        one = train(cfg.override({"optim.lr": float(lrs[i]), "loop.seed": seeds[i]}))
        _same_trial(pop[i], one)
        _close(pop[i].test["error"], one.test["error"])


def test_padding_to_the_longest_gives_the_same_trials_from_one_program(tiny):
    """pad_multiple=0 pads every batch to the longest sequence; the recurrent loops stop at
    each step's longest, so the trials equal padding each batch to its own longest
    (pad_multiple=1, one program per length), with one compiled training step."""
    from rnnlab.train.population import Runner, group_for

    hp = {"lr": LRS, "momentum": MOMENTA, "noise_std": NOISE}
    options = {**tiny.data.options, "min_length": 2, "num_train": 8}
    runs, steps = {}, {}
    for pad in (0, 1):
        changes = {"data.pad_multiple": pad, "data.batch_size": 2, "data.options": options}
        cfg = tiny.override({**changes, "loop.epochs": 2})
        runs[pad] = train_population(cfg, hp, SEEDS, strategy="chunked", chunk_size=2)
        group = group_for(cfg, 4, Runner("chunked", 2))
        steps[pad] = (group.train_epoch_fn or group.train_step)._cache_size()
    for i in range(4):
        _same_trial(runs[0][i], runs[1][i])
    assert steps[0] == 1 < steps[1]  # pad 0: one program, the whole epoch's


CTC_DATA = {
    "data.name": "digits_ctc",
    "data.options": {"num_sequences": (16, 8, 8)},
    "data.batch_size": 4,
    "model.cell": "lstm",
}


@pytest.mark.parametrize(
    "strategy,slots,data",
    [("chunked", 4, {}), ("vmap", 4, {}), ("map", 1, {}), ("chunked", 2, CTC_DATA)],
    ids=["chunked", "vmap", "lone", "ctc-labels"],
)
def test_an_epoch_in_one_program_equals_a_dispatch_per_step(tiny, strategy, slots, data):
    """With every batch padded to the longest sequence an epoch runs as one ``lax.scan``
    over its steps: the same trials, bit for bit, as one compiled step per batch (frame
    targets, and CTC label sequences with their lengths)."""
    from rnnlab.train import population
    from rnnlab.train.population import Runner, group_for

    hp = {"lr": LRS[:slots], "momentum": MOMENTA[:slots], "noise_std": NOISE[:slots]}
    cfg = tiny.override({**data, "data.pad_multiple": 0, "loop.epochs": 2})
    runs = {}
    for scan in (True, False):
        population._GROUPS.clear()
        group = group_for(cfg, slots, Runner(strategy, 2))
        assert group.train_epoch_fn is not None
        if not scan:
            group.train_epoch_fn = None
        runs[scan] = train_population(cfg, hp, SEEDS[:slots], strategy=strategy, chunk_size=2)
    population._GROUPS.clear()
    for a, b in zip(runs[True], runs[False], strict=True):
        assert a.history == b.history and a.test == b.test
        jax.tree.map(np.testing.assert_array_equal, a.params, b.params)
