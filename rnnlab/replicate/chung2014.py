"""Chung, Gulcehre, Cho & Bengio (2014), "Empirical Evaluation of Gated Recurrent Neural
Networks on Sequence Modeling": tanh RNN vs GRU vs LSTM at ~20k parameters on JSB Chorales.

Sizes as in the paper: one recurrent layer of 100 tanh units, 46 GRU units or 36 LSTM
units (the LSTM with diagonal peepholes, Greff's vanilla "V", close to the Graves 2013 cell
the paper used), a sigmoid output layer over the 88 keys, next-step Bernoulli NLL per time
step. Per cell one population (learning rates x seeds in one compiled program) is trained
with Adam, gradient-norm clipping at 1 and early stopping on validation NLL; the trial with
the best validation NLL is reported on test, and the spread over seeds at its learning rate.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from rnnlab.replicate import _common as C

NAME = "chung2014"
TITLE = "Chung et al. 2014: tanh RNN vs GRU vs LSTM at ~20k parameters on JSB Chorales"

SIZES = {"rnn": 100, "gru": 46, "lstm": 36}

# Table 2 of the paper (JSB Chorales, NLL per time step), as quoted in the project's notes.
PAPER = {
    "rnn": {"train": 8.82, "test": 9.19},
    "gru": {"train": 6.94, "test": 8.54},
    "lstm": {"train": 8.15, "test": 8.67},
}

PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "cells": ("gru",),
        "limit": 4,
        "epochs": 2,
        "patience": None,
        "lrs": (1e-2,),
        "seeds": 1,
        "batch_size": 2,
    },
    "quick": {
        "cells": ("rnn", "gru", "lstm"),
        "limit": None,
        "epochs": 40,
        "patience": 8,
        "lrs": (3e-3, 1e-2, 3e-2),
        "seeds": 2,
        "batch_size": 8,
    },
    "full": {
        "cells": ("rnn", "gru", "lstm"),
        "limit": None,
        "epochs": 500,
        "patience": 50,
        "lrs": tuple(np.logspace(-4, -1.5, 8).round(6)),
        "seeds": 5,
        "batch_size": 1,
    },
}


def config(cell: str, p: dict[str, Any]) -> Any:
    import rnnlab as rl

    options = {} if p["limit"] is None else {"limit": p["limit"]}
    cell_options = {"variant": "V"} if cell == "lstm" else {}
    return rl.Config(
        data=rl.DataConfig(
            "jsb",
            options=options,
            batch_size=p["batch_size"],
            bucket=8,
            pad_multiple=32,
            eval_batch_size=128,
        ),
        model=rl.ModelConfig(cell, SIZES[cell], cell_options=cell_options),
        optim=rl.OptimConfig(name="adam", lr=p["lrs"][0], clip_norm=1.0),
        loop=rl.LoopConfig(
            epochs=p["epochs"], patience=p["patience"], progress=False, checkpoint=False
        ),
    )


def run(preset: str, out_dir: str) -> dict[str, Any]:
    """Train each cell's population; write trials.csv, table.csv, summary.json and
    curves.png (validation NLL per epoch of each cell's best trial) to ``out_dir``."""
    import rnnlab as rl

    C.check_preset(preset)
    p = PRESETS[preset]
    clock = C.Timer()
    meta = {"paper": NAME, "preset": preset, "settings": p, "machine": C.machine()}
    seeds = np.arange(p["seeds"])
    lr_P = np.repeat(np.asarray(p["lrs"], np.float64), len(seeds))
    seed_P = np.tile(seeds, len(p["lrs"]))
    trials: list[dict[str, Any]] = []
    curves: dict[str, list[float]] = {}
    for cell in p["cells"]:
        t = C.Timer()
        pop = rl.train_population(config(cell, p), {"lr": lr_P}, seeds=seed_P)
        seconds = t()
        for r, lr in zip(pop.trials, lr_P):
            hist = r.history
            train_at_best = hist[r.best_epoch]["train_loss"] if r.best_epoch >= 0 else np.nan
            trials.append(
                {
                    "cell": cell,
                    "hidden": SIZES[cell],
                    "params": C.count_params(r.params),
                    "lr": float(lr),
                    "seed": r.seed,
                    "valid_nll": r.valid["loss"],
                    "test_nll": r.test["loss"],
                    "train_nll_at_best_epoch": train_at_best,
                    "best_epoch": r.best_epoch,
                    "epochs_trained": r.epochs_trained,
                    "diverged": r.diverged,
                    "population_seconds": round(seconds, 1),
                }
            )
        best = min(
            (r for r in pop.trials if np.isfinite(r.best_metric)),
            key=lambda r: r.best_metric,
            default=pop.trials[0],
        )
        curves[cell] = [h["valid_loss"] for h in best.history]
        C.log(
            f"{cell}: best valid {best.valid['loss']:.3f} test {best.test['loss']:.3f} "
            f"({seconds:.0f} s)"
        )
    table = summarise(trials)
    meta["wall_seconds"] = round(clock(), 1)
    meta["paper_results"] = PAPER
    os.makedirs(out_dir, exist_ok=True)
    C.write_csv(os.path.join(out_dir, "trials.csv"), trials)
    C.write_csv(os.path.join(out_dir, "table.csv"), table)
    C.write_json(os.path.join(out_dir, "summary.json"), meta | {"table": table, "curves": curves})
    plot(curves, os.path.join(out_dir, "curves.png"))
    return meta | {"table": table, "trials": trials}


def summarise(trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per cell: the best-validation trial's numbers, the seeds' spread at its learning
    rate, and the paper's Table 2 beside them."""
    rows = []
    for cell in dict.fromkeys(t["cell"] for t in trials):
        ts = [t for t in trials if t["cell"] == cell and np.isfinite(t["valid_nll"])]
        if not ts:
            ts = [t for t in trials if t["cell"] == cell]
        best = min(ts, key=lambda t: t["valid_nll"])
        same_lr = [t["test_nll"] for t in ts if t["lr"] == best["lr"]]
        rows.append(
            {
                "cell": cell,
                "hidden": best["hidden"],
                "params": best["params"],
                "best_lr": best["lr"],
                "valid_nll": best["valid_nll"],
                "test_nll": best["test_nll"],
                "train_nll_at_best_epoch": best["train_nll_at_best_epoch"],
                "test_nll_mean_over_seeds": float(np.mean(same_lr)),
                "test_nll_std_over_seeds": float(np.std(same_lr)),
                "seeds": len(same_lr),
                "paper_test_nll": PAPER[cell]["test"],
                "paper_train_nll": PAPER[cell]["train"],
            }
        )
    return rows


def plot(curves: dict[str, list[float]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for cell, ys in curves.items():
        ax.plot(np.arange(1, len(ys) + 1), ys, label=f"{cell} (H={SIZES[cell]})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation NLL (nats / step)")
    ax.set_title("JSB Chorales (music21 rebuild): best trial per cell")
    lo = min((min(v) for v in curves.values() if v), default=0)
    ax.set_ylim(lo - 0.3, lo + 4)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
