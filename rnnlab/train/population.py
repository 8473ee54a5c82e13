"""Population training: P trials with different continuous hyperparameters, one program.

``train_population(config, hparams={"lr": lr_P, ...}, seeds=seeds_P)`` trains P trials that
share the structure of ``config``. Each trial is exactly the single-model run with its seed
(same init, data order, dropout/noise keys); only how the P trials are laid out differs:

- ``"vmap"``: ``jax.vmap`` over the whole population (the GPU choice);
- ``"map"``: ``jax.lax.map`` over trials inside one jit (each model's weights stay in cache);
- ``"chunked"``: ``lax.map`` over vmapped chunks of ``chunk_size`` trials;
- ``"loop"``: a Python loop of one jitted per-trial step (the baseline; also how
  ``train_and_evaluate`` runs its one trial).

Every trial early-stops on its own (its state then stops changing) and a trial that
diverges is frozen and flagged; the others are untouched. ``devices`` shards the population
axis over devices with ``jax.shard_map`` (each device runs the strategy on its slice).
Trials that differ in structure are grouped by ``train_trials`` (one compile per group).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as PS

from rnnlab.train import checkpoint as ckpt
from rnnlab.train import datasets, engine
from rnnlab.train.config import CONTINUOUS, TrainConfig, continuous, structure_key

STRATEGIES = ("vmap", "map", "chunked", "loop")


def default_strategy(batch_size: int, backend: str | None = None) -> str:
    """The measured default (benchmarks/README_population.md): vmap on accelerators; on CPU
    lax.map over models at batch >= 8 and vmapped chunks of ~8 models at small batches."""
    backend = backend or jax.default_backend()
    if backend != "cpu":
        return "vmap"
    return "map" if batch_size >= 8 else "chunked"


@dataclasses.dataclass
class PopulationResult:
    """Per-trial outcomes, each an array with a leading population axis P."""

    seeds: np.ndarray
    hparams: dict[str, np.ndarray]
    best_metric: np.ndarray  # best validation value of config.metric (inf if none)
    best_epoch: np.ndarray  # epoch of the best value (-1 if none)
    diverged: np.ndarray
    epochs_trained: np.ndarray
    steps_trained: np.ndarray  # optimiser updates applied
    valid: dict[str, np.ndarray]  # all metrics at the best parameters
    test: dict[str, np.ndarray]
    history: list[dict[str, Any]]  # one record per epoch, per-trial lists
    best_params: Any  # host pytree, leading P axis
    strategy: str

    def trial(self, i: int) -> dict[str, Any]:
        """One trial's results as plain Python values."""
        return {
            "seed": int(self.seeds[i]),
            "hparams": {k: float(v[i]) for k, v in self.hparams.items()},
            "best_metric": float(self.best_metric[i]),
            "best_epoch": int(self.best_epoch[i]),
            "diverged": bool(self.diverged[i]),
            "epochs_trained": int(self.epochs_trained[i]),
            "steps_trained": int(self.steps_trained[i]),
            "valid": {k: float(v[i]) for k, v in self.valid.items()},
            "test": {k: float(v[i]) for k, v in self.test.items()},
            "history": [
                {k: (v[i] if isinstance(v, list) else v) for k, v in rec.items()}
                for rec in self.history
            ],
        }


# ------------------------------------------------------------------ strategies


def _stack(trees: Sequence[Any]) -> Any:
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def _unstack(tree: Any, P: int) -> list[Any]:
    return [jax.tree.map(lambda a, i=i: a[i], tree) for i in range(P)]


