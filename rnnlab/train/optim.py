"""Optimisers, schedules, initialisers, early stopping and reduce-on-plateau.

Continuous hyperparameters (learning rate, momentum, weight decay, clip norm, Adam's b1/b2
and the plateau scale) are injected with ``optax.inject_hyperparams``: they are arrays in
the optimiser state, so one jitted step serves one model or a population (one value per
trial).

SGD follows the Odyssey (Greff et al. 2017, research/odyssey.md §1.4; PyLSTM's
``NesterovStep``): Nesterov momentum with the step scaled by (1 - momentum),

    v_{k+1} = mu v_k - (1 - mu) lr g_k,    theta_{k+1} = theta_k + mu v_{k+1} - (1 - mu) lr g_k,

with g_k the gradient at theta_k (the look-ahead point, Sutskever et al. 2013's
reformulation). It is ``optax.trace(mu, nesterov=True)`` followed by a scale of
-(1 - mu) lr; ``scale_lr_by_momentum=False`` drops the (1 - mu).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

from rnnlab.cells.base import orthogonal_blocks
from rnnlab.train.config import TrainConfig

Array = jax.Array
OPT_HPARAMS = ("lr", "momentum", "weight_decay", "clip_norm", "b1", "b2")


def schedule(config: TrainConfig, steps_per_epoch: int) -> Callable[[Array], Array]:
    """The learning-rate factor as a function of the update count.

    constant / plateau: 1 (plateau scales via ``plateau_update`` at epoch ends);
    warmup_cosine: linear 0 -> 1 over ``warmup_epochs``, then cosine to ``final_lr_fraction``
    at the last epoch.
    """
    if config.schedule in ("constant", "plateau"):
        return optax.constant_schedule(1.0)
    if config.schedule == "warmup_cosine":
        total = max(1, config.epochs * steps_per_epoch)
        warmup = int(config.warmup_epochs * steps_per_epoch)
        return optax.warmup_cosine_decay_schedule(
            0.0, 1.0, warmup, max(total, warmup + 1), end_value=config.final_lr_fraction
        )
    raise ValueError(
        f"unknown schedule {config.schedule!r}; choose constant, warmup_cosine or plateau."
    )


def optimizer(
    config: TrainConfig, steps_per_epoch: int, **values: Any
) -> optax.GradientTransformation:
    """The optimiser of ``config`` with its continuous hyperparameters injected.

    ``values`` overrides the config's values (lr, momentum, ...; scalars or traced arrays).
    Chain: clip by global norm -> [L2 | Adam] -> momentum/Adam -> [decoupled decay for
    AdamW] -> schedule -> scale by -lr * lr_scale (* (1 - momentum) for the Odyssey SGD).
    """
    name = config.optimizer
    if name not in ("sgd", "adam", "adamw"):
        raise ValueError(f"unknown optimizer {name!r}; choose sgd, adam or adamw.")
    sched = schedule(config, steps_per_epoch)

    def factory(lr, momentum, weight_decay, clip_norm, b1, b2, lr_scale):
        parts = [optax.clip_by_global_norm(clip_norm)]
        step = lr * lr_scale
        if name == "sgd":
            parts += [
                optax.add_decayed_weights(weight_decay),
                optax.trace(decay=momentum, nesterov=config.nesterov),
            ]
            if config.scale_lr_by_momentum:
                step = step * (1.0 - momentum)
        elif name == "adam":
            parts += [
                optax.add_decayed_weights(weight_decay),
                optax.scale_by_adam(b1=b1, b2=b2, eps=config.eps),
            ]
        else:
            parts += [
                optax.scale_by_adam(b1=b1, b2=b2, eps=config.eps),
                optax.add_decayed_weights(weight_decay),
            ]
        parts += [optax.scale_by_schedule(sched), optax.scale(-step)]
        return optax.chain(*parts)

    hp = {k: getattr(config, k) for k in OPT_HPARAMS} | {"lr_scale": 1.0}
    hp.update(values)
    return optax.inject_hyperparams(factory, hyperparam_dtype=jnp.float32)(**hp)


def get_hparam(opt_state: Any, name: str) -> Array:
    return opt_state.hyperparams[name]


def set_hparam(opt_state: Any, name: str, value: Array) -> Any:
    """A copy of an ``inject_hyperparams`` state with one hyperparameter replaced."""
    hps = dict(opt_state.hyperparams)
    hps[name] = jnp.asarray(value, hps[name].dtype)
    return opt_state._replace(hyperparams=hps)


# ---------------------------------------------------------------- initialisers


def _init_matrix(key: Array, shape: tuple[int, ...], scheme: str, std: float) -> Array:
    fan_in, fan_out = shape[0], shape[1]
    if scheme == "glorot":
        return jax.nn.initializers.glorot_uniform()(key, shape)
    if scheme == "he":
        return jax.nn.initializers.he_normal()(key, shape)
    if scheme == "normal":
        return std * jax.random.normal(key, shape)
    if scheme == "uniform":
        return jax.random.uniform(key, shape, minval=-std, maxval=std)
    del fan_in, fan_out
    raise ValueError(f"unknown init {scheme!r}; choose default, glorot, he, normal or uniform.")


def init_params(
    params: Any, key: Array, scheme: str, std: float, orthogonal_recurrent: bool
) -> Any:
    """Re-initialise every weight matrix (2-D leaf) of ``params`` with ``scheme``.

    ``default`` keeps the cells' own init (Glorot input weights, orthogonal recurrent blocks,
    forget bias 1). With ``orthogonal_recurrent`` the recurrent matrices ``R`` (H, n H) get
    independent orthogonal H x H blocks (Saxe et al. 2014). Biases and peepholes are kept.
    """
    if scheme == "default":
        return params
    flat, treedef = jax.tree_util.tree_flatten_with_path(params)
    keys = jax.random.split(key, len(flat))
    out = []
    for (path, leaf), k in zip(flat, keys):
        name = getattr(path[-1], "key", None)
        if leaf.ndim != 2:
            out.append(leaf)
        elif name == "R" and orthogonal_recurrent and leaf.shape[1] % leaf.shape[0] == 0:
            n = leaf.shape[1] // leaf.shape[0]
            out.append(orthogonal_blocks(k, leaf.shape[0], n, leaf.dtype))
        else:
            out.append(_init_matrix(k, leaf.shape, scheme, std).astype(leaf.dtype))
    return jax.tree_util.tree_unflatten(treedef, out)


# ------------------------------------------------- early stopping and plateaus


def improved(metric: Array, best: Array, min_rel_delta: float = 0.0) -> Array:
    """metric < best (1 - min_rel_delta) with a finite metric; lower is better."""
    bar = jnp.where(jnp.isfinite(best), best - min_rel_delta * jnp.abs(best), best)
    return jnp.isfinite(metric) & (metric < bar)


def early_stopping_update(
    best: Array, bad_epochs: Array, metric: Array, patience: Array | int | None
) -> tuple[Array, Array, Array, Array]:
    """One epoch of early stopping: (improved?, new best, new bad-epoch count, keep going?).

    A trial stops once its validation metric has not improved for ``patience`` epochs.
    """
    imp = improved(metric, best)
    best = jnp.where(imp, metric, best)
    bad_epochs = jnp.where(imp, 0, bad_epochs + 1)
    go_on = jnp.bool_(True) if patience is None else bad_epochs < patience
    return imp, best, bad_epochs, go_on


def plateau_update(
    scale: Array, best: Array, bad_epochs: Array, metric: Array, factor: float, patience: int
) -> tuple[Array, Array, Array]:
    """Reduce-on-plateau: scale *= factor after ``patience`` epochs without improvement
    (the count then restarts). Returns (scale, best, bad_epochs)."""
    imp = improved(metric, best)
    best = jnp.where(imp, metric, best)
    bad_epochs = jnp.where(imp, 0, bad_epochs + 1)
    cut = bad_epochs >= patience
    return jnp.where(cut, scale * factor, scale), best, jnp.where(cut, 0, bad_epochs)
