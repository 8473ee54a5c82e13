"""Adaptive studies (TPE, QMC): exactly the requested trials, an even share per variant, no
content key twice, safe under kill -9, the sampler recorded and kept, and the samplers do what
they are for (TPE closes in on a known optimum; QMC stratifies each cell)."""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import signal
import time

import numpy as np
import pytest
from optuna.trial import TrialState

from rnnlab.cli import main
from rnnlab.sweep import Param, Space, Sweep, Worker, experiment, plan, prepare, resolve
from rnnlab.sweep.run import start_workers
from rnnlab.sweep.storage import ATTR, StorageError
from rnnlab.sweep.testing import bowl_curve, fake_run_queue
from tests.sweep._checks import check_proposed
from tests.sweep.conftest import EXPERIMENT, FAKE
from tests.sweep.fake_experiment import base_config

THIRDS = {"V": 4, "NIG": 4, "CIFG": 4}


def _sweep(sampler: str, preset: str = "smoke") -> Sweep:
    s, _ = experiment.load(EXPERIMENT, preset)
    return dataclasses.replace(s, sampler=sampler)


@pytest.fixture
def quick_epochs(monkeypatch):
    monkeypatch.setenv("RNNLAB_FAKE_EPOCH_SECONDS", "0")


@pytest.mark.parametrize("sampler", ["tpe", "qmc"])
def test_adaptive_study_ends_with_exactly_the_requested_trials(sampler, tmp_path, quick_epochs):
    spec = resolve(str(tmp_path / "study.db"), "a")
    prep = prepare(spec, _sweep(sampler), "a")
    assert prep.report.added == 0 and prep.planned == 12  # nothing is planned up front
    assert prep.queue.study.user_attrs[ATTR]["sampler"] == sampler
    stats = Worker(prep.queue, fake_run_queue, slots=3).run()
    assert stats.completed == 12 and stats.dropped == 0
    check_proposed(prep.queue.trials(), 12, sampler, THIRDS)
    # running it again proposes nothing; growing it proposes only the new share
    again = prepare(spec, _sweep(sampler), "a")
    assert again.resumed and again.report.done == 12 and again.report.added == 0
    assert Worker(again.queue, fake_run_queue, slots=3).run().completed == 0
    grown = prepare(spec, experiment.apply_sets(_sweep(sampler), [], trials=15), "a")
    Worker(grown.queue, fake_run_queue, slots=3).run()
    check_proposed(grown.queue.trials(), 15, sampler, {"V": 5, "NIG": 5, "CIFG": 5})


