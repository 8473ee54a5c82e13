"""One trial as pure functions: ``init``, ``train_step``, ``eval_batch``, ``epoch_end``.

A trial's whole training state is one pytree (``TrainState``); every function maps it to a
new one, so the population trainer applies the same functions to P trials with ``vmap``,
``lax.map``, chunks or a loop. Randomness: the trial key is ``PRNGKey(seed)``; the step key
is ``fold_in(fold_in(key, epoch), batch)``; the data order of a synthetic task is a
permutation drawn from ``(seed, epoch)``, that of a dataset (``config.dataset``) a plan
drawn from ``(data_seed, epoch)`` shared by all trials (batches padded per batch cannot
differ per trial inside one program). So a run is a pure function of (config, seed) and
resumes exactly.

Masking. A step changes a trial only while it is ``active``; a step whose loss or new
parameters are not finite marks the trial ``diverged`` and freezes it at its last finite
parameters. Stopped and diverged trials keep their state bit for bit.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from rnnlab import cells, tasks
from rnnlab.models import SequenceModel
from rnnlab.train import datasets, objectives, optim
from rnnlab.train.config import TrainConfig

Array = jax.Array


class TrainState(NamedTuple):
    """Everything one trial carries between steps (all arrays; scalars are 0-d)."""

    params: Any
    opt_state: Any
    key: Array  # PRNGKey(seed), raw uint32[2]
    noise_std: Array
    active: Array  # bool: still training
    diverged: Array  # bool: hit a non-finite loss/parameter/metric
    best_params: Any
    best_metric: Array
    best_epoch: Array
    bad_epochs: Array
    patience: Array  # early-stopping patience in epochs (a huge number: never stop)
    plateau_best: Array
    plateau_bad: Array
    loss_sum: Array  # training loss summed over this epoch's steps
    loss_steps: Array


@dataclasses.dataclass(frozen=True)
class Setup:
    """The structural part of a run: model, objective, optimiser, data sizes."""

    config: TrainConfig
    model: SequenceModel
    objective: objectives.Objective
    steps_per_epoch: int
    use_noise: bool
    vocab: int | None = None  # token-id inputs are fed one-hot of this size

    def tx(self, **values: Any) -> optax.GradientTransformation:
        return optim.optimizer(self.config, self.steps_per_epoch, **values)


def load_data(config: TrainConfig) -> dict[str, Any]:
    """Train/valid/test splits: of ``config.dataset`` (``SequenceDataset`` s) when set, else
    of the config's synthetic task (``tasks.Batch`` es, each from its own derived seed)."""
    if config.dataset is not None:
        return datasets.load(config.dataset, config.dataset_options)
    spec = tasks.get(config.task)
    sizes = {"train": config.num_train, "valid": config.num_valid, "test": config.num_test}
    return {
        split: spec.make(config.data_seed * 3 + i, n, **config.task_kwargs)
        for i, (split, n) in enumerate(sizes.items())
    }


def _output_size(config: TrainConfig, train: tasks.Batch, objective: str) -> int:
    if objective in ("sequence_ce", "framewise_ce", "char"):
        return int(np.max(train.y)) + 1 if config.task != "copy" else train.x.shape[-1] - 1
    if objective == "ctc":
        return int(np.max(train.y[0])) + 1
    return int(train.y.shape[-1])


def problem(config: TrainConfig, train: Any) -> datasets.Problem:
    """Head, objective, output size, input vocabulary and size of the training data."""
    if config.dataset is not None:
        return datasets.problem(train)
    spec = tasks.get(config.task)
    out = _output_size(config, train, spec.objective)
    return datasets.Problem(spec.head, spec.objective, out, None, int(train.x.shape[0]))


def make_setup(config: TrainConfig, train: Any, use_noise: bool) -> Setup:
    prob = problem(config, train)
    if prob.num_train < config.batch_size:
        raise ValueError(
            f"batch_size {config.batch_size} exceeds the {prob.num_train} training "
            "examples; lower batch_size or use more training data."
        )
    cell = cells.get(config.cell, config.hidden, **config.cell_kwargs)
    model = SequenceModel(
        cell,
        output_size=prob.output_size,
        head=config.head or prob.head,
        pool=config.pool,
        num_layers=config.num_layers,
        bidirectional=config.bidirectional,
        input_dropout=config.input_dropout,
        dropout=config.dropout,
        recurrent_dropout=config.recurrent_dropout,
        hoist=config.hoist,
        custom_vjp=config.custom_vjp,
    )
    steps = prob.num_train // config.batch_size
    obj = objectives.get(prob.objective)
    return Setup(config, model, obj, steps, use_noise, prob.vocab)


def sample_batch(config: TrainConfig, train: Any) -> tasks.Batch:
    """A one-example batch of the training data, for parameter shapes."""
    if config.dataset is not None:
        return datasets.sample(train)
    return jax.tree.map(lambda a: a[:1], train)


def model_inputs(setup: Setup, x: Array) -> Array:
    """x as the model reads it: token ids one-hot (B, T, vocab), features unchanged."""
    if setup.vocab is None:
        return x
    return jax.nn.one_hot(x, setup.vocab, dtype=jnp.float32)


