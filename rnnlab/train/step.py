"""One trial as pure functions: ``init_state``, ``train_step``, ``eval_step``, ``epoch_end``.

    state, metrics = train_step(program, state, batch, hparams)

A trial's whole training state is one pytree (``TrainState``); ``hparams`` (``HParams``) is
an explicit argument, so the same functions run one model or, under ``vmap``/``lax.map``, a
population with one value per trial. ``program`` is the structural part (model, objective,
optimiser kind), closed over when compiling.

Randomness: the trial key is ``PRNGKey(seed)``; parameters come from its first split, the
step key is ``fold_in(key_step, step)`` with ``step`` the trial's update count. Masking: a
step changes a trial only while it is ``active``; a non-finite loss or new parameters mark
it ``diverged`` and freeze it at its last finite parameters. ``grad_mask`` zeroes the
gradients and the updates of parameters that must not change: padding (mixed hidden sizes,
``rnnlab.train.padding``) and the switches and absent parts of an LSTM variant trained as
the switchable LSTM (``rnnlab.train.variants``), whose weight decay would move them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from rnnlab import models
from rnnlab.train import objectives, optim
from rnnlab.train.config import Config
from rnnlab.train.hparams import HParams
from rnnlab.train.problem import Batch, Problem

Array = jax.Array


class TrainState(NamedTuple):
    """Everything one trial carries between steps (all arrays; scalars are 0-d)."""

    params: Any
    opt_state: Any
    grad_mask: Any  # 1 on trained parameters, 0 on fixed ones (all ones for a lone model)
    key: Array  # PRNGKey(seed), raw uint32[2]
    step: Array  # updates applied
    epoch: Array  # epochs completed
    max_epochs: Array
    lr_scale: Array  # reduce-on-plateau factor
    active: Array  # bool: still training
    diverged: Array  # bool: hit a non-finite loss/parameter/metric
    best_params: Any
    best_metric: Array
    best_epoch: Array
    bad_epochs: Array
    plateau_best: Array
    plateau_bad: Array
    loss_sum: Array  # training loss summed over this epoch's steps
    loss_steps: Array


@dataclasses.dataclass(frozen=True)
class Program:
    """The structural part of a trial: model, objective, optimiser, data sizes."""

    config: Config
    problem: Problem
    model: Any  # a flax module: SequenceModel, FramePredictor (rnnlab.models.build)
    steps_per_epoch: int

    @property
    def objective(self) -> objectives.Objective:
        return objectives.get(self.problem.objective)


def make_program(config: Config, problem: Problem) -> Program:
    """The program of ``config`` on data described by ``problem``."""
    model = models.build(config.model, problem.output_size, problem.head)
    return Program(config, problem, model, problem.num_train // config.data.batch_size)


def model_inputs(program: Program, x: Array) -> Array:
    """x as the model reads it: token ids one-hot (B, T, vocab), features unchanged."""
    if program.problem.vocab is None:
        return x
    return jax.nn.one_hot(x, program.problem.vocab, dtype=jnp.float32)


def _cell_params(program: Program, seed: Array, sample: Batch) -> tuple[Any, Array]:
    """(the cells' own parameters, the key of their re-initialisation) of trial ``seed``."""
    k_init, k_reinit = jax.random.split(jax.random.split(jax.random.PRNGKey(seed))[0])
    x = model_inputs(program, sample.x[:1])
    return program.model.init(k_init, x, sample.lengths[:1])["params"], k_reinit


def init_params(program: Program, seed: Array, sample: Batch) -> Any:
    """Parameters of a fresh trial from ``PRNGKey(seed)`` (its cells' init, then the config's
    re-initialisation scheme)."""
    m = program.config.model
    params, key = _cell_params(program, seed, sample)
    return optim.init_params(params, key, m.init, m.init_std, m.orthogonal_recurrent)


#: Compiler options of programs compiled for each new hidden size and run once per trial:
#: without LLVM's optimisations the cells' constants compile in half the time (0.18 against
#: 0.36 s per size on JSB, single-threaded), the same bit for bit for every cell
#: (tests/train/test_init.py).
_ONCE_PER_TRIAL = {"xla_backend_optimization_level": 0}


def initializer(program: Program, sample: Batch) -> Callable[[int], Any]:
    """seed -> ``init_params(program, seed, sample)`` as host arrays, equal bit for bit.

    Under an element-wise scheme (``optim.elementwise``, as the Odyssey's normal init) the
    compiled part returns the matrices as zeros, so its random draws are dead code, and
    ``optim.cut_matrices`` draws them with programs shared by all sizes: a new hidden size
    compiles the cells' constants and its QR, ~0.3-0.4 s instead of ~1 s on JSB
    (benchmarks/README.md, 3c).
    """
    m = program.config.model
    if not optim.elementwise(m.init) or jax.config.jax_enable_x64:  # x64: other draw dtypes
        whole = jax.jit(lambda seed: init_params(program, seed, sample))
        return lambda seed: jax.device_get(whole(seed))

    @partial(jax.jit, compiler_options=_ONCE_PER_TRIAL)
    def rest(seed):
        params, key = _cell_params(program, seed, sample)
        zeroed = jax.tree.map(lambda a: jnp.zeros_like(a) if a.ndim == 2 else a, params)
        return zeroed, optim.reinit_keys(params, key)

    def init(seed: int) -> Any:
        params, keys = jax.device_get(rest(seed))
        return optim.cut_matrices(params, keys, m.init, m.init_std, m.orthogonal_recurrent)

    return init


def init_state(
    program: Program, seed: Array, hp: HParams, params: Any, grad_mask: Any, max_epochs: Array
) -> TrainState:
    """A fresh trial around ``params`` (see ``init_params``; embedded when padded)."""
    f32, i32 = jnp.float32, jnp.int32
    return TrainState(
        params=params,
        opt_state=optim.init(program.config.optim, hp, params),
        grad_mask=grad_mask,
        key=jax.random.split(jax.random.PRNGKey(seed))[1],
        step=i32(0),
        epoch=i32(0),
        max_epochs=jnp.asarray(max_epochs, i32),
        lr_scale=f32(1.0),
        active=jnp.asarray(max_epochs) > 0,
        diverged=jnp.bool_(False),
        best_params=params,
        best_metric=jnp.asarray(jnp.inf, f32),
        best_epoch=i32(-1),
        bad_epochs=i32(0),
        plateau_best=jnp.asarray(jnp.inf, f32),
        plateau_bad=i32(0),
        loss_sum=jnp.zeros((), f32),
        loss_steps=i32(0),
    )


def _all_finite(tree: Any) -> Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)]))


