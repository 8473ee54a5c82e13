"""Sweeps: Odyssey-style random searches as Optuna studies, planned up front, trained as
populations, safe under kill -9 and shared by many workers (SQLite, journal or PostgreSQL).

    space.py      search spaces as data; the Odyssey preset
    plan.py       every trial's config, content key and seed, from the study seed
    storage.py    storage URLs, redaction, the study lock, the recorded study identity
    lease.py      rnnlab's queue: enqueue, claim under a lease, finish, reap stale trials
    worker.py     claims trials of one program group and trains them with an executor
    run.py        plan + enqueue, K worker processes, live display
    experiment.py experiment files' get_sweep(preset) and --set changes
    export.py     a study as CSV/Parquet
    testing.py    a fast stand-in executor with deterministic curves
    cli.py        ``rnnlab sweep`` and ``rnnlab study``
"""

from rnnlab.sweep.experiment import Sweep
from rnnlab.sweep.lease import Queue, summarize
from rnnlab.sweep.plan import PlannedTrial, content_key, plan, seed_from_key
from rnnlab.sweep.run import prepare, run_sweep
from rnnlab.sweep.space import ODYSSEY_OPTIM, VARIANTS, Param, Space, odyssey
from rnnlab.sweep.storage import StorageError, redact, resolve
from rnnlab.sweep.worker import Worker

__all__ = [
    "ODYSSEY_OPTIM",
    "VARIANTS",
    "Param",
    "PlannedTrial",
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
]