def init_state(
    setup: Setup, seed: Array, hp: dict[str, Array], patience: Array, sample: tasks.Batch
) -> TrainState:
    """A fresh trial: parameters from ``PRNGKey(seed)``, hyperparameters ``hp`` (scalars),
    early-stopping ``patience`` in epochs."""
    c = setup.config
    key = jax.random.PRNGKey(seed)
    k_init, k_reinit = jax.random.split(key)
    x = model_inputs(setup, sample.x[:1])
    params = setup.model.init(k_init, x, sample.lengths[:1])["params"]
    params = optim.init_params(params, k_reinit, c.init, c.init_std, c.orthogonal_recurrent)
    opt_values = {k: hp[k] for k in optim.OPT_HPARAMS}
    opt_state = setup.tx(**opt_values).init(params)
    f32 = jnp.float32
    return TrainState(
        params=params,
        opt_state=opt_state,
        key=key,
        noise_std=jnp.asarray(hp["noise_std"], f32),
        active=jnp.bool_(True),
        diverged=jnp.bool_(False),
        best_params=params,
        best_metric=jnp.asarray(jnp.inf, f32),
        best_epoch=jnp.int32(-1),
        bad_epochs=jnp.int32(0),
        patience=jnp.asarray(patience, jnp.int32),
        plateau_best=jnp.asarray(jnp.inf, f32),
        plateau_bad=jnp.int32(0),
        loss_sum=jnp.zeros((), f32),
        loss_steps=jnp.int32(0),
    )


def _gather(data: tasks.Batch, idx_B: Array) -> tasks.Batch:
    return jax.tree.map(lambda a: a[idx_B], data)


def _all_finite(tree: Any) -> Array:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)]
    return jnp.all(jnp.stack(leaves))


def train_step(
    setup: Setup, state: TrainState, idx_B: Array, epoch: Array, batch: Array, data: tasks.Batch
) -> TrainState:
    """One SGD step on examples ``data[idx_B]``, masked by ``active``; flags divergence."""
    return train_step_on(setup, state, epoch, batch, _gather(data, idx_B))


def train_step_on(
    setup: Setup, state: TrainState, epoch: Array, batch: Array, b: tasks.Batch
) -> TrainState:
    """One SGD step on the batch ``b`` (number ``batch`` of ``epoch``), masked by ``active``;
    flags divergence."""
    x = model_inputs(setup, b.x)
    key = jax.random.fold_in(jax.random.fold_in(state.key, epoch), batch)
    k_drop, k_noise = jax.random.split(key)

    def loss_fn(params):
        out = setup.model.apply(
            {"params": params},
            x,
            b.lengths,
            deterministic=False,
            noise_std=state.noise_std if setup.use_noise else 0.0,
            rngs={"dropout": k_drop, "noise": k_noise},
        )
        return setup.objective.metrics(out, b.y, b.lengths)["loss"]

    loss, grads = jax.value_and_grad(loss_fn)(state.params)
    updates, opt_state = setup.tx().update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    ok = jnp.isfinite(loss) & _all_finite(params)
    go = state.active & ok

    def pick(new, old):
        return jax.tree.map(lambda n, o: jnp.where(go, n, o), new, old)

    return state._replace(
        params=pick(params, state.params),
        opt_state=pick(opt_state, state.opt_state),
        active=go,
        diverged=state.diverged | (state.active & ~ok),
        loss_sum=state.loss_sum + jnp.where(go, loss, 0.0),
        loss_steps=state.loss_steps + go.astype(jnp.int32),
    )


def eval_batch(setup: Setup, params: Any, batch: tasks.Batch) -> dict[str, Array]:
    """Metric sums over one batch (mean x count) plus the count under ``"count"``."""
    x = model_inputs(setup, batch.x)
    out = setup.model.apply({"params": params}, x, batch.lengths, deterministic=True)
    means = setup.objective.metrics(out, batch.y, batch.lengths)
    count = setup.objective.count(batch.y, batch.lengths)
    return {k: v * count for k, v in means.items()} | {"count": count}


def epoch_end(setup: Setup, state: TrainState, metric: Array, epoch: Array) -> TrainState:
    """Early stopping, best-parameter tracking and reduce-on-plateau after one epoch."""
    c = setup.config
    live = state.active
    bad_metric = live & ~jnp.isfinite(metric)
    imp, best, bad, go_on = optim.early_stopping_update(
        state.best_metric, state.bad_epochs, metric, state.patience
    )
    imp = imp & live

    def keep(new, old):
        return jax.tree.map(lambda n, o: jnp.where(live, n, o), new, old)

    new = state._replace(
        best_params=jax.tree.map(
            lambda p, q: jnp.where(imp, p, q), state.params, state.best_params
        ),
        best_metric=keep(best, state.best_metric),
        best_epoch=jnp.where(imp, epoch, state.best_epoch).astype(jnp.int32),
        bad_epochs=keep(bad, state.bad_epochs),
        active=live & go_on & ~bad_metric,
        diverged=state.diverged | bad_metric,
        loss_sum=jnp.zeros_like(state.loss_sum),
        loss_steps=jnp.zeros_like(state.loss_steps),
    )
    if c.schedule == "plateau":
        scale = optim.get_hparam(state.opt_state, "lr_scale")
        scale, pbest, pbad = optim.plateau_update(
            scale,
            state.plateau_best,
            state.plateau_bad,
            metric,
            c.plateau_factor,
            c.plateau_patience,
        )
        new = new._replace(
            opt_state=optim.set_hparam(
                state.opt_state,
                "lr_scale",
                jnp.where(live, scale, optim.get_hparam(state.opt_state, "lr_scale")),
            ),
            plateau_best=keep(pbest, state.plateau_best),
            plateau_bad=keep(pbad, state.plateau_bad),
        )
    return new


def epoch_order(seed: int, epoch: int, n: int, batch_size: int) -> np.ndarray:
    """(steps, batch_size) example indices of one epoch: a permutation drawn from
    (seed, epoch), the last incomplete batch dropped."""
    perm = np.random.default_rng([int(seed), int(epoch)]).permutation(n)
    steps = n // batch_size
    return perm[: steps * batch_size].reshape(steps, batch_size).astype(np.int32)
