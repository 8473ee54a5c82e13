"""Population training throughput: rnnlab strategies vs training trials one after another.

P small LSTMs (H=64, T=100, D=88, next-step Bernoulli NLL, SGD + Nesterov momentum),
batch B=16 and B=1. Rows: rnnlab's population step with each strategy (vmap, map, chunked
of 8, loop = a Python loop of one jitted per-trial step) and a torch loop (torch.nn.LSTM +
Linear, torch.optim.SGD). Throughput in model-steps/s and as a fraction of the machine's
measured 1024^3 fp32 matmul rate; FLOPs per model step (matmuls only, forward + backward,
no dx for the data; research/perf_population.md):

    fwd = 2 B T (D 4H + H 4H + H D),   total = 3 fwd - 2 B T D 4H.

    python benchmarks/bench_population.py --quick                 # one 2-thread process
    python benchmarks/bench_population.py --quick --processes 2   # 1 single-thread worker/core
    python benchmarks/bench_population.py --quick --devices 2     # slots sharded on 2 CPU devices
    RNNLAB_BENCH_TORCH_THREADS=1 python benchmarks/bench_population.py --quick --kinds torch
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time

H, T, D = 64, 100, 88


def flops_per_model_step(B: int) -> float:
    fwd = 2 * B * T * (D * 4 * H + H * 4 * H + H * D)
    return 3 * fwd - 2 * B * T * D * 4 * H


def _timeit(fn, min_time: float, reps: int) -> float:
    """Median seconds of ``fn()`` over ``reps`` repetitions of >= min_time/reps each."""
    fn()
    t0 = time.perf_counter()
    fn()
    one = time.perf_counter() - t0
    inner = max(1, int(min_time / reps / max(one, 1e-6)))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return statistics.median(times)


def matmul_gflops() -> float:
    import jax

    a = jax.random.normal(jax.random.PRNGKey(0), (1024, 1024))
    f = jax.jit(lambda x: x @ x)
    s = _timeit(lambda: f(a).block_until_ready(), 0.5, 5)
    return 2 * 1024**3 / s / 1e9


def _config(B: int):
    from rnnlab.train import Config, DataConfig, LoopConfig, ModelConfig, OptimConfig

    n = max(64, 4 * B)
    return Config(
        data=DataConfig(
            name="piano_roll",
            options={"num_train": n, "length": T},
            batch_size=B,
            pad_multiple=T,
        ),
        model=ModelConfig(
            cell="lstm",
            hidden=H,
            cell_options={"variant": "standard"},
            custom_vjp=os.environ.get("RNNLAB_BENCH_AUTODIFF") is None,
        ),
        optim=OptimConfig(name="sgd", lr=0.01, momentum=0.9, nesterov=True),
        loop=LoopConfig(progress=False, checkpoint=False),
    )


def jax_population(P: int, B: int, strategy: str, min_time: float, reps: int) -> float:
    """Model-steps/s of rnnlab's population train step (``rnnlab.train.population``), the P
    slots laid out by ``strategy`` and sharded over this process's devices; ``loop`` is a
    Python loop of one jitted lone-model step over P trials."""
    import jax
    import numpy as np

    from rnnlab.train import Trial, problem
    from rnnlab.train.population import Population, Runner, group_for

    config = _config(B)
    devices = jax.devices() if strategy != "loop" and P % jax.device_count() == 0 else ()
    runner = Runner("map" if strategy == "loop" else strategy, chunk_size=8, devices=devices)
    size = 1 if strategy == "loop" else P
    group = group_for(config, size, runner, pad=False)
    pops = []
    for members in [[s] for s in range(P)] if strategy == "loop" else [list(range(P))]:
        pop = Population(group)
        for i, seed in enumerate(members):
            pop.assign(i, Trial(config, seed))
        pops.append(pop)
    plan = problem.epoch_plan(group.splits.train, B, 0, 0, None)[0]
    batch = group.place(problem.population_batch(group.train_data, np.stack([plan] * size), T))
    hps = [pop._hparams() for pop in pops]

    def run():
        for pop, hp in zip(pops, hps):
            pop.pop = group.train_step(pop.pop, (batch, hp), ())
        jax.block_until_ready([pop.pop for pop in pops])

    return P / _timeit(run, min_time, reps)


def torch_loop(P: int, B: int, min_time: float, reps: int) -> float:
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(int(os.environ.get("RNNLAB_BENCH_TORCH_THREADS", "2")))
    models, opts = [], []
    for _ in range(P):
        m = torch.nn.ModuleDict(
            {"lstm": torch.nn.LSTM(D, H, batch_first=True), "head": torch.nn.Linear(H, D)}
        )
        models.append(m)
        opts.append(torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, nesterov=True))
    x = (torch.rand(B, T, D) < 0.05).float()
    y = (torch.rand(B, T, D) < 0.05).float()
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="sum")

    def run():
        for m, o in zip(models, opts):
            o.zero_grad()
            out, _ = m["lstm"](x)
            loss = loss_fn(m["head"](out), y) / (B * T)
            loss.backward()
            o.step()

    return P / _timeit(run, min_time, reps)


def measure(kind: str, P: int, B: int, min_time: float, reps: int) -> float:
    if kind == "torch":
        return torch_loop(P, B, min_time, reps)
    return jax_population(P, B, kind, min_time, reps)


# ------------------------------------------------------------------ processes


def _worker(rank, n_workers, rows, min_time, reps, barrier, queue):
    os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false"
    os.environ["RNNLAB_BENCH_TORCH_THREADS"] = "1"
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[rank % len(cpus)]})
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    for kind, P, B in rows:
        share = P // n_workers + (1 if rank < P % n_workers else 0)
        barrier.wait()
        rate = measure(kind, share, B, min_time, reps) if share else 0.0
        queue.put((kind, P, B, rank, rate))
        barrier.wait()


def run_processes(rows, n, min_time, reps) -> dict:
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(n), ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(r, n, rows, min_time, reps, barrier, queue))
        for r in range(n)
    ]
    for p in procs:
        p.start()
    out: dict = {}
    for _ in range(n * len(rows)):
        kind, P, B, _, rate = queue.get()
        out[(kind, P, B)] = out.get((kind, P, B), 0.0) + rate
    for p in procs:
        p.join()
    return out


# ------------------------------------------------------------------ main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short timings (~5 min in all)")
    ap.add_argument("--processes", type=int, default=1)
    ap.add_argument(
        "--devices", type=int, default=1, help="XLA CPU devices; populations are sharded on them"
    )
    ap.add_argument("--P", type=int, nargs="*", default=[1, 8, 32, 128])
    ap.add_argument("--B", type=int, nargs="*", default=[16, 1])
    ap.add_argument("--kinds", nargs="*", default=["vmap", "map", "chunked", "loop", "torch"])
    args = ap.parse_args(argv)
    min_time, reps = (0.6, 3) if args.quick else (2.0, 5)
    rows = [(k, P, B) for B in args.B for P in args.P for k in args.kinds]
    if args.quick:  # at P=1 vmap and chunked are the same program as map
        rows = [r for r in rows if not (r[0] in ("vmap", "chunked") and r[1] == 1)]

    import jax

    if args.devices > 1:
        jax.config.update("jax_num_cpu_devices", args.devices)
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:  # a GPU machine may lack torch: run without the torch rows
        torch_version = "missing"
        rows = [r for r in rows if r[0] != "torch"]
    t_start = time.time()
    gf = matmul_gflops()
    if args.processes > 1:
        rates = run_processes(rows, args.processes, min_time, reps)
    else:
        rates = {}
        for kind, P, B in rows:
            rates[(kind, P, B)] = measure(kind, P, B, min_time, reps)
            print(
                f"  {kind:8s} P={P:4d} B={B:3d}: {rates[(kind, P, B)]:9.1f} model-steps/s",
                file=sys.stderr,
                flush=True,
            )
    lines = [
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"python {platform.python_version()}, jax {jax.__version__}, torch {torch_version}; "
        f"backend {jax.default_backend()}",
        f"command: python benchmarks/bench_population.py {' '.join(argv or sys.argv[1:])}",
        f"processes: {args.processes}; devices: {jax.device_count()}; "
        f"1024^3 fp32 matmul (jax, this process): {gf:.0f} GFLOP/s; "
        f"wall {time.time() - t_start:.0f} s; load average at the end: "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        "",
        "| B | P | strategy | model-steps/s | GFLOP/s | fraction of matmul rate |",
        "|---:|---:|---|---:|---:|---:|",
    ]
    for kind, P, B in rows:
        r = rates[(kind, P, B)]
        g = r * flops_per_model_step(B) / 1e9
        name = {"loop": "loop (jax loop of jit(step))", "torch": "torch loop"}.get(kind, kind)
        lines.append(f"| {B} | {P} | {name} | {r:.0f} | {g:.1f} | {g / gf:.1%} |")
    print("\n".join(lines))
    json.dump(
        {f"{k}|{P}|{B}": v for (k, P, B), v in rates.items()},
        open(os.environ.get("BENCH_JSON", os.devnull), "w"),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