class Runner:
    """Applies per-trial functions ``f(*trial_args, *shared_args)`` to a population.

    Population values are stacked pytrees with a leading P axis, except under ``"loop"``
    where they are lists of per-trial pytrees.
    """

    def __init__(self, strategy: str, chunk_size: int = 8, devices: Sequence | None = None):
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}; choose one of {STRATEGIES}.")
        if devices is not None and strategy == "loop":
            raise ValueError("sharding needs a stacked population; use vmap, map or chunked.")
        self.strategy, self.chunk_size = strategy, chunk_size
        self.mesh = None if devices is None else Mesh(np.asarray(devices), ("pop",))

    @property
    def n_shards(self) -> int:
        return 1 if self.mesh is None else self.mesh.size

    def stack(self, trials: Sequence[Any]) -> Any:
        if self.strategy == "loop":
            return list(trials)
        tree = _stack(trials)
        if self.mesh is not None:
            tree = jax.device_put(tree, NamedSharding(self.mesh, PS("pop")))
        return tree

    def to_list(self, pop: Any, P: int) -> list[Any]:
        return list(pop) if self.strategy == "loop" else _unstack(pop, P)

    def to_host(self, pop: Any) -> Any:
        """Host NumPy arrays with a leading P axis."""
        if self.strategy == "loop":
            return jax.tree.map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *pop)
        return jax.tree.map(np.asarray, pop)

    def compile(self, f: Callable, n_trial: int) -> Callable:
        """g(trial_args: tuple, shared_args: tuple) -> per-trial outputs."""
        if self.strategy == "loop":
            jf = jax.jit(f)

            def loop(trial_args, shared):
                P = len(trial_args[0])
                return [jf(*(a[i] for a in trial_args), *shared) for i in range(P)]

            return loop

        strategy, chunk = self.strategy, self.chunk_size

        def batched(trial_args, shared):
            if strategy == "vmap":
                return jax.vmap(lambda *t: f(*t, *shared))(*trial_args)
            size = chunk if strategy == "chunked" else None
            return jax.lax.map(lambda t: f(*t, *shared), trial_args, batch_size=size)

        if self.mesh is not None:
            batched = jax.shard_map(
                batched,
                mesh=self.mesh,
                in_specs=(PS("pop"), PS()),
                out_specs=PS("pop"),
                check_vma=False,
            )
        return jax.jit(batched)


# ------------------------------------------------------------------ the run

_PROGRAMS: dict[tuple, tuple] = {}


_NOT_COMPILED_IN = (
    "num_valid",
    "num_test",
    "data_seed",
    "eval_batch_size",
    "metric",
    "progress",
    "wandb",
    "wandb_project",
    "checkpoint",
    "patience",
    "pad_multiple",
    "bucket",
)


def _program_key(config: TrainConfig) -> str:
    """structure_key without the fields the compiled functions do not depend on."""
    drop = dict.fromkeys(_NOT_COMPILED_IN)
    if config.schedule != "warmup_cosine":
        drop.update(epochs=None, num_train=None)
    return structure_key(config.replace(**{k: getattr(TrainConfig, k, None) for k in drop}))


def _programs(config: TrainConfig, data: dict, use_noise: bool, runner: Runner) -> tuple:
    """(setup, init, step, epoch_end, eval) for a structure, compiled once per process."""
    devices = None if runner.mesh is None else tuple(d.id for d in runner.mesh.devices.flat)
    chunk = runner.chunk_size if runner.strategy == "chunked" else None
    key = (_program_key(config), use_noise, runner.strategy, chunk, devices)
    if key in _PROGRAMS:
        return _PROGRAMS[key]
    setup = engine.make_setup(config, data["train"], use_noise)
    sample = engine.sample_batch(config, data["train"])
    init = jax.jit(lambda s, hp, pat: engine.init_state(setup, s, hp, pat, sample))
    if config.dataset is None:  # per-trial example indices into the device-resident data
        g_step = runner.compile(
            lambda st, idx, ep, bi, d: engine.train_step(setup, st, idx, ep, bi, d), 2
        )
    else:  # one padded batch shared by all trials
        g_step = runner.compile(lambda st, ep, bi, b: engine.train_step_on(setup, st, ep, bi, b), 1)
    g_end = runner.compile(lambda st, m, ep: engine.epoch_end(setup, st, m, ep), 2)

    def eval_fn(st, batch, which):
        best = which & (st.best_epoch >= 0)
        params = jax.tree.map(lambda b, p: jnp.where(best, b, p), st.best_params, st.params)
        return engine.eval_batch(setup, params, batch)

    g_eval = runner.compile(eval_fn, 1)
    if len(_PROGRAMS) > 16:
        _PROGRAMS.clear()
    _PROGRAMS[key] = (setup, init, g_step, g_end, g_eval)
    return _PROGRAMS[key]


