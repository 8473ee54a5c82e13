"""Trials per hour of an Odyssey sweep: the sweep as built (1 and 2 worker processes) against
the same planned trials trained one at a time, three ways: (a) ``rnnlab.train.train`` in one
process (a trial is padded to its hidden-size bucket, so later trials of a bucket reuse its
compiled programs), (o) in one process at each trial's own hidden size (what a loop over
trials of any other JAX trainer does: every new size compiles), (p) each trial in a fresh
``rnnlab train`` process (how a shell loop or a W&B agent runs trials).

The trials are the experiment preset's plan (``rnnlab.sweep.plan``), optionally cut to the
first ``--per-variant`` trials of every variant; every row trains them with the same seeds
and epochs, and the script counts the trials to which every row gives the same best
validation value as the first row (and lists the others). Each sweep row uses a fresh
SQLite study and a fresh compilation cache in a temporary folder; row ``w`` is a second
study with 2 workers on the cache the sweep row before it filled (the next study of the
same experiment on this machine).

    python benchmarks/bench_sweep.py experiments/odyssey_jsb.py --preset quick --per-variant 2
    python benchmarks/bench_sweep.py experiments/odyssey_jsb.py --set data.pad_multiple=0
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import optuna

from rnnlab.sweep import experiment, run
from rnnlab.sweep.plan import plan
from rnnlab.sweep.storage import open_storage, resolve
from rnnlab.train import Config, Trial, run_queue, train

#: Best validation values closer than this count as equal. Online SGD on an unstable trial
#: (NOAF at a large learning rate) amplifies float32 rounding differences between a lone
#: model and a population (other matmul shapes) into different runs: such trials are listed.
TOLERANCE = 1e-3


def one_at_a_time(trials) -> dict[str, float]:
    """{content key: best validation value}, each trial trained alone in this process."""
    best = {}
    for t in trials:
        config = Config.from_dict(t.config).override({"loop.seed": t.seed})
        best[t.key] = float(train(config).best_metric)
    return best


def one_at_a_time_own_size(trials) -> dict[str, float]:
    """As ``one_at_a_time``, each trial at its own hidden size (no program shared between
    trials of different sizes)."""
    best = {}
    for t in trials:
        config = Config.from_dict(t.config).override({"loop.seed": t.seed})
        queue = iter([Trial(config, t.seed)])
        [result] = run_queue(lambda q=queue: next(q, None), slots=1, pad=False)
        best[t.key] = float(result.best_metric)
    return best


def process_per_trial(trials, folder: str) -> dict[str, float]:
    """{content key: best validation value}, each trial trained by its own ``rnnlab train``
    process from an experiment file holding its config."""
    best = {}
    for i, t in enumerate(trials):
        path, workdir = os.path.join(folder, f"trial{i}.py"), os.path.join(folder, f"trial{i}")
        config = json.dumps(json.dumps(t.config))
        with open(path, "w") as f:
            f.write(
                "import json\nfrom rnnlab.train import Config\n\n\ndef get_config():\n"
                f"    return Config.from_dict(json.loads({config}))\n"
            )
        command = [sys.executable, "-m", "rnnlab.cli", "train", path, "--seed", str(t.seed)]
        run_args = [*command, "--workdir", workdir, "--no-progress"]
        subprocess.run(run_args, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(workdir, "summary.json")) as f:
            best[t.key] = float(json.load(f)["best_metric"])
    return best


def sweep_row(sweep, workers: int, folder: str, name: str, cache: str) -> dict[str, float]:
    """{content key: best validation value} from a fresh study run with ``workers`` and the
    compilation cache folder ``cache``."""
    spec = resolve(os.path.join(folder, f"{name}.db"), name, os.path.join(folder, name))
    run.run_sweep(
        spec, sweep, name, workers=workers, progress=False, out=lambda s: None, compile_cache=cache
    )
    study = optuna.load_study(study_name=name, storage=open_storage(spec, create=False))
    return {t.user_attrs["key"]: float(t.value) for t in study.trials if t.value is not None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("experiment")
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--per-variant", type=int, default=None, help="keep the first K per variant")
    ap.add_argument(
        "--rows",
        default="a12",
        help="a/o/p: one at a time (bucket-padded; own size; a process per trial), "
        "1/2: sweep with 1/2 workers, w: 2 workers on a warm cache",
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="config changes as for rnnlab sweep --set (e.g. data.pad_multiple=0)",
    )
    ap.add_argument("--json", default=None, help="also write the rows here")
    args = ap.parse_args()
    if set(args.rows) - set("aop12w"):
        ap.error(f"--rows takes the letters a, o, p, 1, 2, w; got {args.rows!r}")
    if "w" in args.rows and not set(args.rows.split("w")[0]) & set("12"):
        ap.error("row w reuses the compilation cache of a sweep row (1 or 2) before it")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sweep, _ = experiment.load(args.experiment, args.preset)
    sweep = experiment.apply_sets(sweep, args.set)
    if args.per_variant is not None:  # the plan's first K trials of every variant
        sweep = dataclasses.replace(sweep, trials=args.per_variant * sweep.space.num_cells())
    trials = plan(sweep.config_dict(), sweep.space, sweep.trials, sweep.seed)
    print(
        f"# {args.experiment} --preset {args.preset} {' '.join('--set ' + x for x in args.set)}: "
        f"{len(trials)} trials; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M')}"
    )
    rows, reference = [], None
    with tempfile.TemporaryDirectory() as folder:
        cache = None
        for i, row in enumerate(args.rows):
            t0 = time.perf_counter()
            if row == "a":
                best, label = one_at_a_time(trials), "one at a time (rnnlab.train.train)"
            elif row == "o":
                best = one_at_a_time_own_size(trials)
                label = "one at a time, each at its own hidden size, one process"
            elif row == "p":
                best = process_per_trial(trials, folder)
                label = "one at a time, a fresh `rnnlab train` process per trial"
            elif row == "w":
                best = sweep_row(sweep, 2, folder, f"row{i}", cache)
                label = "sweep, 2 workers, warm compilation cache"
            else:
                cache = os.path.join(folder, f"cache{i}")
                best = sweep_row(sweep, int(row), folder, f"row{i}", cache)
                label = f"sweep, {row} worker{'s' if row != '1' else ''}"
            wall = time.perf_counter() - t0
            reference = reference or best
            common = sorted(set(best) & set(reference))
            diffs = {k: abs(best[k] - reference[k]) for k in common}
            rows.append(
                {
                    "row": label,
                    "trials": len(best),
                    "wall_s": round(wall, 1),
                    "trials_per_hour": round(3600 * len(best) / wall, 1),
                    "equal_to_first_row": sum(d <= TOLERANCE for d in diffs.values()),
                    "max_abs_diff_vs_first_row": max(diffs.values(), default=float("nan")),
                    "best": best,
                }
            )
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "best"}), flush=True)
    base = rows[0]["trials_per_hour"]
    print(
        "\n| row | trials | wall s | trials/hour | vs first row | trials equal to the first "
        f"row's (<= {TOLERANCE:g}) | max abs diff of best valid |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['row']} | {r['trials']} | {r['wall_s']} | {r['trials_per_hour']} | "
            f"{r['trials_per_hour'] / base:.2f}x | {r['equal_to_first_row']} | "
            f"{r['max_abs_diff_vs_first_row']:.2g} |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    for r in rows[1:]:
        for k in sorted(r["best"]):
            if abs(r["best"][k] - reference[k]) > TOLERANCE:
                print(f"{r['row']}: trial {k[:10]} {r['best'][k]:.4f} vs {reference[k]:.4f}")


if __name__ == "__main__":
    main()
