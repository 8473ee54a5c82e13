"""Sequence helpers shared by every runner: input checks, validity masks, reversal within
lengths, time-major transposes.

Batches are right-padded with integer ``lengths``; ``reverse`` runs each sequence from its last
valid step to its first, and the outputs are put back in input order.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.cells.base import Array, Carry, Cell, Params, check_input_size


def reverse_within_lengths(x_TB: Array, lengths_B: Array | None) -> Array:
    """Reverse a time-major (T, B, ...) array within each sequence's length; padding stays put.

    The permutation is its own inverse, so applying it twice gives back x.
    """
    if lengths_B is None:
        return jnp.flip(x_TB, axis=0)
    t_T1 = jnp.arange(x_TB.shape[0])[:, None]
    idx_TB = jnp.where(t_T1 < lengths_B[None, :], lengths_B[None, :] - 1 - t_T1, t_T1)
    idx = idx_TB.reshape(idx_TB.shape + (1,) * (x_TB.ndim - 2))
    return jnp.take_along_axis(x_TB, idx, axis=0)


def step_normal(key: Array, shape_BT: tuple[int, ...], dtype: Any = jnp.float32) -> Array:
    """Standard normal noise of shape (B, T, ...), drawn time-major: with JAX's counter-based
    threefry an element's value depends only on its flat index, so the noise of step t does
    not depend on T and padding a batch to more steps leaves its real steps' noise as it is
    (at B = 1 it equals ``jax.random.normal(key, shape_BT)``)."""
    B, T, *rest = shape_BT
    return jnp.swapaxes(jax.random.normal(key, (T, B, *rest), dtype), 0, 1)


def step_bernoulli(key: Array, p: Any, shape_BT: tuple[int, ...]) -> Array:
    """Bernoulli(p) bits of shape (B, T, ...), drawn time-major as ``step_normal``: padding a
    batch to more steps leaves its real steps' bits as they are (at B = 1 they equal
    ``jax.random.bernoulli(key, p, shape_BT)``)."""
    B, T, *rest = shape_BT
    return jnp.swapaxes(jax.random.bernoulli(key, p, (T, B, *rest)), 0, 1)


def step_dropout(key: Array, rate: float, x_BT: Array) -> Array:
    """Inverted dropout of x (B, T, ...): each element kept with probability 1 - rate and
    scaled by 1 / (1 - rate), from ``step_bernoulli`` bits."""
    keep = 1.0 - rate
    return jnp.where(step_bernoulli(key, keep, x_BT.shape), x_BT / keep, 0.0)


def _check_lengths(lengths_B: Any, batch: int, time: int) -> Array:
    """Lengths as a (B,) integer array; values are checked whenever they are known."""
    concrete = not isinstance(lengths_B, jax.core.Tracer)
    if concrete:  # read with NumPy: a concrete jax array closed over under jit stays concrete
        lengths_B = np.asarray(lengths_B)
    if lengths_B.shape != (batch,):
        raise ValueError(
            f"lengths must have shape (batch,) = ({batch},), got {lengths_B.shape}; "
            "pass one integer length per sequence."
        )
    if not jnp.issubdtype(lengths_B.dtype, jnp.integer):
        raise TypeError(f"lengths must be integers, got dtype {lengths_B.dtype}.")
    if concrete and batch and (lengths_B.min() < 0 or lengths_B.max() > time):
        raise ValueError(
            f"lengths must lie in [0, {time}] (the padded sequence length), got min "
            f"{lengths_B.min()}, max {lengths_B.max()}; pad the batch to the longest sequence "
            "or fix the lengths."
        )
    return jnp.asarray(lengths_B)


def prepare_sequence(
    cell: Cell,
    params: Params,
    x_BTD: Array,
    lengths: Array | None,
    initial_carry: Carry | None,
    reverse: bool,
    time_major: bool,
) -> tuple[Array, Array | None, Array | None, Carry]:
    """Checked, time-major inputs (reversed within lengths if asked), the lengths, the
    (T, B) validity mask and the initial carry: what every sequence runner starts from."""
    if x_BTD.ndim != 3:
        raise ValueError(
            f"expected inputs of shape (batch, time, features), got shape {x_BTD.shape}."
        )
    check_input_size(cell, params, x_BTD)
    x_TBD = x_BTD if time_major else jnp.swapaxes(x_BTD, 0, 1)
    T, B = x_TBD.shape[:2]
    mask_TB = None
    if lengths is not None:
        lengths = _check_lengths(lengths, B, T)
        mask_TB = jnp.arange(T)[:, None] < lengths[None, :]
    if reverse:
        x_TBD = reverse_within_lengths(x_TBD, lengths)
    carry0 = cell.initial_carry((B,), x_TBD.dtype) if initial_carry is None else initial_carry
    return x_TBD, lengths, mask_TB, carry0


def finish_sequence(y_TBH: Array, lengths: Array | None, reverse: bool, time_major: bool) -> Array:
    """Undo ``prepare_sequence``'s reversal and transpose on the outputs."""
    if reverse:
        y_TBH = reverse_within_lengths(y_TBH, lengths)
    return y_TBH if time_major else jnp.swapaxes(y_TBH, 0, 1)
