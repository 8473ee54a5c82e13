"""Parallel (associative) vs sequential scan: minGRU and LRU against the LSTM.

One training step (loss = mean square of the outputs, gradient w.r.t. all parameters, Adam
update), jitted, for sequence lengths T from 100 to 10,000. Prints a markdown table of the
median step time in milliseconds.

    PYTHONPATH=. python benchmarks/bench_scan.py [--lengths 100 1000 10000] [--batch 8]

Sequential paths use ``rnnlab.rnn`` (hand-written VJP); parallel paths use
``rnnlab.recurrent.parallel_rnn`` (``jax.lax.associative_scan``, autodiff).
"""

from __future__ import annotations

import argparse
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import rnnlab as rl
from rnnlab.recurrent import parallel_rnn

MODELS = {
    "LSTM (sequential)": ("lstm", rl.rnn, {"variant": "standard"}),
    "minGRU sequential": ("mingru", rl.rnn, {}),
    "minGRU parallel": ("mingru", parallel_rnn, {}),
    "LRU sequential": ("lru", rl.rnn, {}),
    "LRU parallel": ("lru", parallel_rnn, {}),
}


def make_step(cell, run):
    opt = optax.adam(1e-3)

    def loss(params, x):
        y, _ = run(cell, params, x)
        return jnp.mean(jnp.square(y))

    @jax.jit
    def step(params, state, x):
        value, grads = jax.value_and_grad(loss)(params, x)
        updates, state = opt.update(grads, state)
        return optax.apply_updates(params, updates), state, value

    return step, opt


def time_step(name, T, batch, hidden, repeats):
    cell_name, run, kwargs = MODELS[name]
    cell = rl.cells.get(cell_name, hidden, **kwargs)
    params = cell.init(jax.random.PRNGKey(0), hidden)
    x = jax.random.normal(jax.random.PRNGKey(1), (batch, T, hidden))
    step, opt = make_step(cell, run)
    state = opt.init(params)
    params, state, v = step(params, state, x)  # compile
    v.block_until_ready()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        params, state, v = step(params, state, x)
        v.block_until_ready()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", type=int, nargs="+", default=[100, 300, 1000, 3000, 10000])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    args = ap.parse_args()
    dev = jax.devices()[0]
    print(
        f"backend {jax.default_backend()} ({dev.device_kind}), jax {jax.__version__}, "
        f"python {platform.python_version()}, batch {args.batch}, hidden {args.hidden}, "
        f"median of {args.repeats} steps after compile; ms per training step\n"
    )
    print("| model | " + " | ".join(f"T={T}" for T in args.lengths) + " |")
    print("|---|" + "---:|" * len(args.lengths))
    for name in args.models:
        row = [time_step(name, T, args.batch, args.hidden, args.repeats) for T in args.lengths]
        print(f"| {name} | " + " | ".join(f"{t:.1f}" for t in row) + " |", flush=True)


if __name__ == "__main__":
    main()
