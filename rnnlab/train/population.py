"""Populations: S slots of trials trained in one compiled program, refilled from a queue.

``run_queue(next_trial, slots=S)`` trains trials that share a program (``program_key``):
their hidden sizes may differ (each is initialised alone at its size and embedded in the
bucket size, ``rnnlab.train.padding``), and so may their LSTM variants other than FGR (each
placed in the switchable LSTM, ``rnnlab.train.variants``). When a trial ends (early stop,
divergence, its epoch limit) its slot takes the next trial at the next epoch boundary. Each
slot follows its own trial's epochs (data order from (trial seed, trial epoch)), so a
trial's numbers equal training it alone, whichever slot and whichever moment it starts in.

How the S slots are laid out is a ``Strategy``: ``vmap``, ``map`` (``lax.map``) or
``chunked``; ``devices`` shards the slot axis over devices with ``jax.shard_map``, and a
lone model whose batch splits evenly over them trains data-parallel instead
(``rnnlab.train.data_parallel``). With ``data.pad_multiple=0`` on one device every batch has
one shape and an epoch is one compiled ``lax.scan`` over its steps, gathering each step's
batch on the device; otherwise each step is a dispatch of the compiled step.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as PS

from rnnlab import data
from rnnlab.models.config import ModelConfig
from rnnlab.train import data_parallel, hparams, optim, padding, problem, step, variants
from rnnlab.train.config import Config, Strategy

Array = jax.Array


def default_strategy(batch_size: int, backend: str | None = None) -> Strategy:
    """The measured default (benchmarks/README.md): vmap on accelerators; on CPU lax.map over
    models at batch >= 8 and vmapped chunks of ~8 models at small batches."""
    if (backend or jax.default_backend()) != "cpu":
        return Strategy.VMAP
    return Strategy.MAP if batch_size >= 8 else Strategy.CHUNKED


#: On CPU at batch < 8 a population trains faster per trial than one model at a time only for
#: hidden sizes up to this (JSB, online updates, P = 8: 1.58x at 48, 1.33x at 64, 1.11x at 96,
#: 0.62x at 184; benchmarks/README.md, 3d): each step pads every slot to the longest of the
#: slots' sequences and streams all P models' weights through the cache.
CPU_POPULATION_MAX_HIDDEN = 64

#: The same where an epoch is one program (``data.pad_multiple=0``): without a dispatch per
#: step to share, a population pays only at small sizes (single-threaded, P = 8: 1.13x at 24
#: and 32, 0.96-1.04x at 48 and 64; benchmarks/README.md, 3d).
CPU_POPULATION_MAX_HIDDEN_ONE_PROGRAM = 32


def default_slots(config: Config, slots: int, pad: bool = True, backend: str | None = None) -> int:
    """``slots``, or 1 where a population is measured not to pay (CPU, batch < 8, hidden
    bucket over ``CPU_POPULATION_MAX_HIDDEN``, or ``CPU_POPULATION_MAX_HIDDEN_ONE_PROGRAM``
    with ``data.pad_multiple=0``): trials then run one after another in one program, which
    also compiles one program per bucket instead of one per population size."""
    small_batch = config.data.batch_size < 8
    hidden = hparams.program_model(config, pad).hidden
    cpu = (backend or jax.default_backend()) == "cpu"
    one_program = config.data.pad_multiple == 0
    limit = CPU_POPULATION_MAX_HIDDEN_ONE_PROGRAM if one_program else CPU_POPULATION_MAX_HIDDEN
    return 1 if cpu and small_batch and hidden > limit else slots


@dataclasses.dataclass(frozen=True)
class Trial:
    """One trial: a pure function of (config, seed); ``key`` is the caller's name for it."""

    config: Config
    seed: int
    key: str = ""


