"""The lease queue in one process: enqueue is idempotent, claims are leased, stale trials are
requeued with the same config and seed, late results are dropped, the study is recorded."""

from __future__ import annotations

import json
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import optuna
import pytest
from optuna.trial import TrialState

from rnnlab.sweep import Worker, experiment, plan, prepare, resolve
from rnnlab.sweep.lease import LEASE_ATTR, Queue
from rnnlab.sweep.storage import ATTR, StorageError
from rnnlab.sweep.testing import fake_run_queue
from tests.sweep._checks import check_finished, per_trial_numbers
from tests.sweep.conftest import EXPERIMENT


@pytest.fixture
def sweep():
    s, _ = experiment.load(EXPERIMENT, "smoke")
    return s


@pytest.fixture(params=["sqlite", "journal"])
def spec(request, tmp_path):
    if request.param == "sqlite":
        return resolve(str(tmp_path / "study.db"), "s")
    return resolve(str(tmp_path / "study.journal"), "s")


@pytest.fixture
def sqlite_spec(tmp_path):
    return resolve(str(tmp_path / "study.db"), "s")


def _planned(sweep):
    return plan(sweep.config_dict(), sweep.space, sweep.trials, sweep.seed)


def test_prepare_records_the_study_and_enqueues_once(spec, sweep):
    prep = prepare(spec, sweep, "s")
    assert prep.report.added == 12 and not prep.resumed
    attrs = prep.queue.study.user_attrs[ATTR]
    assert set(attrs) >= {"config", "space", "config_hash", "versions", "git", "seed", "metric"}
    assert attrs["space"]["lr"] == {
        "kind": "log_uniform",
        "low": 1e-6,
        "high": 1e-2,
        "target": "optim.lr",
    }
    again = prepare(spec, sweep, "s")
    assert again.resumed and again.report.added == 0 and again.report.live == 12
    trials = again.queue.trials()
    assert len(trials) == 12
    assert all(t.state == TrialState.WAITING for t in trials)
    assert trials[0].distributions["lr"] == sweep.space.distributions()["lr"]


def test_resume_with_a_changed_config_or_space_is_refused(sqlite_spec, sweep):
    prepare(sqlite_spec, sweep, "s")
    changed = experiment.apply_sets(sweep, ["loop.epochs=9"])
    with pytest.raises(StorageError) as e:
        prepare(sqlite_spec, changed, "s")
    msg = str(e.value)
    assert "\n" not in msg and "config.loop.epochs: 4 -> 9" in msg
    from rnnlab.sweep import Param

    narrower = type(sweep)(
        sweep.config,
        sweep.space.override(lr=Param("lr", "log_uniform", 1e-5, 1e-2, target="optim.lr")),
        sweep.trials,
        sweep.seed,
        sweep.slots,
    )
    with pytest.raises(StorageError, match=r"space\.lr\.low: 1e-06 -> 1e-05"):
        prepare(sqlite_spec, narrower, "s")
    with pytest.raises(StorageError, match="only grow"):
        prepare(sqlite_spec, experiment.apply_sets(sweep, [], trials=5), "s")
    grown = prepare(sqlite_spec, experiment.apply_sets(sweep, [], trials=15), "s")
    assert grown.report.added == 3


def test_worker_runs_the_study_to_the_planned_end(sqlite_spec, sweep, tmp_path):
    prep = prepare(sqlite_spec, sweep, "s")
    stats = Worker(prep.queue, fake_run_queue, slots=3, run_dir=sqlite_spec.run_dir).run()
    trials = prep.queue.trials()
    check_finished(trials, _planned(sweep))
    assert stats.completed == 12 and stats.dropped == 0
    t = next(t for t in trials if t.state == TrialState.COMPLETE)
    ua = t.user_attrs
    assert set(ua) >= {
        "key",
        "seed",
        "test",
        "valid",
        "diverged",
        "seconds",
        "epochs_trained",
        "best_epoch",
        "checkpoint",
    }
    assert len(t.intermediate_values) == ua["epochs_trained"]
    assert t.value == min(t.intermediate_values.values())
    assert os.path.exists(os.path.join(sqlite_spec.run_dir, ua["checkpoint"], "params.npz"))
    with open(os.path.join(sqlite_spec.run_dir, ua["checkpoint"], "config.json")) as f:
        cfg = json.load(f)
    assert cfg == ua["config"]
    # finished trials are never rerun
    again = prepare(sqlite_spec, sweep, "s")
    assert again.report.added == 0 and again.report.done == 12


def test_a_stale_lease_is_failed_and_requeued_with_the_same_config(spec, sweep):
    prep = prepare(spec, sweep, "s", lease_seconds=0.5)
    q = prep.queue
    t = q.claim_next()
    assert t is not None
    lease = q.storage.get_trial(t._trial_id).system_attrs[LEASE_ATTR]
    assert lease["owner"] == q.owner
    # another worker sees our lease live, then expired
    other = Queue(spec, q.storage, "s", lease_seconds=0.5)
    assert other.reap() == []
    time.sleep(0.7)
    assert other.reap() == [t.number]
    old = q.storage.get_trial(t._trial_id)
    assert old.state == TrialState.FAIL and old.user_attrs["stale"] is True
    copies = [u for u in q.trials() if u.user_attrs["key"] == t.user_attrs["key"]]
    assert len(copies) == 2
    new = next(u for u in copies if u.state == TrialState.WAITING)
    assert new.params == t.params and new.user_attrs["seed"] == t.user_attrs["seed"]
    assert new.user_attrs["retry_of"] == t.number
    # the late result of the reaped trial is dropped
    assert not q.finish(t._trial_id, TrialState.COMPLETE, 1.0, {})
    # reaping twice adds nothing
    assert other.reap() == []
    assert len([u for u in q.trials() if u.user_attrs["key"] == t.user_attrs["key"]]) == 2


