"""Where the time of one LSTM training step goes (the bench_lstm.py workload: D=88, T=100,
B=32, H=128, Dense(88) head, Bernoulli NLL, SGD with momentum).

Two views of the same compiled step:

- the optimized HLO: the operations XLA:CPU runs once per time step in each while body
  (fusions, library dots, copies), counted by kind, and the ops outside the loops;
- a ``jax.profiler`` trace of a few steps: wall time per executed operation (thunk), per
  training step, with the median and minimum time of one call. The minimum is the figure to
  read on a loaded machine.

    PYTHONPATH=. python benchmarks/breakdown.py                   # rnnlab, custom VJP
    PYTHONPATH=. python benchmarks/breakdown.py --hoist           # hoisted projection
    PYTHONPATH=. python benchmarks/breakdown.py --autodiff --top 20
    PYTHONPATH=. python benchmarks/breakdown.py --hlo-only -v     # list each loop op

Library dots run through YNNPACK (``ynn_fusion``) or Eigen (``dot``); Eigen dots may run
asynchronously, so their trace time can be shorter than their real cost.
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import re
import statistics
import tempfile

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

import rnnlab as rl

D, T, B, H = 88, 100, 32, 128
_SKIP_OPS = ("parameter", "get-tuple-element", "tuple", "constant", "bitcast")


def compiled_step(hoist: bool, custom_vjp: bool, unroll: int):
    rng = np.random.default_rng(0)
    roll = (rng.random((B, T + 1, D)) < 0.05).astype(np.float32)
    x, y = jnp.asarray(roll[:, :-1]), jnp.asarray(roll[:, 1:])
    cell, head = rl.cells.get("lstm", H, variant="NP"), nn.Dense(D)
    key = jax.random.PRNGKey(0)
    params = {"rnn": cell.init(key, D), "head": head.init(key, jnp.zeros((1, H)))}
    tx = optax.sgd(0.01, 0.9)
    opts = dict(hoist=hoist, custom_vjp=custom_vjp, unroll=unroll)

    def loss_fn(p, x, y):
        h = rl.rnn(cell, p["rnn"], x, **opts)[0]
        return optax.sigmoid_binary_cross_entropy(head.apply(p["head"], h), y).mean()

    def step(p, s, x, y):
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        updates, s = tx.update(g, s, p)
        return optax.apply_updates(p, updates), s, loss

    state = (params, tx.init(params))
    return jax.jit(step).lower(*state, x, y).compile(), state, (x, y)


def hlo_summary(text: str, verbose: bool) -> None:
    comps = {
        m.group(2): m.group(3)
        for m in re.finditer(r"^(ENTRY )?%?([\w.\-]+) [^\n]*\{\n(.*?)\n\}", text, re.S | re.M)
    }
    entry = re.search(r"^ENTRY %?([\w.\-]+)", text, re.M).group(1)
    bodies = re.findall(r"while\([^\n]*?body=%?([\w.\-]+)", text)
    for name in [*bodies, entry]:
        ops, lines = collections.Counter(), []
        for ln in comps[name].splitlines():
            m = re.match(r"\s*(ROOT )?%?([\w.\-]+) = (\S+) ([\w\-]+)\(", ln)
            if not m or m.group(4) in _SKIP_OPS:
                continue
            kind = "library dot" if "ynn_fusion" in m.group(2) else m.group(4)
            ops[kind] += 1
            lines.append(f"    {m.group(2):45s} {m.group(3)[:28]:28s} {kind}")
        where = "outside the loops" if name == entry else f"while body {name}"
        print(f"{where}: {sum(ops.values())} ops {dict(ops)}")
        if verbose:
            print("\n".join(lines))


def trace_summary(run, steps: int, top: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        jax.profiler.start_trace(tmp)
        for _ in range(steps):
            run()
        jax.profiler.stop_trace()
        path = glob.glob(f"{tmp}/**/*.trace.json.gz", recursive=True)[0]
        events = json.load(gzip.open(path))["traceEvents"]
    durs = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X" and not e["name"].startswith(("ThunkExecutor", "$", "Pjit", "Co")):
            durs[e["name"]].append(e["dur"])
    rows = sorted(durs.items(), key=lambda kv: -sum(kv[1]))
    print(f"\n{'ms/step':>8} {'calls':>6} {'median us':>10} {'min us':>9}  operation")
    for name, d in rows[:top]:
        print(
            f"{sum(d) / steps / 1e3:8.3f} {len(d) / steps:6.0f} {statistics.median(d):10.2f} "
            f"{min(d):9.2f}  {name[:70]}"
        )
    leaf = [d for n, d in rows if not n.startswith("while") and not n.startswith("PjRt")]
    print(
        "sum over operations outside while thunks, ms/step: "
        f"{sum(map(sum, leaf)) / steps / 1e3:.2f} as run, "
        f"{sum(min(d) * len(d) for d in leaf) / steps / 1e3:.2f} at each one's minimum"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--hoist", action="store_true")
    ap.add_argument("--autodiff", action="store_true")
    ap.add_argument("--unroll", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--hlo-only", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every loop op")
    args = ap.parse_args()
    compiled, state, data = compiled_step(args.hoist, not args.autodiff, args.unroll)
    hlo_summary(compiled.as_text(), args.verbose)
    if args.hlo_only:
        return
    holder = list(state)

    def run():
        holder[0], holder[1], loss = compiled(*holder, *data)
        loss.block_until_ready()

    for _ in range(3):
        run()
    trace_summary(run, args.steps, args.top)


if __name__ == "__main__":
    main()
