"""Jozefowicz, Zaremba & Sutskever (2015), "An Empirical Exploration of Recurrent Network
Architectures": the LSTM's forget-gate bias (1 vs 0), and the three evolved architectures
MUT1-3 against the LSTM and the GRU, each tuned by a small random search.

Two tasks: JSB Chorales (next-step Bernoulli NLL per time step; the paper's music task was
the Boulanger-Lewandowski JSB among others) and a character language model on the King James
Bible (bits per character; a stand-in for the paper's Penn Treebank word model). Every
architecture gets the same ``trials`` learning rates drawn log-uniformly from ``lr_range``
(one seed per draw) at one hidden size; its score is the test metric of its best
validation trial, and the median over the trials tells how forgiving it is to tune.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from rnnlab.replicate import _common as C

NAME = "jozefowicz2015"
TITLE = "Jozefowicz et al. 2015: forget bias 1 vs 0; MUT1-3 vs LSTM vs GRU"

# (label, cell, cell options)
ARCHS: dict[str, tuple[str, dict[str, Any]]] = {
    "lstm_fb1": ("lstm", {"variant": "standard", "forget_bias": 1.0}),
    "lstm_fb0": ("lstm", {"variant": "standard", "forget_bias": 0.0}),
    "gru": ("gru", {}),
    "mut1": ("mut1", {}),
    "mut2": ("mut2", {}),
    "mut3": ("mut3", {}),
}

PAPER = {
    "forget_bias": "adding a bias of 1 to the LSTM's forget gate closes the gap between the "
    "LSTM and the GRU (abstract)",
    "mut": "MUT1 (and MUT2/3 on some tasks) match or beat the GRU and the LSTM on some "
    "tasks but not all; on music the differences are small",
}

PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "tasks": ("jsb",),
        "archs": ("lstm_fb1",),
        "trials": 2,
        "lr_range": (3e-3, 3e-2),
        "jsb": {"limit": 4, "hidden": 16, "epochs": 1, "patience": None, "batch_size": 2},
        "kjv": {"max_chars": 20_000, "hidden": 16, "epochs": 1, "patience": None, "batch_size": 16},
    },
    "quick": {
        "tasks": ("jsb", "kjv"),
        "archs": tuple(ARCHS),
        "trials": 4,
        "lr_range": (1e-3, 3e-2),
        "jsb": {"limit": 80, "hidden": 64, "epochs": 20, "patience": 5, "batch_size": 8},
        "kjv": {
            "max_chars": 60_000,
            "hidden": 64,
            "epochs": 8,
            "patience": None,
            "batch_size": 16,
        },
    },
    "full": {
        "tasks": ("jsb", "kjv"),
        "archs": tuple(ARCHS),
        "trials": 64,
        "lr_range": (1e-4, 1e-1),
        "jsb": {"limit": None, "hidden": 128, "epochs": 200, "patience": 20, "batch_size": 1},
        "kjv": {"max_chars": None, "hidden": 256, "epochs": 30, "patience": 5, "batch_size": 32},
    },
}


def config(task: str, arch: str, p: dict[str, Any]) -> Any:
    import rnnlab as rl

    t = p[task]
    cell, cell_options = ARCHS[arch]
    if task == "jsb":
        options = {} if t["limit"] is None else {"limit": t["limit"]}
        data = rl.DataConfig(
            "jsb",
            options=options,
            batch_size=t["batch_size"],
            bucket=8,
            pad_multiple=32,
            eval_batch_size=128,
        )
        metric = "loss"
    else:
        options = {"seq_len": 100}
        if t["max_chars"] is not None:
            options["max_chars"] = t["max_chars"]
        data = rl.DataConfig(
            "kjv", options=options, batch_size=t["batch_size"], eval_batch_size=256
        )
        metric = "bpc"
    return rl.Config(
        data=data,
        model=rl.ModelConfig(cell, t["hidden"], cell_options=cell_options),
        optim=rl.OptimConfig(name="adam", lr=1e-3, clip_norm=1.0),
        loop=rl.LoopConfig(
            epochs=t["epochs"],
            patience=t["patience"],
            metric=metric,
            progress=False,
            checkpoint=False,
        ),
    )


def learning_rates(p: dict[str, Any]) -> np.ndarray:
    """The random search's draws, shared by every architecture (a paired comparison)."""
    lo, hi = np.log(p["lr_range"][0]), np.log(p["lr_range"][1])
    return np.exp(np.random.default_rng(2015).uniform(lo, hi, p["trials"]))


