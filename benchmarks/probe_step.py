"""Full training steps of one LSTM layer (the bench_lstm.py workload), several variants
interleaved in ONE process: round after round, each variant runs N steps in turn (order
reversed every other round), so machine-load drift hits every variant alike. Reports wall
ms per step (median and minimum over rounds) and CPU ms per step (all threads).

Each variant is a Python dict literal of ``rnnlab.rnn`` options plus three extras:
``flags`` (a preset of XLA:CPU compiler options, below), ``donate`` (donate params and
optimizer state to the step) and ``split`` (run the batch as that many independent
sub-batches). ``--baseline FILE`` adds a row that runs another version of
``rnnlab/recurrent/scan.py`` (e.g. from git history) in the same process.

    PYTHONPATH=. python benchmarks/probe_step.py "{}" "{'unroll': 2}" "{'flags': 'xnn'}"
    git show 1e008da:rnnlab/recurrent/scan.py > /tmp/scan_before.py
    PYTHONPATH=. python benchmarks/probe_step.py "{}" --baseline /tmp/scan_before.py
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import os
import statistics
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

import rnnlab as rl

D, T, B, H = 88, 100, 32, 128
FLAGS = {
    "default": {},
    "eigen": {"xla_cpu_experimental_ynn_fusion_type": ""},  # dots to Eigen, not YNNPACK
    "xnn": {
        "xla_cpu_experimental_xnn_fusion_type": "LIBRARY_FUSION_TYPE_DOT",
        "xla_cpu_experimental_ynn_fusion_type": "",
    },
    "onednn": {
        "xla_cpu_use_onednn": True,
        "xla_cpu_experimental_onednn_fusion_type": "LIBRARY_FUSION_TYPE_DOT",
        "xla_cpu_experimental_ynn_fusion_type": "",
    },
    "fast_math": {"xla_cpu_enable_fast_math": True},
    "concurrency": {"xla_cpu_enable_concurrency_optimized_scheduler": True},
}


def _load_scan(path: str):
    spec = importlib.util.spec_from_file_location("scan_baseline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_step(opts: dict, rnn_fn=None):
    opts = dict(opts)
    flags = FLAGS[opts.pop("flags", "default")]
    donate = opts.pop("donate", False)
    split = opts.pop("split", 1)
    rnn_fn = rnn_fn or rl.rnn
    rng = np.random.default_rng(0)
    roll = (rng.random((B, T + 1, D)) < 0.05).astype(np.float32)
    x, y = jnp.asarray(roll[:, :-1]), jnp.asarray(roll[:, 1:])
    cell, head = rl.cells.get("lstm", H, variant=opts.pop("variant", "NP")), nn.Dense(D)
    key = jax.random.PRNGKey(0)
    params = {"rnn": cell.init(key, D), "head": head.init(key, jnp.zeros((1, H)))}
    tx = optax.sgd(0.01, 0.9)

    def features(p, x):
        parts = [rnn_fn(cell, p, xs, **opts)[0] for xs in jnp.split(x, split, 0)]
        return parts[0] if split == 1 else jnp.concatenate(parts, 0)

    def loss_fn(p, x, y):
        logits = head.apply(p["head"], features(p["rnn"], x))
        return optax.sigmoid_binary_cross_entropy(logits, y).mean()

    def step(p, s, x, y):
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        updates, s = tx.update(g, s, p)
        return optax.apply_updates(p, updates), s, loss

    state = [params, tx.init(params)]
    jitted = jax.jit(step, donate_argnums=(0, 1) if donate else ())
    compiled = jitted.lower(*state, x, y).compile(compiler_options=flags)

    def run():
        state[0], state[1], loss = compiled(state[0], state[1], x, y)
        loss.block_until_ready()

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("variants", nargs="*", default=["{}"])
    ap.add_argument("--baseline", help="another scan.py to time as an extra row")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--steps", type=int, default=10, help="steps per variant per round")
    args = ap.parse_args()
    runs = {v: make_step(ast.literal_eval(v)) for v in args.variants}
    if args.baseline:
        runs[f"baseline {args.baseline}"] = make_step({}, _load_scan(args.baseline).rnn)
    for run in runs.values():
        for _ in range(3):
            run()
    wall = {v: [] for v in runs}
    cpu = {v: [] for v in runs}
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    names = list(runs)
    for r in range(args.rounds):
        for v in names if r % 2 == 0 else names[::-1]:
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(args.steps):
                runs[v]()
            wall[v].append((time.perf_counter() - t0) / args.steps * 1e3)
            cpu[v].append((time.process_time() - c0) / args.steps * 1e3)
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    print("| variant | wall ms median | wall ms min | CPU ms median | CPU vs first |")
    print("|---|---:|---:|---:|---:|")
    first = statistics.median(cpu[names[0]])
    for v in names:
        c = statistics.median(cpu[v])
        print(
            f"| `{v}` | {statistics.median(wall[v]):.1f} | {min(wall[v]):.1f} | {c:.1f} "
            f"| {first / c:.2f}x |"
        )


if __name__ == "__main__":
    main()