def test_workers_start_on_different_program_groups(spec, sweep):
    """A claim takes the first waiting trial of a group no worker runs (so two workers compile
    different programs), falling back to a running group when all others are done."""
    q = prepare(spec, sweep, "s").queue
    groups = [t.user_attrs["group"] for t in sorted(q.trials(), key=lambda t: t.number)]
    first = q.claim_next().user_attrs["group"]
    assert first == groups[0]
    other = Queue(spec, q.storage, "s")
    second = other.claim_next().user_attrs["group"]
    assert second != first and second == next(g for g in groups if g != first)
    for u in q.trials((TrialState.WAITING,)):
        if u.user_attrs["group"] != first:
            q.storage.set_trial_state_values(u._trial_id, TrialState.COMPLETE, [1.0])
    assert other.claim_next().user_attrs["group"] == first  # only the running group is left


def test_workers_claiming_at_the_same_moment_take_different_groups(spec, sweep):
    """Choosing the group and claiming its trial is one locked step: workers that start
    together never both take the first group."""
    q = prepare(spec, sweep, "s").queue
    queues = [Queue(spec, q.storage, "s") for _ in range(4)]
    barrier = threading.Barrier(len(queues))

    def claim(queue):
        barrier.wait()
        return queue.claim_next().user_attrs["group"]

    with ThreadPoolExecutor(len(queues)) as pool:
        taken = list(pool.map(claim, queues))
    n_groups = len({t.user_attrs["group"] for t in q.trials()})
    assert len(set(taken)) == min(len(queues), n_groups), taken


def test_a_dead_owner_on_this_host_is_reaped_at_once(sqlite_spec, sweep):
    prep = prepare(sqlite_spec, sweep, "s", lease_seconds=600)
    q = prep.queue
    t = q.claim_next()
    host = q.owner.rsplit(":", 2)[0]
    q.storage.set_trial_system_attr(
        t._trial_id, LEASE_ATTR, {"owner": f"{host}:999999:1", "until": time.time() + 600}
    )
    assert q.reap() == [t.number]


def test_error_and_interrupt_are_recorded(sqlite_spec, sweep):
    prep = prepare(sqlite_spec, sweep, "s")

    def broken(next_trial, **kwargs):
        next_trial()
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError):
        Worker(prep.queue, broken, max_executor_errors=2).run()
    failed = [t for t in prep.queue.trials() if t.state == TrialState.FAIL]
    assert len(failed) == 2
    assert all(t.user_attrs["error"] == "RuntimeError: out of memory" for t in failed)
    # the next run enqueues them again (up to max_attempts)
    again = prepare(sqlite_spec, sweep, "s")
    assert again.report.added == 2

    def interrupted(next_trial, **kwargs):
        next_trial()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Worker(again.queue, interrupted).run()
    assert not again.queue.trials((TrialState.RUNNING,))
    requeued = [t for t in again.queue.trials() if t.user_attrs.get("stale")]
    assert len(requeued) == 1


def test_diverged_trials_are_recorded_not_rerun(tmp_path, sweep):
    hot = experiment.apply_sets(sweep, [])
    from rnnlab.sweep import Param

    hot = type(sweep)(
        hot.config,
        hot.space.override(lr=Param("lr", "log_uniform", 6e-3, 1e-2, target="optim.lr")),
        12,
        0,
        3,
    )
    spec = resolve(str(tmp_path / "hot.db"), "h")
    prep = prepare(spec, hot, "h")
    Worker(prep.queue, fake_run_queue, slots=4).run()
    trials = prep.queue.trials()
    check_finished(trials, plan(hot.config_dict(), hot.space, 12, 0))
    diverged = [t for t in trials if t.user_attrs.get("diverged")]
    assert diverged
    assert any(t.state == TrialState.FAIL for t in diverged) or all(
        math.isfinite(t.value) for t in diverged
    )
    assert prepare(spec, hot, "h").report.added == 0


def test_in_process_numbers_do_not_depend_on_slots(tmp_path, sweep):
    out = []
    for slots in (1, 5):
        spec = resolve(str(tmp_path / f"s{slots}.db"), "s")
        prep = prepare(spec, sweep, "s")
        Worker(prep.queue, fake_run_queue, slots=slots).run()
        out.append(per_trial_numbers(prep.queue.trials()))
    assert out[0] == out[1] and len(out[0]) == 12


def test_study_attrs_survive_for_analysis(sqlite_spec, sweep):
    prep = prepare(sqlite_spec, sweep, "s")
    s = optuna.load_study(study_name="s", storage=prep.queue.storage)
    assert s.direction == optuna.study.StudyDirection.MINIMIZE
    assert s.user_attrs[ATTR]["dataset"] == "sine"
