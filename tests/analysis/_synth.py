"""A small synthetic Odyssey-style study with known structure, written with Optuna's own API.

test loss = 0.5 (log10 lr + 3)^2 + 0.3 noise_std + 5 / sqrt(hidden) + offset[variant] + N(0, 0.05);
validation value = test loss + N(0, 0.02); seconds = 0.05 hidden (1 + noise_std).
NFG is much worse than V (offset 1.0), CIFG equal to V. Per variant some trials FAIL
(diverged, no value) and some COMPLETE ones are marked diverged.
"""

from __future__ import annotations

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

EVIL = "<script>alert('x')</script>"
OFFSET = {"V": 0.0, "NFG": 1.0, "CIFG": 0.0}
SPACE = {
    "lr": {"kind": "log_uniform", "low": 1e-6, "high": 1e-2},
    "hidden": {"kind": "log_int", "low": 20, "high": 200},
    "momentum": {"kind": "one_minus_log_uniform", "low": 0.0, "high": 0.99},
    "noise_std": {"kind": "uniform", "low": 0.0, "high": 1.0},
    "variant": {"kind": "categorical", "choices": list(OFFSET)},
    "tag": {"kind": "categorical", "choices": ["a", EVIL]},
}
DISTS = {
    "lr": FloatDistribution(1e-6, 1e-2, log=True),
    "hidden": IntDistribution(20, 200, log=True),
    "momentum": FloatDistribution(0.0, 0.99),
    "noise_std": FloatDistribution(0.0, 1.0),
    "variant": CategoricalDistribution(list(OFFSET)),
    "tag": CategoricalDistribution(["a", EVIL]),
}


def loss(lr, hidden, noise_std, variant):
    return 0.5 * (np.log10(lr) + 3) ** 2 + 0.3 * noise_std + 5 / np.sqrt(hidden) + OFFSET[variant]


def make_study(
    storage,
    name: str = "odyssey <b>demo</b>",
    *,
    per_variant: int = 40,
    failed_per_variant: int = 2,
    diverged_complete: int = 1,
    seed: int = 0,
    rnnlab_attrs: bool = True,
    variants: bool = True,
) -> tuple[optuna.Study, dict]:
    """Fills a study; returns it and the ground truth (counts, per-variant test values)."""
    rng = np.random.default_rng(seed)
    study = optuna.create_study(study_name=name, storage=storage, direction="minimize")
    if rnnlab_attrs:
        space = dict(SPACE) if variants else {k: v for k, v in SPACE.items() if k != "variant"}
        study.set_user_attr(
            "rnnlab",
            {
                "space": space,
                "metric": "loss",
                "test_metric": "loss",
                "dataset": "synthetic",
                "seed": seed,
                "git": EVIL,
            },
        )
    dists = dict(DISTS) if variants else {k: v for k, v in DISTS.items() if k != "variant"}
    truth = {"complete": 0, "failed": 0, "diverged": 0, "test": {}}
    for v in OFFSET if variants else ["V"]:
        tests = []
        for i in range(per_variant + failed_per_variant):
            p = {
                "lr": float(10 ** rng.uniform(-6, -2)),
                "hidden": round(10 ** rng.uniform(np.log10(19.5), np.log10(200.5))),
                "momentum": float(1 - 10 ** rng.uniform(-2, 0)),
                "noise_std": float(rng.uniform(0, 1)),
                "tag": EVIL if i % 5 == 0 else "a",
            }
            p["hidden"] = min(max(p["hidden"], 20), 200)
            if variants:
                p["variant"] = v
            test = float(loss(p["lr"], p["hidden"], p["noise_std"], v) + rng.normal(0, 0.05))
            val = test + float(rng.normal(0, 0.02))
            secs = 0.05 * p["hidden"] * (1 + p["noise_std"])
            failed = i >= per_variant
            diverged = failed or i < diverged_complete
            attrs = {"diverged": diverged, "seconds": secs, "note": EVIL, "seed": i}
            if failed:
                t = optuna.trial.create_trial(
                    state=optuna.trial.TrialState.FAIL,
                    params=p,
                    distributions=dists,
                    user_attrs=attrs,
                )
                truth["failed"] += 1
            else:
                attrs |= {
                    "test": {"loss": test},
                    "valid": {"loss": val},
                    "epochs_trained": 5,
                    "best_epoch": 4,
                }
                curve = {e: val + 2.0 / (e + 1) for e in range(5)}
                t = optuna.trial.create_trial(
                    state=optuna.trial.TrialState.COMPLETE,
                    params=p,
                    distributions=dists,
                    value=val,
                    user_attrs=attrs,
                    intermediate_values=curve,
                )
                truth["complete"] += 1
                tests.append((val, test))
            truth["diverged"] += int(diverged)
            study.add_trial(t)
        truth["test"][v] = tests
    return study, truth
