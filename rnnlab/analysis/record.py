"""Write trained trials into an Optuna study the way a sweep does, so the analysis reads them.

    study = create_study("sqlite:///runs/demo/study.db", "demo", space, dataset="jsb")
    record(study, trials_params, rl.train_trials(trials))

Each result becomes one trial: COMPLETE with value = best validation metric, or FAIL when it
diverged with no finite value; user attributes ``test``, ``valid``, ``diverged``, ``seconds``,
``epochs_trained``, ``best_epoch``, ``seed``, ``key``; intermediate values = the validation
metric per epoch. ``space`` uses the kinds of :mod:`rnnlab.analysis.frame`
(``{"lr": {"kind": "log_uniform", "low": 1e-4, "high": 1e-1}, "variant": {"kind":
"categorical", "choices": [...]}}``); the Optuna distributions are derived from it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)


def distribution(spec: Mapping[str, Any]) -> BaseDistribution:
    """The Optuna distribution of one parameter's space entry."""
    kind = spec["kind"]
    if kind == "categorical":
        return CategoricalDistribution(list(spec["choices"]))
    if kind in ("int", "log_int"):
        return IntDistribution(int(spec["low"]), int(spec["high"]), log=kind == "log_int")
    if kind in ("uniform", "log_uniform", "one_minus_log_uniform"):
        return FloatDistribution(float(spec["low"]), float(spec["high"]), log=kind == "log_uniform")
    raise ValueError(f"unknown parameter kind {kind!r}.")


def create_study(
    storage: str,
    name: str,
    space: Mapping[str, Mapping[str, Any]],
    *,
    dataset: str | None = None,
    metric: str = "loss",
    config: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> optuna.Study:
    """A new minimising study with rnnlab's ``user_attrs["rnnlab"]`` (space, metric, dataset)."""
    study = optuna.create_study(study_name=name, storage=storage, direction="minimize")
    study.set_user_attr(
        "rnnlab",
        {
            "space": {k: dict(v) for k, v in space.items()},
            "metric": metric,
            "test_metric": metric,
            "dataset": dataset,
            "config": dict(config or {}),
            "seed": seed,
        },
    )
    return study


def record(
    study: optuna.Study, params: Sequence[Mapping[str, Any]], results: Sequence[Any]
) -> None:
    """Add one trial per (parameters, ``rnnlab.train.TrialResult``) pair."""
    space = study.user_attrs.get("rnnlab", {}).get("space", {})
    metric = study.user_attrs.get("rnnlab", {}).get("metric", "loss")
    for p, r in zip(params, results):
        dists = {k: distribution(space[k]) for k in p}
        finite = math.isfinite(r.best_metric)
        attrs = {
            "key": r.key,
            "seed": int(r.seed),
            "diverged": bool(r.diverged),
            "seconds": float(r.seconds),
            "epochs_trained": int(r.epochs_trained),
            "best_epoch": int(r.best_epoch),
        }
        curve = {
            int(h["epoch"]): float(h[f"valid_{metric}"])
            for h in r.history
            if math.isfinite(h.get(f"valid_{metric}", math.nan))
        }
        if finite:
            attrs["test"] = {k: float(v) for k, v in r.test.items()}
            attrs["valid"] = {k: float(v) for k, v in r.valid.items()}
            state, value = optuna.trial.TrialState.COMPLETE, float(r.best_metric)
        else:
            state, value = optuna.trial.TrialState.FAIL, None
        study.add_trial(
            optuna.trial.create_trial(
                state=state,
                params=dict(p),
                distributions=dists,
                value=value,
                user_attrs=attrs,
                intermediate_values=curve,
            )
        )
