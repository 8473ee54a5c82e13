"""Feng, Tung, Ahmed, Bengio & Hajimirsadeghi (2024), "Were RNNs All We Needed?":
minGRU / minLSTM against GRU / LSTM.

Two parts:

1. Accuracy: a character language model (the paper's Shakespeare task; here the King James
   Bible, ``rnnlab.data`` "kjv") with a stack of two recurrent layers per cell; minGRU and
   minLSTM train with the parallel scan, GRU and LSTM with the sequential one. Per cell a
   population over learning rates; the best validation trial's test bits per character.
2. Speed: one training step (forward + backward of a recurrent layer, jitted) against the
   sequence length T, for GRU and LSTM (sequential scan) and minGRU / minLSTM (sequential
   and parallel scan), median wall time of repeated calls on this machine.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from rnnlab.replicate import _common as C

NAME = "feng2024"
TITLE = "Feng et al. 2024: minGRU/minLSTM vs GRU/LSTM, parallel vs sequential scan"

PAPER = {
    "speed": "minGRU / minLSTM with the parallel scan train 175x (minGRU) faster than the "
    "sequential GRU at T = 512 on a GPU; the gap grows with T",
    "accuracy": "minGRU / minLSTM match the accuracy of recent sequence models (Shakespeare "
    "char LM, selective copying, offline RL)",
    "params": "per layer minGRU 2 d_h d_x, minLSTM 3 d_h d_x, GRU 3 d_h (d_x + d_h), "
    "LSTM 4 d_h (d_x + d_h)",
}

PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "lm_cells": ("mingru",),
        "max_chars": 20_000,
        "seq_len": 50,
        "hidden": 32,
        "layers": 2,
        "epochs": 1,
        "lrs": (1e-2,),
        "batch_size": 32,
        "speed_cells": (("gru", "sequential"), ("mingru", "sequential"), ("mingru", "parallel")),
        "lengths": (16, 64),
        "speed_batch": 8,
        "speed_hidden": 32,
        "repeats": 3,
    },
    "quick": {
        "lm_cells": ("mingru", "minlstm", "gru", "lstm"),
        "max_chars": 100_000,
        "seq_len": 100,
        "hidden": 64,
        "layers": 2,
        "epochs": 6,
        "lrs": (3e-3, 1e-2),
        "batch_size": 32,
        "speed_cells": (
            ("gru", "sequential"),
            ("lstm", "sequential"),
            ("mingru", "sequential"),
            ("mingru", "parallel"),
            ("minlstm", "sequential"),
            ("minlstm", "parallel"),
        ),
        "lengths": (64, 256, 1024, 2048),
        "speed_batch": 16,
        "speed_hidden": 64,
        "repeats": 9,
    },
    "full": {
        "lm_cells": ("mingru", "minlstm", "gru", "lstm"),
        "max_chars": None,
        "seq_len": 256,
        "hidden": 384,
        "layers": 3,
        "epochs": 20,
        "lrs": (1e-3, 3e-3, 1e-2),
        "batch_size": 64,
        "speed_cells": (
            ("gru", "sequential"),
            ("lstm", "sequential"),
            ("mingru", "sequential"),
            ("mingru", "parallel"),
            ("minlstm", "sequential"),
            ("minlstm", "parallel"),
        ),
        "lengths": (64, 128, 256, 512, 1024, 2048, 4096),
        "speed_batch": 64,
        "speed_hidden": 128,
        "repeats": 10,
    },
}

PARALLEL = ("mingru", "minlstm")


def lm_config(cell: str, p: dict[str, Any]) -> Any:
    import rnnlab as rl

    options: dict[str, Any] = {"seq_len": p["seq_len"]}
    if p["max_chars"] is not None:
        options["max_chars"] = p["max_chars"]
    return rl.Config(
        data=rl.DataConfig("kjv", options=options, batch_size=p["batch_size"], eval_batch_size=256),
        model=rl.ModelConfig(
            cell,
            p["hidden"],
            num_layers=p["layers"],
            scan="parallel" if cell in PARALLEL else "sequential",
        ),
        optim=rl.OptimConfig(name="adam", lr=p["lrs"][0], clip_norm=1.0),
        loop=rl.LoopConfig(epochs=p["epochs"], metric="bpc", progress=False, checkpoint=False),
    )


def language_model(p: dict[str, Any]) -> list[dict[str, Any]]:
    import rnnlab as rl

    rows = []
    lr_P = np.asarray(p["lrs"], np.float64)
    for cell in p["lm_cells"]:
        epoch_times: list[float] = []
        marks = [time.perf_counter()]

        def tick(rnd: int, recs: list, marks=marks, epoch_times=epoch_times) -> None:
            marks.append(time.perf_counter())
            epoch_times.append(marks[-1] - marks[-2])

        t = C.Timer()
        res = rl.train.run_trials(
            rl.train.population_trials(lm_config(cell, p), {"lr": lr_P}, seeds=[0] * len(lr_P)),
            callback=tick,
        )
        seconds = t()
        for r, lr in zip(res, lr_P):
            rows.append(
                {
                    "cell": cell,
                    "scan": "parallel" if cell in PARALLEL else "sequential",
                    "hidden": p["hidden"],
                    "layers": p["layers"],
                    "params": C.count_params(r.params),
                    "lr": float(lr),
                    "valid_bpc": r.valid["bpc"],
                    "test_bpc": r.test["bpc"],
                    "best_epoch": r.best_epoch,
                    "epochs": r.epochs_trained,
                    "diverged": r.diverged,
                    "population_seconds": round(seconds, 1),
                    # first epoch includes compilation; later ones are steady state
                    "steady_epoch_seconds": float(np.median(epoch_times[1:]))
                    if len(epoch_times) > 1
                    else float("nan"),
                }
            )
        best = min(rows[-len(lr_P) :], key=lambda r: r["valid_bpc"])
        C.log(f"LM {cell}: test {best['test_bpc']:.3f} bpc ({seconds:.0f} s)")
    return rows


def _step_fn(cell: str, scan: str, T: int, p: dict[str, Any]) -> tuple[Any, tuple, float]:
    """A jitted forward + backward pass of a one-layer recurrent net, its arguments, and the
    seconds of its first call (compilation included)."""
    import jax
    import jax.numpy as jnp

    import rnnlab as rl

    B, H = p["speed_batch"], p["speed_hidden"]
    layer = rl.Recurrent(rl.cells.get(cell, H), scan=scan)
    x = jax.random.normal(jax.random.PRNGKey(0), (B, T, H))
    lengths = jnp.full((B,), T, jnp.int32)
    variables = layer.init(jax.random.PRNGKey(1), x, lengths)

    def loss(v, x):
        ys, _ = layer.apply(v, x, lengths)
        return jnp.mean(ys**2)

    grad = jax.jit(jax.grad(loss))
    t0 = time.perf_counter()
    jax.block_until_ready(grad(variables, x))
    return grad, (variables, x), time.perf_counter() - t0


def speed(p: dict[str, Any]) -> list[dict[str, Any]]:
    """Per length T: compile every (cell, scan), then time them round-robin, ``repeats``
    rounds (a busy machine slows all of them alike); median and min seconds per call."""
    import jax

    rows = []
    for T in p["lengths"]:
        fns = [_step_fn(cell, scan, T, p) for cell, scan in p["speed_cells"]]
        times: list[list[float]] = [[] for _ in fns]
        for _ in range(p["repeats"]):
            for k, (f, args, _) in enumerate(fns):
                t0 = time.perf_counter()
                jax.block_until_ready(f(*args))
                times[k].append(time.perf_counter() - t0)
        for (cell, scan), (_, _, first), ts in zip(p["speed_cells"], fns, times):
            rows.append(
                {
                    "cell": cell,
                    "scan": scan,
                    "T": T,
                    "batch": p["speed_batch"],
                    "hidden": p["speed_hidden"],
                    "median_seconds": float(np.median(ts)),
                    "min_seconds": float(np.min(ts)),
                    "first_call_seconds": first,
                    "repeats": p["repeats"],
                }
            )
        n = len(p["speed_cells"])
        C.log(
            f"speed T={T}: "
            + ", ".join(
                f"{r['cell']}/{r['scan'][:3]} {1e3 * r['median_seconds']:.1f} ms" for r in rows[-n:]
            )
        )
    base = {
        r["T"]: r["median_seconds"] for r in rows if (r["cell"], r["scan"]) == ("gru", "sequential")
    }
    for r in rows:
        r["speedup_vs_gru_sequential"] = (
            base[r["T"]] / r["median_seconds"] if r["T"] in base else None
        )
    return rows


def rerun_speed(preset: str, out_dir: str) -> list[dict[str, Any]]:
    """Measure the speed part again (e.g. on a quieter machine) and replace speed.csv,
    speed.png and the speed entries of summary.json in ``out_dir``."""
    import json

    p = PRESETS[preset]
    rows = speed(p)
    C.write_csv(os.path.join(out_dir, "speed.csv"), rows)
    plot(rows, os.path.join(out_dir, "speed.png"))
    path = os.path.join(out_dir, "summary.json")
    with open(path) as f:
        meta = json.load(f)
    meta["speed"] = rows
    meta["speed_machine"] = C.machine()
    C.write_json(path, meta)
    return rows


def run(preset: str, out_dir: str) -> dict[str, Any]:
    """Both parts; writes lm.csv, speed.csv, summary.json, speed.png to ``out_dir``."""
    C.check_preset(preset)
    p = PRESETS[preset]
    clock = C.Timer()
    meta = {"paper": NAME, "preset": preset, "settings": p, "machine": C.machine()}
    speed_rows = speed(p)
    lm_rows = language_model(p)
    meta["wall_seconds"] = round(clock(), 1)
    meta["paper_results"] = PAPER
    os.makedirs(out_dir, exist_ok=True)
    C.write_csv(os.path.join(out_dir, "lm.csv"), lm_rows)
    C.write_csv(os.path.join(out_dir, "speed.csv"), speed_rows)
    C.write_json(os.path.join(out_dir, "summary.json"), meta | {"lm": lm_rows, "speed": speed_rows})
    plot(speed_rows, os.path.join(out_dir, "speed.png"))
    return meta | {"lm": lm_rows, "speed": speed_rows}


def plot(rows: list[dict[str, Any]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for cell, scan in dict.fromkeys((r["cell"], r["scan"]) for r in rows):
        rs = sorted(
            (r for r in rows if (r["cell"], r["scan"]) == (cell, scan)), key=lambda r: r["T"]
        )
        ax.plot(
            [r["T"] for r in rs],
            [1e3 * r["median_seconds"] for r in rs],
            "o-" if scan == "parallel" else "s--",
            label=f"{cell} ({scan})",
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("forward + backward (ms, median)")
    b, h = rows[0]["batch"], rows[0]["hidden"]
    ax.set_title(f"one training step, B={b}, H={h}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
