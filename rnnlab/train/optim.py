"""Optimisers, schedules, initialisers, early stopping and reduce-on-plateau.

``update(config, hparams, lr_factor, grads, opt_state, params)`` builds the optax chain from
the trial's ``HParams`` (scalars, or traced arrays inside a population) at every step, so
the value a step uses is the one passed to it, never one cached in the optimiser state.

SGD follows the Odyssey (Greff et al. 2017, Sec. IV; the reference code PyLSTM's
``NesterovStep``): Nesterov momentum with the step scaled by (1 - momentum),

    v_{k+1} = mu v_k - (1 - mu) lr g_k,    theta_{k+1} = theta_k + mu v_{k+1} - (1 - mu) lr g_k,

with g_k the gradient at theta_k (the look-ahead point, Sutskever et al. 2013's
reformulation). It is ``optax.trace(mu, nesterov=True)`` followed by a scale of
-(1 - mu) lr; ``scale_lr_by_momentum=False`` drops the (1 - mu).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from rnnlab.cells.base import orthogonal_blocks
from rnnlab.train.config import OptimConfig
from rnnlab.train.hparams import HParams

Array = jax.Array
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "warmup_cosine", "plateau")


def schedule(config: OptimConfig, total_steps: int, steps_per_epoch: int) -> Callable:
    """The learning-rate factor as a function of the update count.

    constant / plateau: 1 (plateau scales via ``plateau_update`` at epoch ends);
    warmup_cosine: linear 0 -> 1 over ``warmup_epochs``, then cosine to ``final_lr_fraction``
    at ``total_steps``.
    """
    if config.schedule == "warmup_cosine":
        total = max(1, total_steps)
        warmup = int(config.warmup_epochs * steps_per_epoch)
        return optax.warmup_cosine_decay_schedule(
            0.0, 1.0, warmup, max(total, warmup + 1), end_value=config.final_lr_fraction
        )
    return optax.constant_schedule(1.0)


def chain(config: OptimConfig, hp: HParams) -> optax.GradientTransformation:
    """clip by global norm -> [L2 | Adam] -> momentum/Adam -> [decoupled decay for AdamW]
    (the schedule and the step size are applied by ``update``)."""
    parts = [optax.clip_by_global_norm(hp.clip_norm)]
    if config.name == "sgd":
        parts += [
            optax.add_decayed_weights(hp.weight_decay),
            optax.trace(decay=hp.momentum, nesterov=config.nesterov),
        ]
    elif config.name == "adam":
        parts += [
            optax.add_decayed_weights(hp.weight_decay),
            optax.scale_by_adam(b1=hp.b1, b2=hp.b2, eps=config.eps),
        ]
    else:
        parts += [
            optax.scale_by_adam(b1=hp.b1, b2=hp.b2, eps=config.eps),
            optax.add_decayed_weights(hp.weight_decay),
        ]
    return optax.chain(*parts)


def step_size(config: OptimConfig, hp: HParams, lr_scale: Array | float) -> Array:
    """lr * lr_scale (* (1 - momentum) for the Odyssey SGD)."""
    step = hp.lr * lr_scale
    if config.name == "sgd" and config.scale_lr_by_momentum:
        step = step * (1.0 - hp.momentum)
    return step


def init(config: OptimConfig, hp: HParams, params: Any) -> Any:
    """The optimiser state of fresh ``params``."""
    return chain(config, hp).init(params)


def update(
    config: OptimConfig,
    hp: HParams,
    lr_factor: Array,
    grads: Any,
    opt_state: Any,
    params: Any,
) -> tuple[Any, Any]:
    """(parameter updates, new optimiser state): the chain's direction times
    -step_size(hp) * lr_factor, where ``lr_factor`` is the schedule and plateau scale."""
    direction, opt_state = chain(config, hp).update(grads, opt_state, params)
    scale = -step_size(config, hp, lr_factor)
    return jax.tree.map(lambda d: scale * d, direction), opt_state


def check(config: OptimConfig) -> None:
    """Unknown optimiser or schedule names are a ValueError naming the choices."""
    if config.name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {config.name!r}; choose one of {OPTIMIZERS}.")
    if config.schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {config.schedule!r}; choose one of {SCHEDULES}.")


# ---------------------------------------------------------------- initialisers


def _init_matrix(key: Array, shape: tuple[int, ...], scheme: str, std: float) -> Array:
    if scheme == "glorot":
        return jax.nn.initializers.glorot_uniform()(key, shape)
    if scheme == "he":
        return jax.nn.initializers.he_normal()(key, shape)
    if scheme == "normal":
        return std * jax.random.normal(key, shape)
    if scheme == "uniform":
        return jax.random.uniform(key, shape, minval=-std, maxval=std)
    raise ValueError(f"unknown init {scheme!r}; choose default, glorot, he, normal or uniform.")


def init_params(
    params: Any, key: Array, scheme: str, std: float, orthogonal_recurrent: bool
) -> Any:
    """Re-initialise every weight matrix (2-D leaf) of ``params`` with ``scheme``.

    ``default`` keeps the cells' own init (Glorot input weights, orthogonal recurrent blocks,
    forget bias 1). With ``orthogonal_recurrent`` the recurrent matrices ``R`` (H, n H) get
    independent orthogonal H x H blocks (Saxe et al. 2014). Biases and peepholes are kept.
    The i-th leaf is drawn with the i-th of ``reinit_keys(params, key)``.
    """
    if scheme == "default":
        return params
    flat, treedef = jax.tree_util.tree_flatten_with_path(params)
    out = []
    for (path, leaf), k in zip(flat, reinit_keys(params, key)):
        if leaf.ndim != 2:
            out.append(leaf)
        elif _orthogonal_blocks(path, leaf.shape, orthogonal_recurrent):
            n = leaf.shape[1] // leaf.shape[0]
            out.append(orthogonal_blocks(k, leaf.shape[0], n, leaf.dtype))
        else:
            out.append(_init_matrix(k, leaf.shape, scheme, std).astype(leaf.dtype))
    return jax.tree_util.tree_unflatten(treedef, out)


def _orthogonal_blocks(path: tuple, shape: tuple[int, ...], orthogonal_recurrent: bool) -> bool:
    name = getattr(path[-1], "key", None)
    return name == "R" and orthogonal_recurrent and shape[1] % shape[0] == 0


def reinit_keys(params: Any, key: Array) -> Array:
    """The keys of ``init_params``: one per leaf of ``params``, in flattening order."""
    return jax.random.split(key, len(jax.tree_util.tree_leaves(params)))


def elementwise(scheme: str) -> bool:
    """Whether ``init_params`` draws each matrix element by element from its key (and the
    orthogonal blocks from such a draw). Then an (m, n) matrix is the first m n numbers of
    any longer flat draw with the same key, reshaped (threefry's counter is the element's
    flat index), so ``cut_matrices`` can make it without compiling a draw for its shape."""
    return scheme in ("normal", "uniform")


@partial(jax.jit, static_argnums=(1, 2, 3))
def _flat_draw(key: Array, n: int, scheme: str, std: float) -> Array:
    return _init_matrix(key, (n,), scheme, std)


def _cut(key: Array, shape: tuple[int, int], scheme: str, std: float) -> np.ndarray:
    """The draw of ``shape`` with ``key``, cut from a flat draw of the next power of two."""
    n = shape[0] * shape[1]
    return np.asarray(_flat_draw(key, 1 << (n - 1).bit_length(), scheme, std))[:n].reshape(shape)


@jax.jit
def _orthonormal(z: Array) -> Array:
    """``jax.random.orthogonal``'s map from its normal draw to the orthogonal matrix."""
    q, r = jnp.linalg.qr(z)
    return jnp.array(1.0, z.dtype) * (q * jnp.expand_dims(jnp.sign(jnp.diagonal(r)), -2))


