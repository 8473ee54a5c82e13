"""Run a sweep: prepare the study from one process, then train with worker processes.

``prepare`` creates the study (or loads it and refuses a different config, space, seed or
sampler), records what it was planned from, reaps trials left by dead workers and enqueues
the trials not yet done: the whole plan in random mode, only failed trials' next attempts in
adaptive mode (TPE or QMC, whose workers propose the rest, ``rnnlab.sweep.adaptive``).
``run_sweep`` then starts the workers (``rnnlab.sweep.devices``: K single-threaded processes
on CPU, the measured best layout there, one per core; one per device on GPU) and shows live
progress until they are done; more ``rnnlab sweep`` commands on other machines join the same
study on a PostgreSQL URL. Random search is planned, so the same study seed gives the same
trials and, per trial, the same numbers with 1 or K workers; adaptive search is not
reproducible across worker counts or restarts.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from rnnlab.sweep import adaptive, display, engine
from rnnlab.sweep.devices import cache_folder, compile_cache_env, detect, worker_envs
from rnnlab.sweep.experiment import Sweep
from rnnlab.sweep.lease import EnqueueReport, Queue
from rnnlab.sweep.plan import plan
from rnnlab.sweep.storage import (
    ATTR,
    StorageError,
    StorageSpec,
    check_resume,
    config_hash,
    git_revision,
    open_storage,
    versions,
)
from rnnlab.sweep.worker import STORAGE_ENV, worker_command


@dataclasses.dataclass
class Prepared:
    queue: Queue
    planned: int
    report: EnqueueReport
    resumed: bool


def study_record(sweep: Sweep) -> dict[str, Any]:
    """``study.user_attrs["rnnlab"]`` for a new study planned from ``sweep``."""
    config, space = engine.normalize(sweep.config_dict()), sweep.space.to_dict()
    return {
        "config": config,
        "space": space,
        "seed": sweep.seed,
        "trials": sweep.trials,
        "sampler": sweep.sampler,
        "config_hash": config_hash(config, space, sweep.seed),
        "metric": sweep.metric(),
        "test_metric": sweep.metric(),
        "dataset": sweep.dataset(),
        "versions": versions(),
        "git": git_revision(),
    }


def prepare(
    spec: StorageSpec,
    sweep: Sweep,
    study_name: str,
    *,
    lease_seconds: float = 120.0,
    max_attempts: int = 3,
) -> Prepared:
    """Create or resume the study and enqueue its planned trials (see module docstring)."""
    import optuna

    storage = open_storage(spec)
    record = study_record(sweep)
    try:
        study = optuna.create_study(
            storage=storage, study_name=study_name, direction="minimize", load_if_exists=True
        )
    except Exception as e:
        raise StorageError(f"cannot create study {study_name!r}: {e}") from None
    queue = Queue(spec, storage, study_name, lease_seconds=lease_seconds)
    with queue.lock():
        recorded = storage.get_study_user_attrs(study._study_id).get(ATTR)
        resumed = recorded is not None
        if recorded is None:
            storage.set_study_user_attr(study._study_id, ATTR, record)
        else:
            check_resume(recorded, record, study_name)
            if sweep.trials < recorded.get("trials", 0):
                raise StorageError(
                    f"study {study_name!r} has {recorded['trials']} planned trials; --trials can "
                    f"only grow it (got {sweep.trials})."
                )
            if sweep.trials != recorded.get("trials"):
                storage.set_study_user_attr(
                    study._study_id, ATTR, {**recorded, "trials": sweep.trials}
                )
    queue.reap()
    if sweep.sampler == "random":
        to_enqueue = plan(record["config"], sweep.space, sweep.trials, sweep.seed)
    else:  # proposed by the workers; failed ones get another attempt, as planned ones do
        to_enqueue = adaptive.proposed(queue, sweep.space)
    report = queue.enqueue(to_enqueue, sweep.space.distributions(), max_attempts=max_attempts)
    return Prepared(queue, sweep.trials, report, resumed)


def start_workers(
    spec: StorageSpec,
    study_name: str,
    workers: int | None,
    *,
    executor: str | None = None,
    slots: int = 8,
    lease_seconds: float = 120.0,
    env: dict[str, str] | None = None,
    log_dir: str | None = None,
    backend: str = "cpu",
    devices: Sequence[str] = (),
    wandb: bool = False,
    compile_cache: str | None = None,
) -> list[subprocess.Popen]:
    """Start worker processes on the study: ``workers`` (None: the default of ``backend``)
    laid out by ``rnnlab.sweep.devices.worker_envs`` (one per GPU, single-threaded CPU),
    sharing the compilation cache folder ``compile_cache`` (None: none)."""
    base = compile_cache_env(dict(os.environ if env is None else env), compile_cache)
    base[STORAGE_ENV] = spec.url
    cmd = worker_command(
        study_name,
        executor=executor,
        slots=slots,
        run_dir=spec.run_dir,
        lease_seconds=lease_seconds,
        wandb=wandb,
    )
    procs = []
    for i, worker_env in enumerate(worker_envs(workers, backend, devices, base)):
        if not log_dir:
            procs.append(subprocess.Popen(cmd, env=worker_env))
            continue
        os.makedirs(log_dir, exist_ok=True)
        with open(os.path.join(log_dir, f"worker{i}.log"), "ab") as log:
            procs.append(subprocess.Popen(cmd, env=worker_env, stdout=log, stderr=log))
    return procs


def run_sweep(
    spec: StorageSpec,
    sweep: Sweep,
    study_name: str,
    *,
    workers: int | None = 1,
    executor: str | None = None,
    lease_seconds: float = 120.0,
    progress: bool = True,
    out: Callable[[str], None] | None = None,
    devices: str | None = None,
    wandb: bool = False,
    compile_cache: bool | str = True,
) -> dict[str, Any]:
    """Prepare the study, run the worker processes to the end, return the final summary.
    ``workers`` None: one per GPU (``devices``: ids to use, e.g. "0,1"), else 1.
    ``compile_cache``: the workers' compilation cache folder (True: this user's, a path: that
    folder, False: none)."""
    out = out or (lambda s: print(s, flush=True))
    backend, device_ids = detect(devices)
    prep = prepare(spec, sweep, study_name, lease_seconds=lease_seconds)
    r = prep.report
    verb = "resumed" if prep.resumed else "created"
    how = "planned" if sweep.sampler == "random" else f"to propose with {sweep.sampler}"
    out(
        f"study {study_name!r} {verb} in {spec.display}: {prep.planned} {how}, {r.done} done, "
        f"{r.added} enqueued, {r.live} queued or running"
        + (f", {r.given_up} given up after repeated errors" if r.given_up else "")
    )
    if backend == "gpu":
        out(f"workers on GPU devices {', '.join(device_ids)} (one per device unless --workers)")
    procs = start_workers(
        spec,
        study_name,
        workers,
        executor=executor,
        slots=sweep.slots,
        lease_seconds=lease_seconds,
        log_dir=os.path.join(spec.run_dir, "logs"),
        backend=backend,
        devices=device_ids,
        wandb=wandb,
        compile_cache=cache_folder(compile_cache),
    )
    live = display.Live(prep.planned, enabled=progress)
    try:
        while any(p.poll() is None for p in procs):
            start = time.monotonic()
            live.update(prep.queue.summary())
            deadline = time.monotonic() + live.wait(time.monotonic() - start)
            for p in procs:
                try:
                    p.wait(timeout=max(0.05, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
    except KeyboardInterrupt:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        raise
    summary = prep.queue.summary()
    prep.queue.close()
    live.finish(summary)
    summary["worker_exit_codes"] = [p.returncode for p in procs]
    if any(p.returncode for p in procs):
        log = os.path.join(spec.run_dir, "logs")
        print(
            f"rnnlab sweep: {sum(1 for p in procs if p.returncode)} worker(s) failed; see {log}",
            file=sys.stderr,
        )
    return summary
