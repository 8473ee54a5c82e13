"""A fast stand-in for the trial engine: same ``run_queue`` contract, no training.

``fake_run_queue`` pulls trials like the engine (up to ``slots`` at once, a freed slot taking
the next trial at the next epoch boundary) and gives each trial a learning curve that is a pure
function of (config, seed): so a sweep's plumbing (claims, leases, kills, resumes, 1 vs K
workers) can be tested in seconds, and any difference between two runs is the sweep's fault.
Each epoch sleeps ``RNNLAB_FAKE_EPOCH_SECONDS`` (default 0.01) so that kill tests land
mid-training. Use it from the command line with ``--executor
rnnlab.sweep.testing:fake_run_queue``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from rnnlab.sweep import engine
from rnnlab.sweep.plan import canonical_json


@dataclasses.dataclass
class FakeResult:
    """The fields of ``rnnlab.train.TrialResult`` that the sweep reads."""

    key: str
    seed: int
    config: Any
    best_metric: float
    best_epoch: int
    diverged: bool
    epochs_trained: int
    valid: dict[str, float]
    test: dict[str, float]
    history: list[dict[str, Any]]
    params: Any
    seconds: float


def _get(d: dict[str, Any], path: str, default: Any) -> Any:
    for part in path.split("."):
        if not isinstance(d, dict) or part not in d:
            return default
        d = d[part]
    return d


def curve(config: Any, seed: int) -> tuple[list[float], str]:
    """The validation curve of a trial and its metric name: a pure function of both."""
    d = engine.config_to_dict(config)
    digest = hashlib.sha256(f"{canonical_json(d)}|{seed}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    lr = float(_get(d, "optim.lr", 1e-3))
    hidden = int(_get(d, "model.hidden", 32))
    epochs = int(_get(d, "loop.epochs", 5))
    metric = str(_get(d, "loop.metric", "loss"))
    floor = 1.0 + abs(math.log10(lr) + 3.0) + 20.0 / hidden + 0.1 * rng.random()
    # high learning rates diverge half of the time, at a random epoch (the first, too)
    diverge_at = int(rng.integers(epochs)) if lr > 5e-3 and rng.random() < 0.5 else epochs
    values = []
    for e in range(epochs):
        v = floor + 2.0 * math.exp(-(e + 1) / 2.0) + 0.05 * rng.random()
        if e >= diverge_at:
            v = math.nan
        values.append(v)
        if not math.isfinite(v):
            break
    return values, metric


def bowl_curve(config: Any, seed: int) -> tuple[list[float], str]:
    """A curve whose every epoch is ``(log10 lr + 3)^2``: a known optimum at lr = 1e-3 and
    nothing else mattering, for testing what a sampler proposes."""
    d = engine.config_to_dict(config)
    value = (math.log10(float(_get(d, "optim.lr", 1e-3))) + 3.0) ** 2
    epochs = int(_get(d, "loop.epochs", 5))
    return [value] * epochs, str(_get(d, "loop.metric", "loss"))


def fake_run_queue(
    next_trial: Callable[[], Any],
    *,
    slots: int = 8,
    on_epoch: Callable[[Any, dict], None] | None = None,
    on_done: Callable[[Any, Any], None] | None = None,
    strategy: Any = None,
    curve_fn: Callable[[Any, int], tuple[list[float], str]] = curve,
) -> list[FakeResult]:
    """``rnnlab.train.run_queue``'s contract with made-up, deterministic curves (``curve``,
    or ``curve_fn``)."""
    delay = float(os.environ.get("RNNLAB_FAKE_EPOCH_SECONDS", "0.01"))
    active: list[dict[str, Any]] = []
    results: list[FakeResult] = []
    exhausted = False
    while True:
        while not exhausted and len(active) < slots:
            trial = next_trial()
            if trial is None:
                exhausted = True
                break
            values, metric = curve_fn(trial.config, trial.seed)
            active.append({"trial": trial, "values": values, "metric": metric, "epoch": 0})
            active[-1]["start"] = time.perf_counter()
        if not active:
            return results
        time.sleep(delay)
        for slot in list(active):
            slot["epoch"] += 1
            e, values, metric = slot["epoch"], slot["values"], slot["metric"]
            v = values[e - 1]
            record = {"epoch": e, "train_loss": v, f"valid_{metric}": v}
            if on_epoch is not None:
                on_epoch(slot["trial"], record)
            if e == len(values):
                active.remove(slot)
                result = _result(slot)
                results.append(result)
                if on_done is not None:
                    on_done(slot["trial"], result)


def _result(slot: dict[str, Any]) -> FakeResult:
    trial, values, metric = slot["trial"], slot["values"], slot["metric"]
    finite = [(v, i + 1) for i, v in enumerate(values) if math.isfinite(v)]
    best, best_epoch = min(finite) if finite else (math.inf, 0)
    return FakeResult(
        key=trial.key,
        seed=trial.seed,
        config=trial.config,
        best_metric=best,
        best_epoch=best_epoch,
        diverged=len(finite) < len(values),
        epochs_trained=len(values),
        valid={metric: best},
        test={metric: best * 1.01 if finite else math.inf},
        history=[{"epoch": i + 1, f"valid_{metric}": v} for i, v in enumerate(values)],
        params={"w": np.full((2,), best if finite else 0.0)},
        seconds=time.perf_counter() - slot["start"],
    )