def _hparams_P(
    config: TrainConfig, hparams: dict[str, Any] | None, P: int
) -> dict[str, np.ndarray]:
    hparams = dict(hparams or {})
    unknown = sorted(set(hparams) - set(CONTINUOUS))
    if unknown:
        raise ValueError(
            f"{unknown} are not continuous hyperparameters; per-trial values are allowed for "
            f"{CONTINUOUS}. Structural ones (hidden, cell, ...) need separate groups: "
            "use train_trials."
        )
    out = {}
    for k, v in continuous(config).items():
        arr = np.asarray(hparams.get(k, v), np.float32)
        arr = np.broadcast_to(arr, (P,)) if arr.ndim == 0 else arr
        if arr.shape != (P,):
            raise ValueError(f"hparams[{k!r}] has shape {arr.shape}; expected ({P},).")
        out[k] = np.array(arr)
    return out


def _to_device(batch: Any) -> Any:
    return jax.tree.map(jnp.asarray, batch)


def _eval_splits(config: TrainConfig, batch, size: int) -> list[Any]:
    if config.dataset is not None:
        return [_to_device(b) for b in datasets.eval_batches(batch, size, config.pad_multiple)]
    n = batch.x.shape[0]
    return [
        _to_device(jax.tree.map(lambda a, s=s: a[s : s + size], batch)) for s in range(0, n, size)
    ]


def _evaluate(runner: Runner, g_eval: Callable, pop: Any, batches: list[Any], which: int) -> dict:
    sums: dict[str, Any] = {}
    for b in batches:
        out = g_eval((pop,), (b, which))
        out = runner.to_host(out)
        for k, v in out.items():
            sums[k] = sums.get(k, 0.0) + v
    count = np.maximum(sums.pop("count"), 1e-30)
    return {k: v / count for k, v in sums.items()}


def _jsonable(x: np.ndarray, P: int) -> Any:
    x = np.asarray(x)
    vals = [v.item() for v in x[:P]]
    return vals[0] if P == 1 else vals


