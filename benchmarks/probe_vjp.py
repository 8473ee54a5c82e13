"""Gradient-only timing of one LSTM layer, all variants interleaved in ONE process.

Complements bench_lstm.py (one fresh process per row, full training step): here the rows
alternate inside one process, so process-to-process speed levels cancel out. Reports wall
and CPU time (both threads) per gradient of the bench_lstm workload (D=88, T=100, B=32,
H=128, Dense(88) head, Bernoulli NLL). "hand LSTM" is an LSTM-specific custom VJP written
out by hand (the kind research/perf_population.md measured), as a reference for rnnlab's
generic hand-written backward.

    PYTHONPATH=. python benchmarks/probe_vjp.py               # jax.grad
    PYTHONPATH=. python benchmarks/probe_vjp.py --with-loss   # jax.value_and_grad
    XLA_FLAGS=--xla_cpu_multi_thread_eigen=false taskset -c 0 python benchmarks/probe_vjp.py
"""

from __future__ import annotations

import statistics
import sys
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

import rnnlab as rl

D, T, B, H = 88, 100, 32, 128


def _gates(a_BG):
    z, i, f, o = jnp.split(a_BG, 4, -1)
    return jnp.tanh(z), jax.nn.sigmoid(i), jax.nn.sigmoid(f), jax.nn.sigmoid(o)


@jax.custom_vjp
def hand_lstm(W, b, R, x_TBD):
    return _hand_fwd(W, b, R, x_TBD)[0]


def _hand_fwd(W, b, R, x_TBD):
    def body(carry, x_BD):
        c_prev, h_prev = carry
        g, i, f, o = _gates(x_BD @ W + b + h_prev @ R)
        c = g * i + c_prev * f
        tc = jnp.tanh(c)
        h = tc * o
        return (c, h), (h, h_prev, c_prev, jnp.concatenate([g, i, f, o], -1), tc)

    zeros = jnp.zeros((x_TBD.shape[1], H), x_TBD.dtype)
    _, (h, h_prev, c_prev, acts, tc) = jax.lax.scan(body, (zeros, zeros), x_TBD)
    return h, (W, R, x_TBD, h_prev, c_prev, acts, tc)


def _hand_bwd(res, dy_TBH):
    W, R, x_TBD, h_prev, c_prev, acts, tc = res

    def body(carry, inp):
        dc, dh = carry
        dy, cp, a, tc_t = inp
        g, i, f, o = jnp.split(a, 4, -1)
        dh = dh + dy
        dc = dc + dh * o * (1 - tc_t * tc_t)
        dz = jnp.concatenate(
            [
                dc * i * (1 - g * g),
                dc * g * i * (1 - i),
                dc * cp * f * (1 - f),
                dh * tc_t * o * (1 - o),
            ],
            -1,
        )
        return (dc * f, dz @ R.T), dz

    zeros = jnp.zeros_like(dy_TBH[0])
    _, dz = jax.lax.scan(body, (zeros, zeros), (dy_TBH, c_prev, acts, tc), reverse=True)
    dW = jnp.einsum("tbd,tbg->dg", x_TBD, dz)
    dR = jnp.einsum("tbh,tbg->hg", h_prev, dz)
    return dW, dz.sum((0, 1)), dR, dz @ W.T


hand_lstm.defvjp(_hand_fwd, _hand_bwd)


def make(kind: str, x_BTD, with_loss: bool):
    key = jax.random.PRNGKey(0)
    head = nn.Dense(D)
    cell = rl.cells.get("lstm", H, variant="NP")
    p_rnn = cell.init(key, D)
    if kind == "flax OptimizedLSTMCell":
        module = nn.RNN(nn.OptimizedLSTMCell(H))
        p_rnn = module.init(key, x_BTD)

        def features(p, x):
            return module.apply(p, x)
    elif kind == "hand LSTM":

        def features(p, x):
            y_TBH = hand_lstm(p["W"], p["b"], p["R"], jnp.swapaxes(x, 0, 1))
            return jnp.swapaxes(y_TBH, 0, 1)
    else:
        custom = kind == "rnnlab custom VJP"

        def features(p, x):
            return rl.rnn(cell, p, x, hoist=False, custom_vjp=custom)[0]

    params = {"rnn": p_rnn, "head": head.init(key, jnp.zeros((1, H)))}

    def loss(p, x):
        logits = head.apply(p["head"], features(p["rnn"], x))
        return optax.sigmoid_binary_cross_entropy(logits, x).mean()

    grad = jax.jit(jax.value_and_grad(loss) if with_loss else jax.grad(loss))
    jax.block_until_ready(grad(params, x_BTD))
    return lambda: jax.block_until_ready(grad(params, x_BTD))


def main() -> None:
    with_loss = "--with-loss" in sys.argv
    x_BTD = jnp.asarray((np.random.default_rng(0).random((B, T, D)) < 0.05).astype(np.float32))
    kinds = ["flax OptimizedLSTMCell", "rnnlab autodiff", "rnnlab custom VJP", "hand LSTM"]
    fns = {k: make(k, x_BTD, with_loss) for k in kinds}
    times = {k: [] for k in kinds}
    for _ in range(7):
        for k, f in fns.items():
            c0, w0 = time.process_time(), time.perf_counter()
            for _ in range(10):
                f()
            times[k].append(((time.perf_counter() - w0) * 100, (time.process_time() - c0) * 100))
    what = "value_and_grad" if with_loss else "grad"
    print(f"| {what} of | wall ms | CPU ms |\n|---|---:|---:|")
    for k, v in times.items():
        wall, cpu = statistics.median(w for w, _ in v), statistics.median(c for _, c in v)
        print(f"| {k} | {wall:.1f} | {cpu:.1f} |")


if __name__ == "__main__":
    main()
