"""Odyssey-like trials through the engine: one at a time, grouped by exact hidden size, and
bucketed populations with refilled slots.

N trials of an LSTM on JSB Chorales at batch size 1 (online updates, as the Odyssey), the
variant cycling through ``--variants`` (default V alone), hidden size log-uniform in
[20, 200], learning rate log-uniform in [1e-6, 1e-2], SGD with Nesterov momentum 0.9, early
stopping (patience P) and an epoch limit E:

  (a) one at a time: ``train(config)`` per trial (a trial's program is reused by later
      trials of the same program: its hidden bucket and, for the variants other than FGR,
      the switchable LSTM);
  (b) grouped by exact structure: ``train_trials(trials, pad=False)``, trials of equal size
      and variant share a population;
  (c) buckets with refilled slots: ``train_trials(trials, slots=S)``, every variant but FGR
      of one bucket in one population.

Every row trains the same trials to the same numbers (checked: best validation NLL per
trial). Reported: wall time, trial-epochs per second, slot utilisation (useful trial-epochs
/ slot-epochs), number of programs compiled, padding overhead (sum over trials of
blocks x bucket^2 / blocks x H^2 recurrent FLOPs, relative).

    python benchmarks/bench_trials.py --trials 64 --limit 40 --epochs 8
    python benchmarks/bench_trials.py --variants V,NIG,NFG,NOG,NIAF,NOAF,NP,CIFG
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from rnnlab import cells
from rnnlab.train import Config, ModelConfig, Trial, hparams, program_key, train, train_trials


def trials(
    n: int, limit: int, epochs: int, patience: int, variants: list[str], seed: int = 0
) -> list[Trial]:
    rng = np.random.default_rng(seed)
    hidden = np.exp(rng.uniform(np.log(20), np.log(200), n)).round().astype(int)
    lr = np.exp(rng.uniform(np.log(1e-6), np.log(1e-2), n))
    base = Config.from_dict(
        {
            "data": {
                "name": "jsb",
                "options": {"limit": limit},
                "batch_size": 1,
                "pad_multiple": 32,
                "eval_batch_size": 128,
            },
            "model": {"cell": "lstm"},
            "optim": {"name": "sgd", "momentum": 0.9},
            "loop": {"epochs": epochs, "patience": patience, "progress": False},
        }
    )
    return [
        Trial(
            base.override(
                {
                    "model.hidden": int(h),
                    "model.cell_options": {"variant": variants[i % len(variants)]},
                    "optim.lr": float(a),
                }
            ),
            i,
            str(i),
        )
        for i, (h, a) in enumerate(zip(hidden, lr))
    ]


def _recurrent_flops(model: ModelConfig) -> float:
    """Proportional to the recurrent matmul: blocks x H^2."""
    return cells.get(model.cell, model.hidden, **model.cell_options).n_blocks * model.hidden**2


def overhead(ts: list[Trial]) -> float:
    """Recurrent FLOPs of the bucketed programs (bucket sizes, the switchable LSTM's four
    blocks) relative to each trial's own model."""
    padded = sum(_recurrent_flops(hparams.program_model(t.config)) for t in ts)
    return padded / sum(_recurrent_flops(t.config.model) for t in ts)


def run(rows: str, ts: list[Trial], slots: int) -> list[dict]:
    out = []
    reference = None
    for row in rows:
        t0 = time.perf_counter()
        stats: list[dict] = []
        if row == "a":
            res = [train(t.config.override({"loop.seed": t.seed})) for t in ts]
        elif row == "b":
            res = train_trials(ts, slots=len(ts), pad=False, progress=stats.append)
        else:
            res = train_trials(ts, slots=slots, progress=stats.append)
        programs = len({program_key(t.config, pad=row != "b") for t in ts})
        wall = time.perf_counter() - t0
        best = np.array([r.best_metric for r in res])
        if reference is None:
            reference = best
        useful = sum(r.epochs_trained for r in res)
        slot_epochs = sum(s["slot_epochs"] for s in stats if s["final"]) or useful
        out.append(
            {
                "row": row,
                "wall_s": round(wall, 1),
                "trial_epochs": useful,
                "trial_epochs_per_s": round(useful / wall, 3),
                "utilisation": round(useful / slot_epochs, 3),
                "programs": programs,
                "max_abs_diff_vs_first": float(np.max(np.abs(best - reference))),
            }
        )
        print(json.dumps(out[-1]), flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=64)
    p.add_argument("--limit", type=int, default=40, help="chorales per split")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--patience", type=int, default=2)
    p.add_argument("--slots", type=int, default=16)
    p.add_argument("--rows", default="cba", help="which rows, in order (a, b, c)")
    p.add_argument("--variants", default="V", help="LSTM variants, comma-separated, cycled")
    args = p.parse_args()
    ts = trials(args.trials, args.limit, args.epochs, args.patience, args.variants.split(","))
    print(f"# {platform.processor() or platform.machine()}, {args}")
    print(f"# padding overhead (recurrent FLOPs, buckets vs exact): {overhead(ts):.2f}x")
    rows = run(args.rows, ts, args.slots)
    print("\n| row | wall s | trial-epochs/s | utilisation | programs | max |diff| vs first row |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| ({r['row']}) | {r['wall_s']} | {r['trial_epochs_per_s']} | {r['utilisation']} "
            f"| {r['programs']} | {r['max_abs_diff_vs_first']:.1e} |"
        )


if __name__ == "__main__":
    main()