@dataclasses.dataclass
class TrialResult:
    """A finished trial. ``valid``/``test`` hold every metric at the best validation epoch;
    ``params`` are the best parameters at the trial's own size (NumPy)."""

    key: str
    seed: int
    config: Config
    best_metric: float
    best_epoch: int
    diverged: bool
    epochs_trained: int
    steps_trained: int
    valid: dict[str, float]
    test: dict[str, float]
    history: list[dict[str, Any]]
    params: Any
    seconds: float

    def summary(self) -> dict[str, Any]:
        """Everything but the parameters, as plain JSON-able values."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d.pop("params")
        d["config"] = self.config.to_dict()
        return d


# ------------------------------------------------------------------ layouts


class Runner:
    """Applies per-trial functions ``f(*trial_args, *shared_args)`` to S stacked slots."""

    def __init__(self, strategy: Strategy | str, chunk_size: int = 8, devices: Sequence = ()):
        try:
            self.strategy = Strategy(strategy)
        except ValueError:
            choices = ", ".join(s.value for s in Strategy)
            raise ValueError(f"unknown strategy {strategy!r}; choose one of {choices}.") from None
        self.chunk_size = chunk_size
        self.devices = tuple(devices)
        self.mesh = Mesh(np.asarray(devices), ("pop",)) if len(devices) else None

    @property
    def n_shards(self) -> int:
        return 1 if self.mesh is None else self.mesh.size

    def round_slots(self, size: int, batch_size: int) -> int:
        """``size`` slots rounded up to a multiple of the device count, except for one model
        whose batch splits evenly over several devices: it trains data-parallel."""
        n = self.n_shards
        if size == 1 and n > 1 and batch_size % n == 0:
            return 1
        return -(-size // n) * n

    def data_parallel(self, slots: int) -> bool:
        """Whether a population of ``slots`` is one model with its batch split over the
        devices (its state lives on the first device)."""
        return slots == 1 and self.n_shards > 1

    def place(self, tree: Any, slots: int) -> Any:
        if self.mesh is None:
            return jax.device_put(tree)  # one call for all leaves
        if self.data_parallel(slots):
            return jax.device_put(tree, self.devices[0])
        return jax.device_put(tree, NamedSharding(self.mesh, PS("pop")))

    def compile(self, f: Callable, slots: int, donate: bool = False) -> Callable:
        """``batched(f, slots)`` compiled. With ``donate`` the population's ``state`` is
        donated: the outputs take its buffers, so what passes through unchanged (best
        parameters, masks) is not copied (2-7% of a batch-1 JSB step, benchmarks/README.md 3e)."""
        return jax.jit(self.batched(f, slots), donate_argnums=(0,) if donate else ())

    def batched(self, f: Callable, slots: int) -> Callable:
        """g(state, trial_args: tuple, shared_args: tuple) -> stacked per-trial outputs of
        ``f(state, *trial_args, *shared_args)`` over ``slots`` slots, not compiled."""
        strategy, chunk = self.strategy, self.chunk_size
        one_model = slots == 1 and (self.mesh is None or self.data_parallel(slots))

        def batched(state, trial_args, shared):
            per_trial = (state, *trial_args)
            if one_model:  # no population axis to map
                one = f(*jax.tree.map(lambda a: a[0], per_trial), *shared)
                return jax.tree.map(lambda a: a[None], one)
            if strategy is Strategy.VMAP:
                return jax.vmap(lambda *t: f(*t, *shared))(*per_trial)
            size = chunk if strategy is Strategy.CHUNKED else None
            return jax.lax.map(lambda t: f(*t, *shared), per_trial, batch_size=size)

        if self.mesh is not None and not one_model:
            batched = jax.shard_map(
                batched,
                mesh=self.mesh,
                in_specs=(PS("pop"), PS("pop"), PS()),
                out_specs=PS("pop"),
                check_vma=False,
            )
        return batched


# ------------------------------------------------------------------ one program


def _eval_splits(splits: Any, pad_multiple: int) -> list[tuple[Any, int | None]]:
    """(validation, test) with the longest time each may be padded to: its own longest, or
    with ``pad_multiple=0`` the longest of both, so that they share one program."""
    pair = (splits.valid, splits.test)
    if pad_multiple != 0:
        return [(ds, None) for ds in pair]
    T = max(int(np.max(ds.lengths)) for ds in pair if len(ds))
    return [(ds, T) for ds in pair]


class Group:
    """The compiled functions and data of one program (one bucket of trials)."""

    def __init__(self, config: Config, slots: int, runner: Runner, pad: bool = True):
        self.config, self.pad = config, pad
        self.splits = data.load(config.data.name, **config.data.options)
        self.train_data = problem.pad_all(self.splits.train)
        self.problem = problem.problem(self.splits.train)
        if self.problem.num_train < config.data.batch_size:
            raise ValueError(
                f"data.batch_size {config.data.batch_size} exceeds the "
                f"{self.problem.num_train} training examples; lower it or use more data."
            )
        self.model = hparams.program_model(config, pad)
        self.hidden = self.model.hidden
        self.program = step.make_program(
            dataclasses.replace(config, model=self.model), self.problem
        )
        first = np.zeros(1, np.int64)
        self.sample = problem.batch(self.splits.train, first, int(self.splits.train.lengths[0]))
        self._check_metric()
        self.slots, self.runner = slots, runner
        p = self.program
        self.train_epoch_fn: Callable | None = None
        if runner.data_parallel(slots):
            self.train_step = _data_parallel_step(p, runner.devices)
        else:
            step_fn = runner.batched(lambda st, b, hp: step.train_step(p, st, b, hp)[0], slots)
            self.train_step = jax.jit(step_fn, donate_argnums=0)
            if config.data.pad_multiple == 0 and runner.mesh is None:
                self.train_epoch_fn = jax.jit(_epoch_loop(step_fn), donate_argnums=0)
                self.train_device = jax.device_put(self.train_data.batch)
        self.epoch_end = runner.compile(lambda st, m: step.epoch_end(p, st, m), slots, donate=True)
        self.evaluate_fn = runner.compile(
            lambda st, b, best: step.eval_step(p, step.eval_params(st, best), b), slots
        )
        self.valid, self.test = (
            problem.eval_batches(ds, config.data.eval_batch_size, config.data.pad_multiple, T)
            for ds, T in _eval_splits(self.splits, config.data.pad_multiple)
        )
        self._lones: dict[str, tuple[step.Program, Callable]] = {}
        self.trained = False  # set after its first epoch: the train step is compiled

    def place(self, tree: Any) -> Any:
        """``tree`` (stacked over this group's slots) on its devices."""
        return self.runner.place(tree, self.slots)

    def place_batch(self, batch: problem.Batch) -> Any:
        """A training batch as ``train_step`` takes it (kept on the host when it is split
        over devices, so each part is copied once, to its own device)."""
        return batch if self.runner.data_parallel(self.slots) else self.place(batch)

    def _check_metric(self) -> None:
        """Fail before any compile or write when loop.metric is not a metric of the data."""
        optim.check(self.config.optim)
        params = jax.eval_shape(lambda: step.init_params(self.program, 0, self.sample))
        names = jax.eval_shape(lambda p: step.eval_step(self.program, p, self.sample), params)
        names = sorted(set(names) - {"count"})
        if self.config.loop.metric not in names:
            raise ValueError(
                f"loop.metric {self.config.loop.metric!r} is not a metric of "
                f"{self.config.data.name}; choose one of {', '.join(names)}."
            )

    def _lone(self, model: ModelConfig) -> tuple[step.Program, Callable]:
        """(the program of a lone model ``model`` on this group's data, its initializer:
        seed -> host parameters)."""
        key = json.dumps(dataclasses.asdict(model), sort_keys=True, default=str)
        if key not in self._lones:
            lone = step.make_program(dataclasses.replace(self.config, model=model), self.problem)
            self._lones[key] = lone, step.initializer(lone, self.sample)
        return self._lones[key]

    def _shapes(self, model: ModelConfig) -> Any:
        lone, _ = self._lone(model)
        return jax.eval_shape(lambda: step.init_params(lone, 0, self.sample))

    def check(self, trial: Trial) -> None:
        if hparams.program_key(trial.config, self.pad) != hparams.program_key(
            self.config, self.pad
        ):
            raise ValueError(
                "all trials of one population must share their structure (program_key); "
                f"trial {trial.key or trial.seed} differs: group trials with train_trials."
            )

    def init_trial(self, trial: Trial) -> step.TrainState:
        """Trial state at the bucket size: initialised alone as its own model, then embedded."""
        model = trial.config.model
        lone = self._lone(model)[1](trial.seed)
        params, mask = self._embed(lone, model)
        hp = hparams.of(trial.config)
        return step.init_state(self.program, trial.seed, hp, params, mask, trial.config.loop.epochs)

    def _template(self) -> Any:
        """The program's parameter shapes: all that embedding a trial reads of them (no
        initialisation at the bucket size is compiled for it)."""
        if not hasattr(self, "_tmpl"):
            self._tmpl = self._shapes(self.model)
        return self._tmpl

    def _embed(self, lone: Any, model: ModelConfig) -> tuple[Any, Any]:
        """(lone parameters of ``model`` in the program's parameter tree, grad mask): its
        LSTM variant placed in the switchable LSTM when the program runs one
        (``rnnlab.train.variants``), then padded to the bucket (``rnnlab.train.padding``)."""
        h, template = model.hidden, self._template()
        if not variants.is_union(self.model):
            return padding.embed(lone, template, h, self.hidden)
        union, part_mask = variants.embed(lone, template, variants.variant_of(model), h)
        params, _ = padding.embed(union, template, h, self.hidden)
        mask, _ = padding.embed(part_mask, template, h, self.hidden)
        return params, mask

    def lone_params(self, padded: Any, model: ModelConfig) -> Any:
        """The parameters of a trial of ``model`` (its own variant and size) inside
        ``padded``: the inverse of its embedding."""
        h = model.hidden
        if not variants.is_union(self.model):
            return padding.extract(padded, self._shapes(model), h, self.hidden)
        union_shapes = self._shapes(dataclasses.replace(self.model, hidden=h))
        union = padding.extract(padded, union_shapes, h, self.hidden)
        return variants.extract(union, self._shapes(model), variants.variant_of(model), h)

    def evaluate(self, pop: Any, batches: list, best: bool) -> dict[str, np.ndarray]:
        sums: dict[str, Any] = {}
        for b in batches:
            out = jax.device_get(self.evaluate_fn(pop, (), (jax.device_put(b), best)))
            for k, v in out.items():
                sums[k] = sums.get(k, 0.0) + v
        count = np.maximum(sums.pop("count"), 1e-30)
        return {k: v / count for k, v in sums.items()}


def _epoch_loop(step_fn: Callable) -> Callable:
    """(state, idx_EPB, hp, data) -> state after one epoch: ``step_fn`` on the batches
    ``data[idx_PB]`` for each step's (P, B) example indices, in one ``lax.scan``. Every batch
    has the shape of ``data`` (padded to its longest sequence), so the epoch is one program
    and one dispatch instead of one per step: on JSB at batch 1, 1.3-1.95x per trial-epoch
    for a single-threaded sweep worker at H <= 96, equal bit for bit (benchmarks/README.md
    3d)."""

    def epoch(state, idx_EPB, hp, data):
        def one_step(st, idx_PB):
            return step_fn(st, (problem.take(data, idx_PB), hp), ()), None

        return jax.lax.scan(one_step, state, idx_EPB)[0]

    return epoch


def _unstack(tree: Any) -> Any:
    return jax.tree.map(lambda a: a[0], tree)


def _stack(tree: Any) -> Any:
    return jax.tree.map(lambda a: a[None], tree)


def _data_parallel_step(program: step.Program, devices: Sequence) -> Callable:
    """The train step of one model (slot axis of size 1) with each batch split over
    ``devices``: a gradient per device, their count-weighted mean applied on the first
    (``rnnlab.train.data_parallel``); called as a compiled population step."""

    def local(shared, part):
        (state, hp), (batch, shard) = shared, part
        return step.gradients(program, _unstack(state), _unstack(batch), _unstack(hp), shard)

    def apply(state, hp, outs):
        loss = data_parallel.weighted_mean([o[0] for o in outs], [o[2] for o in outs])
        grads = data_parallel.weighted_mean([o[1] for o in outs], [o[2] for o in outs])
        return _stack(step.apply_gradients(program, _unstack(state), loss, grads, _unstack(hp)))

    local_jit, apply_jit = jax.jit(local), jax.jit(apply)

    def train_step(state, args, shared=()):
        batch, hp = args
        parts = data_parallel.split(batch, len(devices), axis=1)
        parts = [(b, np.int32(d)) for d, b in enumerate(parts)]
        needed = state._replace(opt_state=None, best_params=None)  # what the gradient reads
        outs = data_parallel.map_devices(local_jit, devices, (needed, hp), parts)
        return apply_jit(state, hp, outs)

    return train_step


_GROUPS: dict[tuple, Group] = {}


def _group_key(config: Config, slots: int, runner: Runner, pad: bool) -> tuple:
    devices = () if runner.mesh is None else tuple(d.id for d in runner.mesh.devices.flat)
    return (hparams.program_key(config, pad), slots, runner.strategy, runner.chunk_size, devices)


def trained_group(config: Config, slots: int, runner: Runner, pad: bool = True) -> bool:
    """Whether this process has already trained the ``Group`` of these arguments (its
    programs are compiled)."""
    group = _GROUPS.get(_group_key(config, slots, runner, pad))
    return group is not None and group.trained


def group_for(config: Config, slots: int, runner: Runner, pad: bool = True) -> Group:
    """The ``Group`` of a program, built once per process (compiled functions and data are
    reused by later runs of the same structure, as in a notebook or a sweep)."""
    key = _group_key(config, slots, runner, pad)
    if key not in _GROUPS:
        if len(_GROUPS) >= 16:
            _GROUPS.pop(next(iter(_GROUPS)))
        _GROUPS[key] = Group(config, slots, runner, pad)
    return _GROUPS[key]


# ------------------------------------------------------------------ the slot loop


@dataclasses.dataclass
class _Slot:
    trial: Trial
    index: int  # position in the order trials were taken
    epoch: int = 0
    history: list = dataclasses.field(default_factory=list)
    start: float = dataclasses.field(default_factory=time.perf_counter)
    ended: bool = False


def _put(pop: Any, i: int, state: Any) -> Any:
    return jax.tree.map(lambda a, x: a.at[i].set(x), pop, state)


_put_jit = jax.jit(_put, donate_argnums=0)


def _record(epoch: int, train_loss: float, valid: dict[str, float]) -> dict[str, Any]:
    return {"epoch": epoch, "train_loss": train_loss, **{f"valid_{k}": v for k, v in valid.items()}}


class Population:
    """S slots over one ``Group``: the state on device and the slot table on the host."""

    def __init__(self, group: Group):
        self.group = group
        self.slots: list[_Slot | None] = [None] * group.slots
        self.pop: Any = None
        self.hp: list = [None] * group.slots
        self.taken = 0

    def assign(self, s: int, trial: Trial, state: step.TrainState | None = None) -> None:
        """Put ``trial`` (fresh, or with ``state``) into slot ``s``."""
        self.group.check(trial)
        state = self.group.init_trial(trial) if state is None else state
        if self.pop is None:
            stacked = jax.tree.map(lambda x: np.stack([x] * self.group.slots), state)
            stacked = stacked._replace(active=np.zeros(self.group.slots, bool))
            self.pop = self.group.place(stacked)
        self.pop = _put_jit(self.pop, s, jax.device_put(state))
        self.hp[s] = hparams.of(trial.config)
        self.slots[s] = _Slot(trial, self.taken)
        self.taken += 1

    def _hparams(self) -> hparams.HParams:
        filler = next(h for h in self.hp if h is not None)
        return self.group.place(hparams.stack([h or filler for h in self.hp]))

    def train_epoch(self) -> None:
        """One epoch of every slot, each on its own trial's plan."""
        g = self.group
        c = g.config.data
        filler = next(s for s in self.slots if s is not None)
        plans = [
            problem.epoch_plan(
                g.splits.train,
                c.batch_size,
                (s or filler).trial.seed,
                (s or filler).epoch,
                c.bucket,
            )
            for s in self.slots
        ]
        hp = self._hparams()
        self.started = jax.device_get(self.pop.active)
        if g.train_epoch_fn is not None:
            idx_EPB = jax.device_put(np.stack(plans, axis=1).astype(np.int32))
            self.pop = g.train_epoch_fn(self.pop, idx_EPB, hp, g.train_device)
            g.trained = True
            return
        for i in range(g.program.steps_per_epoch):
            idx_PB = np.stack([plan[i] for plan in plans])
            b = problem.population_batch(g.train_data, idx_PB, c.pad_multiple)
            self.pop = g.train_step(self.pop, (g.place_batch(b), hp), ())
        g.trained = True

    def end_epoch(self) -> list[tuple[int, dict]]:
        """Validation, early stopping and records: [(slot, record)] of the trials that
        trained this epoch."""
        g = self.group
        before = self.started
        loss = jax.device_get(self.pop.loss_sum / jnp.maximum(self.pop.loss_steps, 1))
        valid = g.evaluate(self.pop, g.valid, best=False)
        metric = valid[g.config.loop.metric]
        self.pop = g.epoch_end(self.pop, (g.place(np.asarray(metric, np.float32)),), ())
        out = []
        for s, slot in enumerate(self.slots):
            if slot is None or not before[s]:
                continue
            rec = _record(slot.epoch, float(loss[s]), {k: float(v[s]) for k, v in valid.items()})
            slot.history.append(rec)
            slot.epoch += 1
            out.append((s, rec))
        return out

    def ended(self) -> list[int]:
        """Slots whose trial has stopped training and has not been reported."""
        active = jax.device_get(self.pop.active)
        return [
            s
            for s, sl in enumerate(self.slots)
            if sl is not None and not active[s] and not sl.ended
        ]

    def live(self) -> list[int]:
        """Slots holding a trial that has not ended."""
        return [s for s, sl in enumerate(self.slots) if sl is not None and not sl.ended]

    def moved(self, group: Group, slots: list[int]) -> Population:
        """A population over ``group`` (same program, other slot count) holding the trials of
        ``slots``, states unchanged; its extra slots, if any, are inactive copies."""
        new = Population(group)
        idx = np.asarray(slots + [slots[0]] * (group.slots - len(slots)))
        state = jax.tree.map(lambda a: np.asarray(a)[idx], jax.device_get(self.pop))
        active = np.asarray(state.active) & (np.arange(group.slots) < len(slots))
        new.pop = group.place(state._replace(active=active))
        new.slots = [self.slots[s] for s in slots] + [None] * (group.slots - len(slots))
        new.hp = [self.hp[s] for s in slots] + [None] * (group.slots - len(slots))
        new.taken = self.taken
        return new

    def finish(self, slots: list[int]) -> list[tuple[_Slot, TrialResult]]:
        """Results of the trials in ``slots``: test metrics at their best parameters."""
        if not slots:
            return []
        g = self.group
        valid = g.evaluate(self.pop, g.valid, best=True)
        test = g.evaluate(self.pop, g.test, best=True)
        host = jax.device_get(
            (self.pop.best_metric, self.pop.best_epoch, self.pop.diverged, self.pop.step)
        )
        out = []
        for s in slots:
            sl = self.slots[s]
            best = jax.tree.map(lambda a, s=s: np.asarray(a[s]), self.pop.best_params)
            res = TrialResult(
                key=sl.trial.key,
                seed=sl.trial.seed,
                config=sl.trial.config,
                best_metric=float(host[0][s]),
                best_epoch=int(host[1][s]),
                diverged=bool(host[2][s]),
                epochs_trained=len(sl.history),
                steps_trained=int(host[3][s]),
                valid={k: float(v[s]) for k, v in valid.items()},
                test={k: float(v[s]) for k, v in test.items()},
                history=sl.history,
                params=g.lone_params(best, sl.trial.config.model),
                seconds=time.perf_counter() - sl.start,
            )
            sl.ended = True
            out.append((sl, res))
        return out


def _pull(next_trial: Callable[[], Trial | None], n: int) -> list[Trial]:
    """Up to ``n`` trials from ``next_trial``: fewer when it runs out."""
    out: list[Trial] = []
    while len(out) < n:
        t = next_trial()
        if t is None:
            break
        out.append(t)
    return out


def _size(n: int, slots: int, runner: Runner, batch_size: int) -> int:
    """Slots of a population for ``n`` trials: the next power of two (so one structure
    compiles at most log2(slots) + 1 programs), at most ``slots``, rounded for the devices
    (``Runner.round_slots``)."""
    return runner.round_slots(min(1 << max(n - 1, 0).bit_length(), slots), batch_size)


def worth_moving(seconds_E: Sequence[float], size: int, smaller: int, epochs_left: int) -> bool:
    """Whether moving a population's live trials from ``size`` slots into ``smaller`` saves
    time: at most ``epochs_left`` epochs, each shorter by (1 - smaller / size) of the latest
    epoch, against compiling the smaller population, estimated as what this population's
    first epoch took beyond its latest (``seconds_E``: its epochs so far)."""
    if len(seconds_E) < 2:
        return False
    compile_seconds = max(seconds_E[0] - seconds_E[-1], 0.0)
    return seconds_E[-1] * (1 - smaller / size) * epochs_left > compile_seconds


def run_queue(
    next_trial: Callable[[], Trial | None],
    *,
    slots: int = 8,
    strategy: Strategy | str | None = None,
    chunk_size: int = 8,
    devices: Sequence = (),
    on_epoch: Callable[[Trial, dict], None] | None = None,
    on_done: Callable[[Trial, TrialResult], None] | None = None,
    progress: Callable[[dict], None] | None = None,
    pad: bool = True,
) -> list[TrialResult]:
    """Train the trials ``next_trial()`` yields (until it returns None), at most ``slots`` at
    a time in one program (``default_slots``: one at a time where a population does not pay);
    a freed slot takes the next trial at the next epoch boundary.

    All trials must share ``program_key``. A population holds about as many slots as it has
    trials (the next power of two, a multiple of the device count), and once the queue is
    exhausted and half its slots are free it moves its live trials into a population their
    size, so empty slots cost little compute, if that pays for compiling it (``worth_moving``;
    at once when this process has trained that size before). A trial's numbers do not depend
    on its slot or population size.
    ``on_epoch(trial, record)`` follows each of a trial's epochs, ``on_done(trial, result)``
    its end, right after the epoch it ended in. Returns the results in the order the trials
    were taken. ``pad=False`` trains every trial at its own hidden size (all must then be
    equal). ``progress({"useful", "slot_epochs", "final"})`` after every epoch and at the
    end: slot utilisation is useful trial-epochs / slot-epochs.
    """
    first = _pull(next_trial, 1)
    if not first:
        return []
    config = first[0].config
    slots = default_slots(config, slots, pad)
    first += _pull(next_trial, slots - 1)
    runner = Runner(strategy or default_strategy(config.data.batch_size), chunk_size, devices)
    batch_size = config.data.batch_size
    size = _size(len(first), slots, runner, batch_size)
    pop = Population(group_for(config, size, runner, pad))
    for s, t in enumerate(first):
        pop.assign(s, t)
    exhausted = len(first) < slots
    results: dict[int, TrialResult] = {}
    useful = total = 0
    seconds_E: list[float] = []  # the current population's epochs
    while jax.device_get(pop.pop.active).any():
        start = time.perf_counter()
        pop.train_epoch()
        records = pop.end_epoch()
        seconds_E.append(time.perf_counter() - start)
        useful, total = useful + len(records), total + pop.group.slots
        for s, rec in records:
            if on_epoch is not None:
                on_epoch(pop.slots[s].trial, rec)
        ended = pop.ended()
        for sl, res in pop.finish(ended):
            results[sl.index] = res
            if on_done is not None:
                on_done(sl.trial, res)
        for s in ended:
            t = None if exhausted else next_trial()
            exhausted = t is None
            if t is not None:
                pop.assign(s, t)
        live = pop.live()
        if exhausted and live and len(live) <= pop.group.slots // 2:
            smaller = _size(len(live), slots, runner, batch_size)
            left = max(pop.slots[s].trial.config.loop.epochs - pop.slots[s].epoch for s in live)
            if trained_group(config, smaller, runner, pad) or worth_moving(
                seconds_E, pop.group.slots, smaller, left
            ):
                pop = pop.moved(group_for(config, smaller, runner, pad), live)
                seconds_E = []
        if progress is not None:
            progress({"useful": useful, "slot_epochs": total, "final": False})
    if progress is not None:
        progress({"useful": useful, "slot_epochs": total, "final": True})
    return [results[i] for i in sorted(results)]


def train_trials(
    trials: Sequence[Trial], *, slots: int = 8, pad: bool = True, **kwargs: Any
) -> list[TrialResult]:
    """Train ``trials``: those sharing a program train together (``run_queue``, mixed hidden
    sizes in buckets unless ``pad=False``, refilled slots), one program after another.
    Results in input order."""
    groups: dict[str, list[int]] = {}
    for i, t in enumerate(trials):
        groups.setdefault(hparams.program_key(t.config, pad), []).append(i)
    out: list[TrialResult | None] = [None] * len(trials)
    for idx in groups.values():
        queue = iter(idx)
        order: list[int] = []

        def pull(queue=queue, order=order):
            i = next(queue, None)
            if i is None:
                return None
            order.append(i)
            return trials[i]

        for i, res in zip(order, run_queue(pull, slots=min(slots, len(idx)), pad=pad, **kwargs)):
            out[i] = res
    return out  # type: ignore[return-value]


def population_trials(
    config: Config, hparams_P: dict[str, Any] | None = None, seeds: Sequence[int] | None = None
) -> list[Trial]:
    """P trials of ``config`` with per-trial continuous hyperparameters (``{"lr": lr_P}``,
    names as in ``HParams``) and seeds (default ``[config.loop.seed]``)."""
    hparams_P = dict(hparams_P or {})
    unknown = sorted(set(hparams_P) - set(hparams.CONTINUOUS))
    if unknown:
        raise ValueError(
            f"{unknown} are not continuous hyperparameters; per-trial values are allowed for "
            f"{', '.join(hparams.CONTINUOUS)}. Structural ones need their own trials: "
            "use train_trials."
        )
    seeds = [config.loop.seed] if seeds is None else [int(s) for s in seeds]
    P = len(seeds)
    trials = []
    for i in range(P):
        changes = {}
        for k, v in hparams_P.items():
            arr = np.broadcast_to(np.asarray(v, np.float64), (P,))
            changes[f"optim.{k}"] = float(arr[i])
        trials.append(Trial(config.override(changes), seeds[i], str(i)))
    return trials
