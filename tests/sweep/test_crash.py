"""kill -9 at random moments, then a rerun: exactly the planned trials done, none twice,
nothing RUNNING; on SQLite and the journal file with 2 workers, and on a real PostgreSQL.
Also: 1 and 2 worker processes give the same per-trial numbers."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest
from optuna.trial import TrialState

from rnnlab.sweep import experiment, plan, prepare, resolve
from rnnlab.sweep.run import start_workers
from tests.sweep._checks import check_finished, per_trial_numbers
from tests.sweep.conftest import EXPERIMENT, FAKE

LEASE = 3.0  # seconds; dead workers on this host are noticed at once anyway


def _sweep():
    s, _ = experiment.load(EXPERIMENT, "smoke")
    return s


def _wait(procs, timeout=120):
    end = time.monotonic() + timeout
    for p in procs:
        p.wait(timeout=max(1, end - time.monotonic()))
    return [p.returncode for p in procs]


def _running(queue, procs, timeout=60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if queue.trials((TrialState.RUNNING,)):
            return True
        if all(p.poll() is not None for p in procs):
            return False
        time.sleep(0.02)
    return False


def kill_and_rerun(spec, env, *, seed=0):
    """Start 2 workers; once training is under way SIGKILL one at a random moment, then the
    other at another (the survivor has taken over by then, or is mid-claim, mid-tell, ...);
    then rerun the study to its end and check it."""
    rng = random.Random(seed)
    sweep = _sweep()
    prep = prepare(spec, sweep, "k", lease_seconds=LEASE)
    procs = start_workers(spec, "k", 2, executor=FAKE, slots=3, lease_seconds=LEASE, env=env)
    assert _running(prep.queue, procs)
    order = rng.sample(procs, 2)
    for p in order:
        time.sleep(rng.uniform(0.0, 0.8))
        os.kill(p.pid, signal.SIGKILL)
    assert _wait(procs) == [-9, -9]
    left = [t for t in prep.queue.trials() if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    # the rerun: the same command again (prepare reaps and enqueues), workers to the end
    again = prepare(spec, sweep, "k", lease_seconds=LEASE)
    procs = start_workers(spec, "k", 2, executor=FAKE, slots=3, lease_seconds=LEASE, env=env)
    assert _wait(procs) == [0, 0]
    trials = again.queue.trials()
    prep.queue.close()
    again.queue.close()
    check_finished(trials, plan(sweep.config_dict(), sweep.space, sweep.trials, sweep.seed))
    return trials, left


@pytest.mark.parametrize(
    "kind",
    # the journal shares SQLite's code path above the storage; slow only to keep the fast set short
    ["study.db", pytest.param("study.journal", marks=pytest.mark.slow)],
)
def test_kill_9_then_rerun_sqlite_and_journal(kind, tmp_path, worker_env):
    spec = resolve(str(tmp_path / kind), "k")
    trials, left = kill_and_rerun(spec, worker_env, seed=len(kind))
    assert left, "the kills left no work for the rerun"
    assert len(trials) >= 12


def test_kill_9_then_rerun_postgresql(pg_database, tmp_path, worker_env):
    spec = resolve(pg_database, "k", str(tmp_path / "run"))
    kill_and_rerun(spec, worker_env, seed=5)


@pytest.mark.slow
def test_one_and_two_worker_processes_give_the_same_numbers(tmp_path, worker_env):
    sweep = _sweep()
    numbers = []
    for k in (1, 2):
        spec = resolve(str(tmp_path / f"w{k}.db"), "w")
        prep = prepare(spec, sweep, "w")
        procs = start_workers(spec, "w", k, executor=FAKE, slots=3, env=worker_env)
        assert _wait(procs) == [0] * k
        trials = prep.queue.trials()
        check_finished(trials, plan(sweep.config_dict(), sweep.space, sweep.trials, sweep.seed))
        numbers.append(per_trial_numbers(trials))
    assert numbers[0] == numbers[1]