def cut_matrices(
    params: Any, keys: Any, scheme: str, std: float, orthogonal_recurrent: bool
) -> Any:
    """``init_params`` under an ``elementwise`` scheme on the host, equal bit for bit, given
    ``params`` (of whose matrices only the shapes are read) and ``reinit_keys``. Its draws
    have a few lengths for all hidden sizes, so a new size compiles only the QR of its
    orthogonal blocks."""
    flat, treedef = jax.tree_util.tree_flatten_with_path(params)
    out = []
    for (path, leaf), k in zip(flat, keys):
        shape = np.shape(leaf)
        if len(shape) == 2 and _orthogonal_blocks(path, shape, orthogonal_recurrent):
            H, keys_n = shape[0], jax.random.split(k, shape[1] // shape[0])
            blocks = [_orthonormal(_cut(b, (H, H), "normal", 1.0)) for b in keys_n]
            leaf = np.concatenate(blocks, axis=1).astype(leaf.dtype)
        elif len(shape) == 2:
            leaf = _cut(k, shape, scheme, std).astype(leaf.dtype)
        out.append(leaf)
    return jax.tree_util.tree_unflatten(treedef, out)


# ------------------------------------------------- early stopping and plateaus


def improved(metric: Array, best: Array) -> Array:
    """metric < best with a finite metric; lower is better."""
    return jnp.isfinite(metric) & (metric < best)


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
