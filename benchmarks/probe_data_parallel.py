"""One LSTM training step (bench_lstm.py's workload) on one XLA CPU device against layouts of
the same step over N devices in the same process, interleaved rounds; prints wall and CPU ms
per step.

    PYTHONPATH=. python benchmarks/probe_data_parallel.py [--devices 2] [--rounds 6]
    PYTHONPATH=. python benchmarks/probe_data_parallel.py --collective   # + shard_map/pmean

Rows: the whole batch on one device; the gradient of one 1/N part alone (what each device
computes); the N parts' gradients at once on N devices (no update: the floor of any layout
without collectives); the trainer's layout (``rnnlab.train.data_parallel``: the gradients
copied to the first device, which applies their mean; the parameters copied out again on
the next step); the update applied on every device from all gradients (parameters stay
replicated, no copy back). ``--collective`` adds ``shard_map`` with ``lax.pmean`` of the
gradients: on jax 0.10.2 XLA:CPU's all-reduce deadlocked after a few steps (its rendezvous
aborts the process after 40 s; benchmarks/README.md, speed goals); run it to see whether a
newer jaxlib fixes that.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--devices", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--steps", type=int, default=20, help="steps per row per round")
    ap.add_argument("--collective", action="store_true", help="add the shard_map/pmean row")
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
    from rnnlab.train import data_parallel

    D, T, B, H = 88, 100, 32, 128
    roll = (np.random.default_rng(0).random((B, T + 1, D)) < 0.05).astype(np.float32)
    x_np, y_np = roll[:, :-1], roll[:, 1:]
    key = jax.random.PRNGKey(0)
    cell, head = rl.cells.get("lstm", H, variant="NP"), nn.Dense(D)
    params = {"rnn": cell.init(key, D), "head": head.init(key, jnp.zeros((1, H)))}
    tx = optax.sgd(0.01, 0.9)
    devices = jax.devices()[: args.devices]
    n = len(devices)

    def loss_fn(p, x, y):
        logits = head.apply(p["head"], rl.rnn(cell, p["rnn"], x)[0])
        return optax.sigmoid_binary_cross_entropy(logits, y).mean()

    def update(p, s, loss, g):
        u, s = tx.update(g, s, p)
        return optax.apply_updates(p, u), s, loss

    @jax.jit
    def whole(p, s, x, y):
        return update(p, s, *jax.value_and_grad(loss_fn)(p, x, y))

    grad = jax.jit(lambda p, xy: jax.value_and_grad(loss_fn)(p, *xy))

    @jax.jit
    def apply_mean(p, s, outs):  # equal parts: equal weights
        ones = [1.0] * len(outs)
        loss = data_parallel.weighted_mean([o[0] for o in outs], ones)
        return update(p, s, loss, data_parallel.weighted_mean([o[1] for o in outs], ones))

    xy0 = jax.device_put((x_np, y_np), devices[0])
    parts = [jax.device_put(p, d) for p, d in zip(data_parallel.split((x_np, y_np), n), devices)]
    state: dict[str, list] = {}

    def row_whole():
        p, s, loss = whole(*state["whole"], *xy0)
        state["whole"] = [p, s]
        return loss

    def row_part():
        return grad(params, parts[0])[0]

    def row_parts():
        outs = [grad(jax.device_put(params, d), part) for d, part in zip(devices, parts)]
        return [o[0] for o in outs]

    def row_first():
        outs = data_parallel.map_devices(grad, devices, state["first"][0], parts)
        p, s, loss = apply_mean(*state["first"], outs)
        state["first"] = [p, s]
        return loss

    def row_every():
        outs = [grad(p, part) for (p, _), part in zip(state["every"], parts)]
        new = [
            apply_mean(p, s, jax.device_put(outs, d)) for (p, s), d in zip(state["every"], devices)
        ]
        state["every"] = [[p, s] for p, s, _ in new]
        return [loss for _, _, loss in new]

    rows = {
        f"whole batch (B={B}), one device": row_whole,
        f"one part alone (B={B // n}), gradient only": row_part,
        f"{n} parts at once on {n} devices, gradients only": row_parts,
        "trainer: mean applied on the first device": row_first,
        "mean applied on every device": row_every,
    }
    if args.collective:
        mesh = Mesh(np.array(devices), ("d",))

        def pmean_step(p, s, x, y):
            loss, g = jax.value_and_grad(loss_fn)(p, x, y)
            return update(p, s, *jax.lax.pmean((loss, g), "d"))

        parallel = jax.jit(
            jax.shard_map(
                pmean_step,
                mesh=mesh,
                in_specs=(PS(), PS(), PS("d"), PS("d")),
                out_specs=(PS(), PS(), PS()),
                check_vma=False,
            )
        )
        xy_sharded = jax.device_put((x_np, y_np), NamedSharding(mesh, PS("d")))

        def row_pmean():
            p, s, loss = parallel(*state["pmean"], *xy_sharded)
            state["pmean"] = [p, s]
            return loss

        rows["shard_map, lax.pmean of the gradients"] = row_pmean

    def reset():
        opt = tx.init(params)
        state.update(
            whole=[params, opt],
            first=[params, opt],
            every=[[jax.device_put(params, d), jax.device_put(opt, d)] for d in devices],
            pmean=[params, opt],
        )

    reset()
    for f in rows.values():
        for _ in range(3):
            jax.block_until_ready(f())
    reset()
    wall: dict[str, list[float]] = {k: [] for k in rows}
    cpu: dict[str, list[float]] = {k: [] for k in rows}
    for r in range(args.rounds):
        names = list(rows) if r % 2 == 0 else list(rows)[::-1]
        for name in names:
            t0, c0 = time.perf_counter(), _cpu_s()
            for _ in range(args.steps):
                jax.block_until_ready(rows[name]())
            wall[name].append((time.perf_counter() - t0) / args.steps * 1e3)
            cpu[name].append((_cpu_s() - c0) / args.steps * 1e3)
    same = all(
        np.array_equal(a, b)
        for p, _ in state["every"]
        for a, b in zip(jax.tree.leaves(jax.device_get(state["first"][0])), jax.tree.leaves(p))
    )
    print(f"{args.rounds} rounds x {args.steps} steps, order reversed every other round")
    print("| layout | wall ms median | wall ms min | CPU ms median |")
    print("|---|---:|---:|---:|")
    for name in rows:
        print(
            f"| {name} | {statistics.median(wall[name]):.2f} | {min(wall[name]):.2f} | "
            f"{statistics.median(cpu[name]):.2f} |"
        )
    print(f"parameters of the two update layouts identical after every step: {same}")


if __name__ == "__main__":
    main()
