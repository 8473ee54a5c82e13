"""The trainer's training step with and without donating the population's state, interleaved
in ONE process: JSB at batch 1 as the Odyssey quick preset trains it (``data.pad_multiple=0``),
P slots of hidden size H, the same 40 batches. Donated, the step's outputs take the input
state's buffers, so the parts of a trial's state that a step passes through unchanged (best
parameters, gradient mask) are not copied. Prints ms per step and checks that both give the
same parameters bit for bit.

    PYTHONPATH=. python benchmarks/probe_donation.py --cases 48:1,184:1,48:8
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import jax
import numpy as np

from rnnlab.train import Trial, problem, step
from rnnlab.train.population import Group, Population, Runner

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def case(H: int, P: int, rounds: int) -> tuple[list[float], list[float], bool]:
    """ms per step over ``rounds`` rounds, (donated, not donated), and whether they agree."""
    from bench_epoch import jsb_config

    config = jsb_config().override({"model.hidden": H, "data.pad_multiple": 0})
    runner = Runner("chunked")
    group = Group(config, P, runner)
    pop = Population(group)
    for i in range(P):
        pop.assign(i, Trial(config, i + 1, str(i)))
    plans = [problem.epoch_plan(group.splits.train, 1, i + 1, 0, None) for i in range(P)]
    batches = [
        group.place(problem.population_batch(group.train_data, np.stack([p[i] for p in plans]), 0))
        for i in range(40)
    ]
    hp = pop._hparams()
    prog = group.program
    steps = {
        True: group.train_step,
        False: runner.compile(lambda st, b, h: step.train_step(prog, st, b, h)[0], P),
    }
    state = {k: jax.tree.map(lambda a: a.copy(), pop.pop) for k in steps}

    def run(k: bool) -> float:
        t = time.perf_counter()
        for b in batches:
            state[k] = steps[k](state[k], (b, hp), ())
        jax.block_until_ready(state[k])
        return (time.perf_counter() - t) / len(batches) * 1e3

    for k in steps:
        run(k)
    times: dict[bool, list[float]] = {True: [], False: []}
    for r in range(rounds):
        for k in (True, False) if r % 2 == 0 else (False, True):
            times[k].append(run(k))
    a, b = (jax.tree.leaves(jax.device_get(state[k].params)) for k in (True, False))
    return times[True], times[False], all(np.array_equal(x, y) for x, y in zip(a, b))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cases", default="48:1,184:1,48:8", help="H:P, ...")
    ap.add_argument("--rounds", type=int, default=16, help="interleaved rounds of 40 steps")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    print(f"# JSB, batch 1; {platform.machine()}, {os.cpu_count()} cores, load {load:.1f}")
    print("\n| H | P | donated ms/step (median, min) | not donated | ratio | same params |")
    print("|---:|---:|---|---|---:|---|")
    for c in args.cases.split(","):
        H, P = (int(v) for v in c.split(":"))
        on, off, same = case(H, P, args.rounds)
        ratio = statistics.median(off) / statistics.median(on)
        print(
            f"| {H} | {P} | {statistics.median(on):.3f}, {min(on):.3f} "
            f"| {statistics.median(off):.3f}, {min(off):.3f} | {ratio:.2f}x | {same} |"
        )


if __name__ == "__main__":
    import sys

    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    main()
