"""Seconds per trial-epoch of Odyssey trials on JSB at batch 1 (online updates): a lone
model against populations of P slots, per hidden size, variant and strategy.

Each case trains P trials of one hidden size (``--hidden``; bucket sizes, so no padding) for
``--epochs`` epochs in one population of exactly P slots (``rnnlab.train.run_trials``) and
reports the first epoch (compiling included) and the steady epoch (the mean of the later
ones). It is the measurement behind ``rnnlab.train.default_slots`` (at batch 1 on CPU a
population pays only for small hidden sizes) and the FGR timings in benchmarks/README.md.

    python benchmarks/bench_epoch.py --hidden 48,96,184 --cases chunked:1,chunked:8,map:8
    python benchmarks/bench_epoch.py --variant FGR --hidden 64,128 --cases chunked:1
    python benchmarks/bench_epoch.py --pad-multiple 0 --loops scan,step --cases chunked:1,chunked:8

With ``--pad-multiple 0`` every batch has the longest chorale's shape and an epoch runs as one
``lax.scan`` over its steps (``scan``); ``step`` rows dispatch one compiled step per batch, as
every other padding does.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import time

from rnnlab.train import Trial, population, run_trials

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def jsb_config():
    """The base config of experiments/odyssey_jsb.py."""
    path = os.path.join(ROOT, "experiments", "odyssey_jsb.py")
    spec = importlib.util.spec_from_file_location("odyssey_jsb", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config()


def epoch_times(config, P: int, strategy: str, epochs: int, loop: str) -> tuple[float, float]:
    """(first epoch s, steady epoch s) of P trials of ``config`` trained together, an epoch
    as one program (``loop="scan"``, where the padding allows) or a dispatch per step."""
    trials = [Trial(config.override({"loop.seed": s}), s, str(s)) for s in range(P)]
    population._GROUPS.clear()  # each case compiles its own programs
    if loop == "step":
        group = population.group_for(config, P, population.Runner(strategy))
        group.train_epoch_fn = None
    ends: list[float] = []
    t0 = time.perf_counter()
    run_trials(
        trials, strategy=strategy, callback=lambda rnd, recs: ends.append(time.perf_counter())
    )
    return ends[0] - t0, (ends[-1] - ends[0]) / (epochs - 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--hidden", default="48,96,184", help="hidden sizes")
    ap.add_argument("--cases", default="chunked:1,chunked:8,map:8", help="strategy:P, ...")
    ap.add_argument("--variant", default="V", help="LSTM variant")
    ap.add_argument("--epochs", type=int, default=3, help="epochs per case (>= 2)")
    ap.add_argument("--pad-multiple", type=int, default=None, help="data.pad_multiple")
    ap.add_argument(
        "--loops", default=None, help="scan (an epoch in one program; --pad-multiple 0), step"
    )
    args = ap.parse_args()
    if args.epochs < 2:
        ap.error("--epochs must be at least 2 (the first epoch includes compiling)")
    cases = [(c.split(":")[0], int(c.split(":")[1])) for c in args.cases.split(",")]
    base = jsb_config()
    if args.pad_multiple is not None:
        base = base.override({"data.pad_multiple": args.pad_multiple})
    padded_to_longest = base.data.pad_multiple == 0
    loops = (args.loops or ("scan" if padded_to_longest else "step")).split(",")
    if set(loops) - {"scan", "step"}:
        ap.error(f"--loops takes scan and step, got {args.loops!r}")
    if "scan" in loops and not padded_to_longest:
        ap.error("an epoch runs as one program only with --pad-multiple 0")
    base = base.override(
        {
            "loop.epochs": args.epochs,
            "loop.patience": None,
            "optim.lr": 1e-3,
            "model.cell_options": {"variant": args.variant},
        }
    )
    print(
        f"# JSB, batch 1, {args.variant}, {args.epochs} epochs, "
        f"pad_multiple {base.data.pad_multiple}; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M')}"
    )
    print("\n| H | strategy | P | epoch | first epoch s | steady epoch s | s per trial-epoch |")
    print("|---:|---|---:|---|---:|---:|---:|")
    for H in (int(h) for h in args.hidden.split(",")):
        for strategy, P in cases:
            for loop in loops:
                config = base.override({"model.hidden": H})
                first, steady = epoch_times(config, P, strategy, args.epochs, loop)
                print(
                    f"| {H} | {strategy} | {P} | {loop} | {first:.2f} | {steady:.3f} "
                    f"| {steady / P:.3f} |"
                )


if __name__ == "__main__":
    main()
