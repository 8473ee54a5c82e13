"""Parallel (associative) scans for linear recurrences: minGRU, minLSTM, LRU.

A cell whose state obeys h_t = a_t * h_{t-1} + b_t (element-wise; a_t, b_t functions of the
input only) can be run in O(log T) depth with ``jax.lax.associative_scan`` over the pairs
(a_t, b_t) and the operator

    (a_1, b_1) . (a_2, b_2) = (a_2 a_1, a_2 b_1 + b_2)        (Blelloch 1990; Martin & Cundy 2018)

Such a cell provides, besides the cell contract, ``coefficients(params, u) -> (a, b)``,
``state(carry) -> h``, ``carry_of(h) -> carry`` and ``readout(params, h, u) -> y``.
``parallel_rnn`` has the signature and the padding semantics of ``rnnlab.rnn``: padded steps
get (a, b) = (1, 0), so the state stops changing after each length (the final carry is the one
at the last valid step), and outputs past the length are exactly zero.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from rnnlab.cells.base import Array, Carry, Params
from rnnlab.recurrent.sequence import finish_sequence, prepare_sequence


def _combine(e1: tuple[Array, Array], e2: tuple[Array, Array]) -> tuple[Array, Array]:
    a1, b1 = e1
    a2, b2 = e2
    return a2 * a1, a2 * b1 + b2


def linear_scan(a_T: Array, b_T: Array, h0: Array | None = None) -> Array:
    """All states of h_t = a_t * h_{t-1} + b_t (time on axis 0), h_{-1} = h0 (zero if None)."""
    a_T = jnp.broadcast_to(a_T, b_T.shape)
    if h0 is not None:
        b_T = b_T.at[0].add(a_T[0] * h0)
    _, h_T = jax.lax.associative_scan(_combine, (a_T, b_T), axis=0)
    return h_T


def sequential_linear_scan(a_T: Array, b_T: Array, h0: Array | None = None) -> Array:
    """The same recurrence as ``linear_scan`` with ``lax.scan`` (reference and benchmark)."""
    a_T = jnp.broadcast_to(a_T, b_T.shape)
    h0 = jnp.zeros_like(b_T[0]) if h0 is None else h0

    def body(h, ab):
        h = ab[0] * h + ab[1]
        return h, h

    return jax.lax.scan(body, h0, (a_T, b_T))[1]


def is_linear_recurrence(cell: Any) -> bool:
    """Whether ``cell`` provides the interface ``parallel_rnn`` needs."""
    return all(hasattr(cell, n) for n in ("coefficients", "state", "carry_of", "readout"))


def parallel_rnn(
    cell: Any,
    params: Params,
    x_BTD: Array,
    *,
    lengths: Array | None = None,
    initial_carry: Carry | None = None,
    reverse: bool = False,
    time_major: bool = False,
) -> tuple[Array, Carry]:
    """``rnnlab.rnn`` for linear-recurrence cells, as one associative scan over time.

    Returns (y_BTH, carry at each sequence's last valid step); equals ``rnnlab.rnn(cell, ...)``
    up to rounding, gradients by autodiff.
    """
    if not is_linear_recurrence(cell):
        raise TypeError(
            f"{type(cell).__name__} is not a linear recurrence (it needs coefficients, state, "
            "carry_of and readout); run it with rnnlab.rnn instead."
        )
    x_TBD, lengths, mask_TB, carry0 = prepare_sequence(
        cell, params, x_BTD, lengths, initial_carry, reverse, time_major
    )
    mask_TB1 = None if mask_TB is None else mask_TB[..., None]
    u_TBG = cell.project(params, x_TBD)
    a_TBN, b_TBN = cell.coefficients(params, u_TBG)
    a_TBN = jnp.broadcast_to(a_TBN, b_TBN.shape)
    if mask_TB1 is not None:
        a_TBN = jnp.where(mask_TB1, a_TBN, jnp.ones_like(a_TBN))
        b_TBN = jnp.where(mask_TB1, b_TBN, jnp.zeros_like(b_TBN))
    h_TBN = linear_scan(a_TBN, b_TBN, cell.state(carry0))
    y_TBH = cell.readout(params, h_TBN, u_TBG)
    if mask_TB1 is not None:
        y_TBH = jnp.where(mask_TB1, y_TBH, 0)
    return finish_sequence(y_TBH, lengths, reverse, time_major), cell.carry_of(h_TBN[-1])
