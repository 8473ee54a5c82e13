"""The sweep on the real trial engine (rnnlab.train.run_queue): a tiny sine study of CIFG
LSTMs, 2 epochs, 3 trials in 2 slots (so a freed slot is refilled)."""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import pytest
from optuna.trial import TrialState

from rnnlab.sweep import Param, Worker, experiment, prepare, resolve
from rnnlab.sweep.run import start_workers
from tests.sweep._checks import per_trial_numbers
from tests.sweep.conftest import EXPERIMENT


def _tiny():
    sweep, _ = experiment.load(EXPERIMENT, "small")
    space = sweep.space.override(
        hidden=Param("hidden", "log_int", 20, 24, target="model.hidden"),  # one bucket
        lr=Param("lr", "log_uniform", 1e-3, 1e-2, target="optim.lr"),
    )
    space = dataclasses.replace(
        space, cross=(dataclasses.replace(space.cross[0], choices=("CIFG",)),)
    )
    sweep = experiment.apply_sets(sweep, ["loop.epochs=2"])
    return dataclasses.replace(sweep, space=space, trials=3, slots=2)


def test_real_engine_end_to_end(tmp_path):
    sweep = _tiny()
    spec = resolve(str(tmp_path / "study.db"), "real")
    prep = prepare(spec, sweep, "real")
    stats = Worker(prep.queue, slots=sweep.slots, run_dir=spec.run_dir).run()
    trials = prep.queue.trials()
    assert stats.completed == 3
    assert all(t.state == TrialState.COMPLETE for t in trials) and len(trials) == 3
    for t in trials:
        ua = t.user_attrs
        assert math.isfinite(t.value) and t.value == pytest.approx(ua["valid"]["loss"])
        assert "loss" in ua["test"] and ua["epochs_trained"] >= 1
        assert len(t.intermediate_values) == ua["epochs_trained"]
        assert min(t.intermediate_values.values()) == pytest.approx(t.value)
        ckpt = np.load(os.path.join(spec.run_dir, ua["checkpoint"], "params.npz"))
        assert len(ckpt.files) > 0
    prep.queue.close()


@pytest.mark.slow
def test_real_engine_one_and_two_workers_agree(tmp_path, worker_env):
    """Also across the compilation cache: the one worker fills it, the two load from it."""
    sweep = _tiny()
    cache = str(tmp_path / "xla-cache")
    out = []
    for k in (1, 2):
        spec = resolve(str(tmp_path / f"w{k}.db"), "real")
        prep = prepare(spec, sweep, "real")
        procs = start_workers(
            spec, "real", k, slots=sweep.slots, env=worker_env, compile_cache=cache
        )
        for p in procs:
            assert p.wait(timeout=600) == 0
        out.append(per_trial_numbers(prep.queue.trials()))
        prep.queue.close()
        assert len(os.listdir(cache)) > 0
    assert len(out[0]) == 3
    for key, (value, curve, test) in out[0].items():
        v2, c2, t2 = out[1][key]
        assert value == pytest.approx(v2, rel=1e-6)
        assert curve == pytest.approx(c2, rel=1e-6)
        assert test == pytest.approx(t2, rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["odyssey_jsb", "odyssey_vowels", "odyssey_digits_ctc"])
def test_odyssey_smoke_presets_train(name, tmp_path):
    from tests.sweep.conftest import ROOT

    sweep, _ = experiment.load(os.path.join(ROOT, "experiments", f"{name}.py"), "smoke")
    spec = resolve(str(tmp_path / "study.db"), name)
    prep = prepare(spec, sweep, name)
    Worker(prep.queue, slots=sweep.slots, run_dir=spec.run_dir).run()
    trials = prep.queue.trials()
    prep.queue.close()
    assert len(trials) == sweep.trials
    assert all(t.state == TrialState.COMPLETE or t.user_attrs.get("diverged") for t in trials)
