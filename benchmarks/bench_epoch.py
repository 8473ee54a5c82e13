"""Seconds per trial-epoch of Odyssey trials on JSB at batch 1 (online updates): a lone
model against populations of P slots, per hidden size, variant and strategy.

Each case trains P trials of one hidden size (``--hidden``; bucket sizes, so no padding) for
``--epochs`` epochs in one population of exactly P slots (``rnnlab.train.run_trials``) and
reports the first epoch (compiling included) and the steady epoch (the mean of the later
ones). It is the measurement behind ``rnnlab.train.default_slots`` (at batch 1 on CPU a
population pays only for small hidden sizes) and the FGR timings in benchmarks/README.md.

    python benchmarks/bench_epoch.py --hidden 48,96,184 --cases chunked:1,chunked:8,map:8
    python benchmarks/bench_epoch.py --variant FGR --hidden 64,128 --cases chunked:1
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import time

from rnnlab.train import Trial, run_trials

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def jsb_config():
    """The base config of experiments/odyssey_jsb.py."""
    path = os.path.join(ROOT, "experiments", "odyssey_jsb.py")
    spec = importlib.util.spec_from_file_location("odyssey_jsb", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config()


def epoch_times(config, P: int, strategy: str, epochs: int) -> tuple[float, float]:
    """(first epoch s, steady epoch s) of P trials of ``config`` trained together."""
    trials = [Trial(config.override({"loop.seed": s}), s, str(s)) for s in range(P)]
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
    args = ap.parse_args()
    if args.epochs < 2:
        ap.error("--epochs must be at least 2 (the first epoch includes compiling)")
    cases = [(c.split(":")[0], int(c.split(":")[1])) for c in args.cases.split(",")]
    base = jsb_config().override(
        {
            "loop.epochs": args.epochs,
            "loop.patience": None,
            "optim.lr": 1e-3,
            "model.cell_options": {"variant": args.variant},
        }
    )
    print(
        f"# JSB, batch 1, {args.variant}, {args.epochs} epochs; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M')}"
    )
    print("\n| H | strategy | P | first epoch s | steady epoch s | s per trial-epoch |")
    print("|---:|---|---:|---:|---:|---:|")
    for H in (int(h) for h in args.hidden.split(",")):
        for strategy, P in cases:
            config = base.override({"model.hidden": H})
            first, steady = epoch_times(config, P, strategy, args.epochs)
            print(f"| {H} | {strategy} | {P} | {first:.2f} | {steady:.3f} | {steady / P:.3f} |")


if __name__ == "__main__":
    main()