def test_the_sampler_is_kept_for_the_life_of_a_study(tmp_path, capsys):
    for first, then in (("random", "tpe"), ("qmc", "random"), ("tpe", "qmc")):
        spec = resolve(str(tmp_path / f"{first}.db"), "m")
        prepare(spec, _sweep(first), "m")
        with pytest.raises(StorageError) as e:
            prepare(spec, _sweep(then), "m")
        msg = str(e.value)
        assert "\n" not in msg and f"--sampler {first}, not {then}" in msg
    # the command: one line, exit 2, before any worker starts
    db = str(tmp_path / "random.db")
    argv = ["sweep", EXPERIMENT, "--storage", db, "--study", "m", "--executor", FAKE]
    assert main([*argv, "--sampler", "tpe", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "was run with --sampler random, not tpe" in err[0]
    assert main([*argv, "--sampler", "bayes"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "rnnlab sweep: error: unknown sampler 'bayes'; use --sampler random, tpe or qmc."
    ]


def test_a_failed_proposed_trial_gets_another_attempt_with_the_same_key(tmp_path, quick_epochs):
    spec = resolve(str(tmp_path / "study.db"), "f")
    prep = prepare(spec, _sweep("tpe"), "f")

    def broken(next_trial, **kwargs):
        next_trial()
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError):
        Worker(prep.queue, broken, slots=3, max_executor_errors=1).run()
    failed = [t for t in prep.queue.trials() if t.state == TrialState.FAIL]
    assert len(failed) == 1
    again = prepare(spec, _sweep("tpe"), "f")
    assert again.report.added == 1
    waiting = again.queue.trials((TrialState.WAITING,))  # the other two proposals wait too
    assert len(waiting) == 3
    retry = [t for t in waiting if t.user_attrs["key"] == failed[0].user_attrs["key"]]
    assert len(retry) == 1 and retry[0].params == failed[0].params
    assert retry[0].user_attrs["attempt"] == 2
    Worker(again.queue, fake_run_queue, slots=3).run()
    check_proposed(again.queue.trials(), 12, "tpe", THIRDS)


def test_kill_9_then_rerun_loses_nothing_and_duplicates_nothing(tmp_path, worker_env):
    spec = resolve(str(tmp_path / "study.db"), "k")
    sweep = _sweep("tpe")
    prep = prepare(spec, sweep, "k", lease_seconds=3.0)
    procs = start_workers(spec, "k", 2, executor=FAKE, slots=3, lease_seconds=3.0, env=worker_env)
    end = time.monotonic() + 60
    while not prep.queue.trials((TrialState.RUNNING,)) and time.monotonic() < end:
        time.sleep(0.02)
    time.sleep(0.3)
    os.kill(procs[0].pid, signal.SIGKILL)
    time.sleep(0.4)
    os.kill(procs[1].pid, signal.SIGKILL)
    assert [p.wait(timeout=60) for p in procs] == [-9, -9]
    left = prep.queue.trials((TrialState.RUNNING, TrialState.WAITING))
    assert left, "the kills left no work for the rerun"
    again = prepare(spec, sweep, "k", lease_seconds=3.0)
    procs = start_workers(spec, "k", 2, executor=FAKE, slots=3, lease_seconds=3.0, env=worker_env)
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    check_proposed(again.queue.trials(), 12, "tpe", THIRDS)
    prep.queue.close()
    again.queue.close()


def _one_cell_space() -> Space:
    return Space(
        params=(
            Param("lr", "log_uniform", 1e-6, 1e-2, target="optim.lr"),
            Param("hidden", "log_int", 20, 200, target="model.hidden"),
            Param("momentum", "one_minus_log_uniform", 0.01, 1.0, target="optim.momentum"),
        )
    )


def _distance(lrs) -> float:
    """Mean |log10 lr + 3|: how far from the bowl's optimum lr = 1e-3 (decades)."""
    return float(np.mean([abs(math.log10(x) + 3.0) for x in lrs]))


def test_tpe_closes_in_on_a_known_optimum_random_does_not(tmp_path, quick_epochs):
    """On (log10 lr + 3)^2, TPE's last 20 of 40 trials (one at a time) are on average within
    half a decade of lr = 1e-3 (measured 0.31-0.54 over seeds 0-9), while random search's
    40 trials average about 1.25 decades away (measured 0.89-1.67)."""
    config = {**base_config(), "loop": {**base_config()["loop"], "epochs": 1}}
    bowl = functools.partial(fake_run_queue, curve_fn=bowl_curve)
    tpe, rnd = [], []
    for seed in (0, 1):
        sweep = Sweep(config, _one_cell_space(), 40, seed=seed, slots=1, sampler="tpe")
        spec = resolve(str(tmp_path / f"tpe{seed}.db"), "t")
        prep = prepare(spec, sweep, "t")
        Worker(prep.queue, bowl, slots=1).run()
        trials = sorted(prep.queue.trials(), key=lambda t: t.user_attrs["order"])
        assert len(trials) == 40 and all(t.state == TrialState.COMPLETE for t in trials)
        assert all(t.value == (math.log10(t.params["lr"]) + 3) ** 2 for t in trials)
        tpe.append(_distance([t.params["lr"] for t in trials[20:]]))
        rnd.append(_distance([p.params["lr"] for p in plan(config, sweep.space, 40, seed)]))
        prep.queue.close()
    for t, r in zip(tpe, rnd):
        assert t < 0.7 * r, (tpe, rnd)
    assert np.mean(tpe) < 0.6 and np.mean(rnd) > 0.9, (tpe, rnd)


def test_qmc_stratifies_each_cell_in_the_sampling_space(tmp_path, quick_epochs):
    """16 scrambled-Sobol points per cell put exactly one point in each sixteenth of every
    sampled range, measured where the Odyssey samples: log10 lr, log10(1 - momentum), the
    noise std (random search leaves gaps and pile-ups)."""
    space = Space(
        params=(
            *_one_cell_space().params,
            Param("noise", "uniform", 0.0, 1.0, target="optim.noise_std"),
        ),
        cross=(
            Param(
                "variant", "categorical", choices=("V", "CIFG"), target="model.cell_options.variant"
            ),
        ),
    )
    sweep = Sweep(base_config(), space, 32, seed=3, slots=4, sampler="qmc")
    spec = resolve(str(tmp_path / "qmc.db"), "q")
    prep = prepare(spec, sweep, "q")
    Worker(prep.queue, fake_run_queue, slots=4).run()
    trials = prep.queue.trials()
    check_proposed(trials, 32, "qmc", {"V": 16, "CIFG": 16})
    for variant in ("V", "CIFG"):
        cell = [t.params for t in trials if t.params["variant"] == variant]
        units = {
            "lr": [(math.log10(p["lr"]) + 6) / 4 for p in cell],
            "momentum": [-math.log10(1 - p["momentum"]) / 2 for p in cell],
            "noise": [p["noise"] for p in cell],
        }
        for name, u in units.items():
            counts = np.histogram(u, bins=16, range=(0.0, 1.0))[0]
            assert counts.tolist() == [1] * 16, (variant, name, counts)
    prep.queue.close()
