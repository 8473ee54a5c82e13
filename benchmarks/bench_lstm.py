"""Training-step throughput of one LSTM layer on a JSB-like workload, side by side.

Workload (perf_baseline.md): random binary piano roll, D=88, T=100, B=32, H=128, next-step
Bernoulli NLL through a Dense(88) head, SGD with momentum 0.9. One step = forward + backward
+ update. Each implementation runs in its own subprocess; compile time (trace + lower +
compile) is reported apart; the time per step is the median over repetitions of ~0.3 s, and
the table gives the median over rounds of fresh processes (one process can run a JAX program
at one of two speed levels ~30% apart, research/perf_baseline.md).

    python benchmarks/bench_lstm.py                 # all rows, 3 rounds, ~4 min on 2 cores
    python benchmarks/bench_lstm.py --only rnnlab   # rows whose name contains "rnnlab"
    python benchmarks/bench_lstm.py --gpu           # on a GPU: JAX rows + cuDNN reference
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

D, T, B, H = 88, 100, 32, 128
LR, MOMENTUM = 0.01, 0.9

JAX_ROWS = {
    "rnnlab lstm NP, in-loop projection, custom VJP": dict(hoist=False, custom_vjp=True),
    "rnnlab lstm NP, hoisted projection, custom VJP": dict(hoist=True, custom_vjp=True),
    "rnnlab lstm NP, in-loop projection, autodiff": dict(hoist=False, custom_vjp=False),
    "rnnlab lstm NP, hoisted projection, autodiff": dict(hoist=True, custom_vjp=False),
    "rnnlab lstm V (peepholes), in-loop projection, custom VJP": dict(
        hoist=False, custom_vjp=True, variant="V"
    ),
    "rnnlab gru_reset_after, in-loop projection, custom VJP": dict(
        hoist=False, custom_vjp=True, cell="gru_reset_after"
    ),
    "rnnlab lstm NP, in-loop projection, custom VJP, batch split over 2 CPU devices": dict(
        hoist=False, custom_vjp=True, devices=2
    ),
    "flax.linen RNN(OptimizedLSTMCell)": dict(flax=True),
}
CUDNN_ROW = "jax.experimental.rnn.lstm (cuDNN)"  # GPU only: --gpu
TORCH_ROW = "torch.nn.LSTM (eager)"


def _data(seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    roll = (rng.random((B, T + 1, D)) < 0.05).astype(np.float32)
    return roll[:, :-1], roll[:, 1:]


def _time(step, reps: int, rep_seconds: float) -> tuple[float, list[float], float]:
    """Median wall ms per step, each repetition's wall ms, and the median CPU ms per step
    (all threads of the process: on a loaded machine it moves less than wall time)."""
    for _ in range(3):
        step()
    t0 = time.perf_counter()
    step()
    n = max(1, int(rep_seconds / max(time.perf_counter() - t0, 1e-6)))
    times, cpu = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            step()
        times.append((time.perf_counter() - t0) / n * 1e3)
        cpu.append((time.process_time() - c0) / n * 1e3)
    return statistics.median(times), times, statistics.median(cpu)


def run_jax(name: str, reps: int, rep_seconds: float) -> dict:
    import jax

    opts = dict(JAX_ROWS[name]) if name != CUDNN_ROW else {"cudnn": True}
    n_devices = opts.pop("devices", 1)
    if n_devices > 1:  # before JAX starts its backend
        jax.config.update("jax_num_cpu_devices", n_devices)
    import flax.linen as nn
    import jax.numpy as jnp
    import optax

    import rnnlab as rl
    from rnnlab.train import data_parallel

    x_np, y_np = _data()
    x_BTD, y_BTD = jnp.asarray(x_np), jnp.asarray(y_np)
    key = jax.random.PRNGKey(0)
    head = nn.Dense(D)
    if opts.pop("cudnn", False):
        from jax.experimental import rnn as jrnn

        p_rnn = jrnn.init_lstm_weight(key, D, H, 1, False)
        zeros = jnp.zeros((1, B, H))
        lengths = jnp.full((B,), T, jnp.int32)

        def features(p, x):
            return jrnn.lstm(x, zeros, zeros, p, lengths, D, H, 1, 0.0, False)[0]
    elif opts.pop("flax", False):
        rnn_mod = nn.RNN(nn.OptimizedLSTMCell(H))
        p_rnn = rnn_mod.init(key, x_BTD)

        def features(p, x):
            return rnn_mod.apply(p, x)
    else:
        cell_name = opts.pop("cell", "lstm")
        kw = {"variant": opts.pop("variant", "NP")} if cell_name == "lstm" else {}
        cell = rl.cells.get(cell_name, H, **kw)
        p_rnn = cell.init(key, D)

        def features(p, x):
            return rl.rnn(cell, p, x, **opts)[0]

    params = {"rnn": p_rnn, "head": head.init(key, jnp.zeros((1, H)))}
    tx = optax.sgd(LR, MOMENTUM)
    opt_state = tx.init(params)

    def loss_fn(p, x, y):
        logits = head.apply(p["head"], features(p["rnn"], x))
        return optax.sigmoid_binary_cross_entropy(logits, y).mean()

    def train_step(p, s, x, y):
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        updates, s = tx.update(g, s, p)
        return optax.apply_updates(p, updates), s, loss

    state = [params, opt_state]
    t0 = time.perf_counter()
    if n_devices == 1:
        compiled = jax.jit(train_step).lower(params, opt_state, x_BTD, y_BTD).compile()

        def step():
            state[0], state[1], loss = compiled(state[0], state[1], x_BTD, y_BTD)
            loss.block_until_ready()

    else:  # data parallelism: a gradient per device, their mean applied on the first
        devices = jax.devices()[:n_devices]
        parts = data_parallel.split((x_np, y_np), n_devices)
        parts = [jax.device_put(part, d) for part, d in zip(parts, devices)]
        local = jax.jit(lambda p, xy: jax.value_and_grad(loss_fn)(p, *xy))

        @jax.jit
        def apply(p, s, outs):  # equal parts: equal weights
            ones = [1.0] * len(outs)
            loss = data_parallel.weighted_mean([o[0] for o in outs], ones)
            grads = data_parallel.weighted_mean([o[1] for o in outs], ones)
            updates, s = tx.update(grads, s, p)
            return optax.apply_updates(p, updates), s, loss

        def step():
            outs = data_parallel.map_devices(local, devices, state[0], parts)
            state[0], state[1], loss = apply(state[0], state[1], outs)
            loss.block_until_ready()

        step()  # compiles both programs
        state[:] = [params, opt_state]
    compile_s = time.perf_counter() - t0

    median, times, cpu = _time(step, reps, rep_seconds)
    return dict(name=name, compile_s=compile_s, median_ms=median, times=times, cpu_ms=cpu)


def run_torch(reps: int, rep_seconds: float) -> dict:
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(int(os.environ.get("RNNLAB_BENCH_TORCH_THREADS", "2")))
    x_np, y_np = _data()
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    lstm, head = torch.nn.LSTM(D, H, batch_first=True), torch.nn.Linear(H, D)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(head(lstm(x)[0]), y)
        loss.backward()
        opt.step()

    median, times, cpu = _time(step, reps, rep_seconds)
    return dict(name=TORCH_ROW, compile_s=None, median_ms=median, times=times, cpu_ms=cpu)


def versions() -> str:
    out = [f"python {platform.python_version()}", platform.platform()]
    for mod in ("jax", "jaxlib", "flax", "optax", "torch"):
        try:
            out.append(f"{mod} {__import__(mod).__version__}")
        except ImportError:
            out.append(f"{mod} missing")
    import jax

    out.append(f"backend {jax.default_backend()}: {jax.devices()[0].device_kind}")
    return ", ".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", default="", help="run only rows whose name contains this text")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3, help="fresh processes per row")
    ap.add_argument("--rep-seconds", type=float, default=0.3)
    ap.add_argument("--gpu", action="store_true", help="JAX rows plus cuDNN, no torch row")
    ap.add_argument("--row", help=argparse.SUPPRESS)  # internal: run one row in this process
    args = ap.parse_args()
    if args.row:
        fn = run_torch if args.row == TORCH_ROW else None
        res = (
            fn(args.reps, args.rep_seconds)
            if fn
            else run_jax(args.row, args.reps, args.rep_seconds)
        )
        print("RESULT " + json.dumps(res))
        return
    every = [*JAX_ROWS, CUDNN_ROW] if args.gpu else [TORCH_ROW, *JAX_ROWS]
    rows = [r for r in every if args.only.lower() in r.lower()]
    print(f"# LSTM training step, D={D} T={T} B={B} H={H}, BCE next-step, SGD+momentum\n")
    print(versions())
    print(f"{args.rounds} rounds, each row in a fresh process per round (order rotated)")
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    results: dict[str, list[dict]] = {row: [] for row in rows}
    for r in range(args.rounds):
        for row in rows[r % len(rows) :] + rows[: r % len(rows)]:
            res = _run_row(row, args)
            if res is not None:
                results[row].append(res)
    ref = "cuDNN" if args.gpu else "torch"
    print(f"| implementation | compile s | median ms/step | rounds ms | CPU ms/step | vs {ref} |")
    print("|---|---:|---:|---:|---:|---:|")
    medians = {row: statistics.median(x["median_ms"] for x in v) for row, v in results.items() if v}
    torch_ms = medians.get(CUDNN_ROW if args.gpu else TORCH_ROW)
    for row in rows:
        if row not in medians:
            print(f"| {row} | failed | | | | |")
            continue
        compiles = [x["compile_s"] for x in results[row] if x["compile_s"] is not None]
        comp = f"{statistics.median(compiles):.2f}" if compiles else "-"
        rounds = ", ".join(f"{x['median_ms']:.1f}" for x in results[row])
        ratio = f"{torch_ms / medians[row]:.2f}x" if torch_ms else "-"
        cpu = statistics.median(x["cpu_ms"] for x in results[row])
        print(f"| {row} | {comp} | {medians[row]:.2f} | {rounds} | {cpu:.1f} | {ratio} |")


def _run_row(row: str, args: argparse.Namespace) -> dict | None:
    cmd = [sys.executable, __file__, "--row", row, "--reps", str(args.reps)]
    cmd += ["--rep-seconds", str(args.rep_seconds)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not lines:
        print(f"{row}: failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(lines[-1][len("RESULT ") :])


if __name__ == "__main__":
    main()