def _where(c: Array, new: Any, old: Any) -> Any:
    return jax.tree.map(lambda n, o: jnp.where(c, n, o), new, old)


def gradients(
    program: Program, state: TrainState, batch: Batch, hp: HParams, shard: int | None = None
) -> tuple[Array, Any, Array]:
    """(mean loss, its gradient, the count it is a mean over) on ``batch``. ``shard`` names
    a part of a batch split over devices: its dropout and noise draw their own keys."""
    x = model_inputs(program, batch.x)
    k_drop, k_noise = jax.random.split(jax.random.fold_in(state.key, state.step))
    if shard is not None:
        k_drop, k_noise = jax.random.fold_in(k_drop, shard), jax.random.fold_in(k_noise, shard)

    def loss_fn(params):
        out = program.model.apply(
            {"params": params},
            x,
            batch.lengths,
            deterministic=False,
            noise_std=hp.noise_std,
            rngs={"dropout": k_drop, "noise": k_noise},
        )
        return program.objective.metrics(out, batch.y, batch.lengths, batch.y_lengths)["loss"]

    loss, grads = jax.value_and_grad(loss_fn)(state.params)
    count = program.objective.count(batch.y, batch.lengths, batch.y_lengths)
    return loss, grads, count


def apply_gradients(
    program: Program, state: TrainState, loss: Array, grads: Any, hp: HParams
) -> TrainState:
    """The optimiser step with ``grads`` of ``loss``, masked by ``active``; flags divergence."""
    c = program.config
    grads = jax.tree.map(jnp.multiply, grads, state.grad_mask)
    total = program.steps_per_epoch * c.loop.epochs  # only warmup_cosine reads it
    factor = optim.schedule(c.optim, total, program.steps_per_epoch)(state.step) * state.lr_scale
    updates, opt_state = optim.update(c.optim, hp, factor, grads, state.opt_state, state.params)
    updates = jax.tree.map(jnp.multiply, updates, state.grad_mask)  # weight decay too
    params = optax.apply_updates(state.params, updates)
    ok = jnp.isfinite(loss) & _all_finite(params)
    go = state.active & ok
    return state._replace(
        params=_where(go, params, state.params),
        opt_state=_where(go, opt_state, state.opt_state),
        step=state.step + go.astype(jnp.int32),
        active=go,
        diverged=state.diverged | (state.active & ~ok),
        loss_sum=state.loss_sum + jnp.where(go, loss, 0.0),
        loss_steps=state.loss_steps + go.astype(jnp.int32),
    )