def run(preset: str, out_dir: str) -> dict[str, Any]:
    """Every (task, architecture) random search; writes trials.csv, table.csv,
    summary.json and scores.png to ``out_dir``."""
    import rnnlab as rl

    C.check_preset(preset)
    p = PRESETS[preset]
    clock = C.Timer()
    meta = {"paper": NAME, "preset": preset, "settings": p, "machine": C.machine()}
    lrs = learning_rates(p)
    seeds = np.arange(len(lrs))
    trials: list[dict[str, Any]] = []
    for task in p["tasks"]:
        metric = "loss" if task == "jsb" else "bpc"
        for arch in p["archs"]:
            t = C.Timer()
            pop = rl.train_population(config(task, arch, p), {"lr": lrs}, seeds=seeds)
            seconds = t()
            for r, lr in zip(pop.trials, lrs):
                trials.append(
                    {
                        "task": task,
                        "arch": arch,
                        "hidden": p[task]["hidden"],
                        "params": C.count_params(r.params),
                        "lr": float(lr),
                        "seed": r.seed,
                        "metric": "nll" if task == "jsb" else "bpc",
                        "valid": r.valid[metric],
                        "test": r.test[metric],
                        "best_epoch": r.best_epoch,
                        "epochs_trained": r.epochs_trained,
                        "diverged": r.diverged,
                        "population_seconds": round(seconds, 1),
                    }
                )
            done = trials[-len(lrs) :]
            best = min(done, key=lambda d: d["valid"] if np.isfinite(d["valid"]) else np.inf)
            C.log(f"{task} {arch}: best test {best['test']:.3f} ({seconds:.0f} s)")
    table = summarise(trials)
    meta["wall_seconds"] = round(clock(), 1)
    meta["paper_results"] = PAPER
    meta["learning_rates"] = lrs.tolist()
    os.makedirs(out_dir, exist_ok=True)
    C.write_csv(os.path.join(out_dir, "trials.csv"), trials)
    C.write_csv(os.path.join(out_dir, "table.csv"), table)
    C.write_json(os.path.join(out_dir, "summary.json"), meta | {"table": table})
    plot(trials, os.path.join(out_dir, "scores.png"))
    return meta | {"table": table, "trials": trials}


def summarise(trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for task in dict.fromkeys(t["task"] for t in trials):
        for arch in dict.fromkeys(t["arch"] for t in trials if t["task"] == task):
            ts = [t for t in trials if (t["task"], t["arch"]) == (task, arch)]
            finite = [t for t in ts if np.isfinite(t["valid"])] or ts
            best = min(finite, key=lambda t: t["valid"])
            rows.append(
                {
                    "task": task,
                    "arch": arch,
                    "metric": best["metric"],
                    "params": best["params"],
                    "trials": len(ts),
                    "best_lr": best["lr"],
                    "best_valid": best["valid"],
                    "test_of_best": best["test"],
                    "median_test": float(np.median([t["test"] for t in finite])),
                    "diverged": int(sum(t["diverged"] for t in ts)),
                }
            )
    return rows


def plot(trials: list[dict[str, Any]], path: str) -> None:
    """Test metric against learning rate, one panel per task, one line per architecture."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    tasks = list(dict.fromkeys(t["task"] for t in trials))
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for arch in dict.fromkeys(t["arch"] for t in trials if t["task"] == task):
            ts = sorted(
                (t for t in trials if (t["task"], t["arch"]) == (task, arch)), key=lambda t: t["lr"]
            )
            ax.plot([t["lr"] for t in ts], [t["test"] for t in ts], "o-", label=arch)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("learning rate (Adam)")
        ax.set_ylabel("test NLL (nats/step)" if task == "jsb" else "test bits per character")
        ax.set_title(task)
        vals = [t["test"] for t in trials if t["task"] == task and np.isfinite(t["test"])]
        if vals:
            ax.set_ylim(min(vals) - 0.1, min(vals) + 2.0)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