def train_population(
    config: TrainConfig,
    hparams: dict[str, Any] | None = None,
    seeds: Sequence[int] | np.ndarray | None = None,
    *,
    strategy: str | None = None,
    chunk_size: int = 8,
    devices: Sequence | None = None,
    workdir: str | os.PathLike | None = None,
    callback: Callable[[int, dict], None] | None = None,
) -> PopulationResult:
    """Train P trials of ``config`` together; returns per-trial results.

    Args:
      hparams: per-trial values of continuous hyperparameters, e.g. ``{"lr": lr_P}``;
        missing ones take the config's value.
      seeds: (P,) trial seeds (default ``[config.seed]``); init, data order, dropout and
        noise of trial p depend only on ``seeds[p]``.
      strategy: "vmap" | "map" | "chunked" | "loop"; None picks ``default_strategy``.
      devices: shard the population axis over these devices (P is padded with frozen
        copies of trial 0 to a multiple of their number).
      workdir: checkpoint every epoch there (keeps the last; best parameters are part of
        the state) and append per-epoch metrics to ``metrics.jsonl``; an existing
        checkpoint is resumed, giving the same result as an uninterrupted run.
      callback: ``callback(epoch, record)`` after each epoch (an exception stops the run
        after the checkpoint of that epoch was written).
    """
    seeds = np.asarray([config.seed] if seeds is None else seeds, np.int64)
    P = len(seeds)
    hp_P = _hparams_P(config, hparams, P)
    strategy = strategy or default_strategy(config.batch_size)
    runner = Runner(strategy, chunk_size, devices)

    data = engine.load_data(config)
    use_noise = bool(np.any(hp_P["noise_std"] > 0))
    _, init, g_step, g_end, g_eval = _programs(config, data, use_noise, runner)
    feed = _feed(config, data["train"], g_step)

    # Per-trial init with one jitted function (identical across strategies); padding for
    # sharding with frozen copies of trial 0.
    patience = np.int32(2**30 if config.patience is None else config.patience)
    trials = [
        init(int(s), {k: v[i] for k, v in hp_P.items()}, patience) for i, s in enumerate(seeds)
    ]
    n_pad = (-P) % runner.n_shards
    trials += [trials[0]._replace(active=jnp.bool_(False))] * n_pad
    P_all = P + n_pad
    seeds_all = np.concatenate([seeds, np.repeat(seeds[:1], n_pad)])
    pop = runner.stack(trials)
    valid_batches = _eval_splits(config, data["valid"], config.eval_batch_size)
    test_batches = _eval_splits(config, data["test"], config.eval_batch_size)

    history: list[dict[str, Any]] = []
    start = 0
    manager = None
    if workdir is not None and config.checkpoint:
        manager = ckpt.Manager(workdir, _run_signature(config, hp_P, seeds, strategy))
        restored = manager.restore(runner.to_host(pop))
        if restored is not None:
            start, host_pop = restored
            pop = runner.stack(_unstack(host_pop, P_all))
        history = manager.read_history(start)
    logger = _Logger(config, workdir, P)

    bar = _progress(config, start)
    for epoch in range(start, config.epochs):
        active = runner.to_host(pop.active if strategy != "loop" else [s.active for s in pop])
        if not np.any(active):
            break
        t0 = time.perf_counter()
        pop = feed(pop, epoch, seeds_all)
        host = runner.to_host(_summary(pop, strategy))
        train_loss = host["loss_sum"] / np.maximum(host["loss_steps"], 1)
        valid = _evaluate(runner, g_eval, pop, valid_batches, False)
        if config.metric not in valid:
            raise ValueError(f"metric {config.metric!r} not among {sorted(valid)}.")
        metric_P = np.asarray(valid[config.metric], np.float32)
        trial_metric = metric_P if strategy != "loop" else list(metric_P)
        pop = g_end((pop, trial_metric), (jnp.int32(epoch),))
        after = runner.to_host(_summary(pop, strategy))
        record = {
            "epoch": epoch,
            "trained": _jsonable(active, P),
            "train_loss": _jsonable(train_loss, P),
            **{f"valid_{k}": _jsonable(v, P) for k, v in valid.items()},
            "best_metric": _jsonable(after["best_metric"], P),
            "active": _jsonable(after["active"], P),
            "diverged": _jsonable(after["diverged"], P),
            "lr_scale": _jsonable(after["lr_scale"], P),
        }
        history.append(record)
        if manager is not None:
            manager.save(epoch + 1, runner.to_host(pop), record)
        logger.log(record, time.perf_counter() - t0)
        bar.update(1)
        bar.set_postfix(
            best=float(np.min(after["best_metric"][:P])), active=int(after["active"][:P].sum())
        )
        if callback is not None:
            callback(epoch, record)
    bar.close()
    logger.close()

    valid = _evaluate(runner, g_eval, pop, valid_batches, True)
    test = _evaluate(runner, g_eval, pop, test_batches, True)
    host = runner.to_host(pop)
    return PopulationResult(
        seeds=seeds,
        hparams=hp_P,
        best_metric=host.best_metric[:P],
        best_epoch=host.best_epoch[:P],
        diverged=host.diverged[:P],
        epochs_trained=np.asarray(
            [sum(bool(_at(r["trained"], i)) for r in history) for i in range(P)]
        ),
        steps_trained=np.asarray(host.opt_state.count)[:P],
        valid={k: v[:P] for k, v in valid.items()},
        test={k: v[:P] for k, v in test.items()},
        history=history,
        best_params=jax.tree.map(lambda a: a[:P], host.best_params),
        strategy=strategy,
    )