def train_step(
    program: Program, state: TrainState, batch: Batch, hp: HParams
) -> tuple[TrainState, dict[str, Array]]:
    """One optimiser step on ``batch``, masked by ``active``; flags divergence."""
    loss, grads, _ = gradients(program, state, batch, hp)
    return apply_gradients(program, state, loss, grads, hp), {"loss": loss}


def eval_step(program: Program, params: Any, batch: Batch) -> dict[str, Array]:
    """Metric sums over one batch (mean x count) plus the count under ``"count"``."""
    x = model_inputs(program, batch.x)
    out = program.model.apply({"params": params}, x, batch.lengths, deterministic=True)
    means = program.objective.metrics(out, batch.y, batch.lengths, batch.y_lengths)
    count = program.objective.count(batch.y, batch.lengths, batch.y_lengths)
    return {k: v * count for k, v in means.items()} | {"count": count}


def eval_params(state: TrainState, best: bool) -> Any:
    """The parameters to evaluate: the best ones (when there are) or the current ones."""
    use_best = best & (state.best_epoch >= 0)
    return _where(use_best, state.best_params, state.params)


def epoch_end(program: Program, state: TrainState, metric: Array) -> TrainState:
    """After one epoch: best-parameter tracking, early stopping, the epoch limit and
    reduce-on-plateau."""
    o, patience = program.config.optim, program.config.loop.patience
    live = state.active
    bad_metric = live & ~jnp.isfinite(metric)
    imp, best, bad, go_on = optim.early_stopping_update(
        state.best_metric, state.bad_epochs, metric, patience
    )
    imp = imp & live
    epoch = state.epoch + live.astype(jnp.int32)
    new = state._replace(
        epoch=epoch,
        best_params=_where(imp, state.params, state.best_params),
        best_metric=jnp.where(live, best, state.best_metric),
        best_epoch=jnp.where(imp, state.epoch, state.best_epoch),
        bad_epochs=jnp.where(live, bad, state.bad_epochs),
        active=live & go_on & ~bad_metric & (epoch < state.max_epochs),
        diverged=state.diverged | bad_metric,
        loss_sum=jnp.zeros_like(state.loss_sum),
        loss_steps=jnp.zeros_like(state.loss_steps),
    )
    if o.schedule == "plateau":
        scale, pbest, pbad = optim.plateau_update(
            state.lr_scale,
            state.plateau_best,
            state.plateau_bad,
            metric,
            o.plateau_factor,
            o.plateau_patience,
        )
        new = new._replace(
            lr_scale=jnp.where(live, scale, state.lr_scale),
            plateau_best=jnp.where(live, pbest, state.plateau_best),
            plateau_bad=jnp.where(live, pbad, state.plateau_bad),
        )
    return new


def resume(state: TrainState, max_epochs: int, patience: int | None) -> TrainState:
    """A finished trial given a higher epoch limit trains on, unless it diverged or early
    stopping ended it."""
    stopped = (state.bad_epochs >= patience) if patience is not None else False
    go = ~state.diverged & ~jnp.asarray(stopped) & (state.epoch < max_epochs)
    limit = jnp.full(jnp.shape(state.epoch), max_epochs, jnp.int32)
    return state._replace(max_epochs=limit, active=go)
