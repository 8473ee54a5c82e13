"""One LSTM training step (bench_lstm.py's workload) on one XLA CPU device against the same
step data-parallel over N devices in the same process (``shard_map``, half the batch each,
``lax.pmean`` of the gradients), interleaved rounds; prints ms per step and the loss.

    PYTHONPATH=. python benchmarks/probe_data_parallel.py [--devices 2] [--rounds 2]

On jax 0.10.2 the all-reduce of XLA:CPU deadlocked in the second round (its rendezvous
aborts the process after 40 s; benchmarks/README.md, speed goals): run it to see whether a
newer jaxlib fixes that.
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--devices", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    import jax

    jax.config.update("jax_num_cpu_devices", args.devices)
    import flax.linen as nn
    import jax.numpy as jnp
    import numpy as np
    import optax
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as PS

    import rnnlab as rl

    D, T, B, H = 88, 100, 32, 128
    roll = (np.random.default_rng(0).random((B, T + 1, D)) < 0.05).astype(np.float32)
    x_BTD, y_BTD = jnp.asarray(roll[:, :-1]), jnp.asarray(roll[:, 1:])
    key = jax.random.PRNGKey(0)
    cell, head = rl.cells.get("lstm", H, variant="NP"), nn.Dense(D)
    params = {"rnn": cell.init(key, D), "head": head.init(key, jnp.zeros((1, H)))}
    tx = optax.sgd(0.01, 0.9)

    def loss_fn(p, x, y):
        logits = head.apply(p["head"], rl.rnn(cell, p["rnn"], x)[0])
        return optax.sigmoid_binary_cross_entropy(logits, y).mean()

    def step(p, s, x, y, axis=None):
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        if axis is not None:
            g, loss = jax.lax.pmean((g, loss), axis)
        u, s = tx.update(g, s, p)
        return optax.apply_updates(p, u), s, loss

    mesh = Mesh(np.array(jax.devices()), ("d",))
    parallel = jax.shard_map(
        lambda p, s, x, y: step(p, s, x, y, "d"),
        mesh=mesh,
        in_specs=(PS(), PS(), PS("d"), PS("d")),
        out_specs=(PS(), PS(), PS()),
        check_vma=False,
    )
    shard = NamedSharding(mesh, PS("d"))
    rows = {
        "one device": (jax.jit(step), x_BTD, y_BTD),
        f"data-parallel, {jax.device_count()} devices": (
            jax.jit(parallel),
            jax.device_put(x_BTD, shard),
            jax.device_put(y_BTD, shard),
        ),
    }
    for r in range(args.rounds):
        for name, (f, x, y) in rows.items():
            p, s = params, tx.init(params)
            for _ in range(3):
                p, s, loss = f(p, s, x, y)
            loss.block_until_ready()
            wall, cpu = [], []
            for _ in range(5):
                t0, c0 = time.perf_counter(), time.process_time()
                for _ in range(40):
                    p, s, loss = f(p, s, x, y)
                loss.block_until_ready()
                wall.append((time.perf_counter() - t0) / 40 * 1e3)
                cpu.append((time.process_time() - c0) / 40 * 1e3)
            print(
                f"round {r} {name:28s} median {statistics.median(wall):6.2f} ms, "
                f"min {min(wall):6.2f}, CPU {statistics.median(cpu):6.2f} ms; "
                f"loss {float(loss):.6f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
