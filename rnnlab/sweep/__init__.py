"""Sweeps: Odyssey-style searches as Optuna studies, planned up front (random search) or
proposed as results come in (TPE, QMC), trained as populations, safe under kill -9 and shared
by many workers (SQLite, journal or PostgreSQL).

    space.py      search spaces as data; the Odyssey preset
    plan.py       every trial's config, content key and seed, from the study seed
    adaptive.py   TPE or QMC proposing trials from the study's results (not reproducible)
    storage.py    storage URLs, redaction, the study lock, the recorded study identity
    lease.py      rnnlab's queue: enqueue, claim under a lease, finish, reap stale trials
    worker.py     claims trials of one program group and trains them with an executor
    tracking.py   one W&B run per trial, grouped by study
    devices.py    which workers to start: one per GPU, or single-threaded CPU workers
    run.py        prepare (plan + enqueue), the worker processes, live display
    engine.py     the trial engine's contract (rnnlab.train)
    experiment.py experiment files' get_sweep(preset) and --set changes
    export.py     a study as CSV/Parquet
    testing.py    a fast stand-in executor with deterministic curves
    cli.py        ``rnnlab sweep`` and ``rnnlab study``
"""

from rnnlab.sweep.adaptive import SAMPLERS, Proposer
from rnnlab.sweep.devices import worker_envs
from rnnlab.sweep.experiment import Sweep
from rnnlab.sweep.lease import Queue, summarize
from rnnlab.sweep.plan import PlannedTrial, content_key, plan, seed_from_key
from rnnlab.sweep.run import prepare, run_sweep
from rnnlab.sweep.space import ODYSSEY_OPTIM, VARIANTS, Param, Space, odyssey
from rnnlab.sweep.storage import StorageError, redact, resolve
from rnnlab.sweep.worker import Worker

__all__ = [
    "ODYSSEY_OPTIM",
    "SAMPLERS",
    "VARIANTS",
    "Param",
    "PlannedTrial",
    "Proposer",
    "Queue",
    "Space",
    "StorageError",
    "Sweep",
    "Worker",
    "content_key",
    "odyssey",
    "plan",
    "prepare",
    "redact",
    "resolve",
    "run_sweep",
    "seed_from_key",
    "summarize",
    "worker_envs",
]