def _feed(config: TrainConfig, train: Any, g_step: Callable) -> Callable:
    """``feed(pop, epoch, seeds_P) -> pop`` after one epoch of training steps."""
    if config.dataset is None:
        train_dev = _to_device(train)
        n = train.x.shape[0]

        def feed_task(pop, epoch, seeds_P):
            order = np.stack([engine.epoch_order(s, epoch, n, config.batch_size) for s in seeds_P])
            ep = jnp.int32(epoch)
            for i in range(order.shape[1]):
                pop = g_step((pop, order[:, i]), (ep, jnp.int32(i), train_dev))
            return pop

        return feed_task

    def feed_dataset(pop, epoch, seeds_P):
        plan = datasets.train_plan(train, config.batch_size, config.data_seed, epoch, config.bucket)
        ep = jnp.int32(epoch)
        for i, idx in enumerate(plan):
            b = _to_device(datasets.to_batch(train, idx, config.pad_multiple))
            pop = g_step((pop,), (ep, jnp.int32(i), b))
        return pop

    return feed_dataset


def _at(v: Any, i: int) -> Any:
    return v[i] if isinstance(v, list) else v


def _summary(pop: Any, strategy: str) -> Any:
    def one(st):
        return {
            "loss_sum": st.loss_sum,
            "loss_steps": st.loss_steps,
            "best_metric": st.best_metric,
            "active": st.active,
            "diverged": st.diverged,
            "lr_scale": st.opt_state.hyperparams["lr_scale"],
        }

    return [one(s) for s in pop] if strategy == "loop" else one(pop)


def _run_signature(config: TrainConfig, hp_P: dict, seeds: np.ndarray, strategy: str) -> dict:
    d = dataclasses.asdict(config)
    for k in ("progress", "wandb", "wandb_project"):
        d.pop(k)
    return {
        "config": json.loads(json.dumps(d, default=str)),
        "hparams": {k: v.tolist() for k, v in hp_P.items()},
        "seeds": seeds.tolist(),
        "strategy": strategy,
    }


class _Logger:
    """metrics.jsonl in the workdir and, when ``config.wandb``, Weights & Biases."""

    def __init__(self, config: TrainConfig, workdir, P: int):
        self.path = None if workdir is None else os.path.join(workdir, "metrics.jsonl")
        self.run = None
        if config.wandb:
            import wandb

            self.run = wandb.init(
                project=config.wandb_project,
                config=dataclasses.asdict(config),
                dir=None if workdir is None else str(workdir),
            )

    def log(self, record: dict, seconds: float) -> None:
        if self.path is not None:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(self.path, "a") as f:
                f.write(json.dumps({**record, "seconds": round(seconds, 3)}) + "\n")
        if self.run is not None:
            flat = {k: v for k, v in record.items() if not isinstance(v, list)}
            for k, v in record.items():
                if isinstance(v, list) and v and isinstance(v[0], float):
                    flat[f"{k}_min"] = float(np.nanmin(v))
            self.run.log(flat, step=record["epoch"])

    def close(self) -> None:
        if self.run is not None:
            self.run.finish()


class _NoBar:
    def update(self, n):
        pass

    def set_postfix(self, **kw):
        pass

    def close(self):
        pass


def _progress(config: TrainConfig, start: int):
    if not config.progress:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=config.epochs, initial=start, desc="epochs", unit="epoch")


# ------------------------------------------------------------------ grouping


def train_trials(trials: Sequence[tuple[TrainConfig, int]], **kwargs: Any) -> list[dict[str, Any]]:
    """Train trials given as (config, seed) pairs; trials with the same structure
    (``structure_key``) train together as one population (one compile per group).
    Returns one result dict per trial, in input order."""
    groups: dict[str, list[int]] = {}
    for i, (cfg, _) in enumerate(trials):
        groups.setdefault(structure_key(cfg), []).append(i)
    results: list[dict[str, Any] | None] = [None] * len(trials)
    for idx in groups.values():
        base = trials[idx[0]][0]
        hp = {k: np.asarray([getattr(trials[i][0], k) for i in idx]) for k in CONTINUOUS}
        res = train_population(base, hp, [trials[i][1] for i in idx], **kwargs)
        for j, i in enumerate(idx):
            results[i] = res.trial(j)
    return results  # type: ignore[return-value]
