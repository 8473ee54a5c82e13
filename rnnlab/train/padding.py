"""Exact padding of a model to more hidden units, so trials of different sizes share a program.

A trial of size H is initialised as a lone model of size H, then embedded in a model of the
bucket size Hb >= H: along every axis whose size differs between the two parameter trees,
the axis holds n blocks of H units (n = 4 for an LSTM's gate axis, 2 for a bidirectional
layer's input), and block g goes to units [g Hb, g Hb + H). Padded entries start at zero
and a mask zeroes their gradients before the optimiser, so they stay zero: a padded unit
then receives nothing from real units' weights and sends nothing to real units (every weight
that connects it is zero), forward and backward, through the head, the optimiser state,
weight decay and gradient clipping (its gradients are zero, so the global norm is the lone
model's). Dropout masks between layers are drawn per unit
(``rnnlab.recurrent.layer.unit_bernoulli``), so a real unit's bits do not depend on Hb (and,
drawn time-major, not on the padded T). The trial's numbers equal training it alone at size H
up to the order of floating-point sums.

Exact for cells whose units interact only through weight matrices (below); not for layer
normalisation (statistics over all units), zoneout, LRU or ConvLSTM, which train in groups of
equal size instead.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from rnnlab.models.config import ModelConfig

PADDABLE_CELLS = frozenset(
    {"lstm", "gru", "gru_reset_after", "rnn", "irnn", "mgu", "mut1", "mut2", "mut3"}
)


def paddable(config: ModelConfig) -> bool:
    """Whether a model of ``config`` can be padded to more hidden units exactly."""
    return config.cell in PADDABLE_CELLS


def _positions(lone: int, padded: int, h: int, hb: int) -> np.ndarray:
    """Indices along a padded axis that hold the lone axis's entries."""
    if (lone == padded) or h == hb:
        return np.arange(lone)
    n = lone // h
    if lone != n * h or padded != n * hb:
        raise ValueError(
            f"cannot pad an axis of {lone} entries (H={h}) to {padded} (H={hb}): it is not "
            "made of blocks of H units."
        )
    return (np.arange(n)[:, None] * hb + np.arange(h)[None, :]).ravel()


def _index(lone_shape: tuple, padded_shape: tuple, h: int, hb: int) -> tuple:
    if len(lone_shape) != len(padded_shape):
        raise ValueError(f"parameter ranks differ: {lone_shape} vs {padded_shape}.")
    pos = [_positions(a, b, h, hb) for a, b in zip(lone_shape, padded_shape)]
    return np.ix_(*pos) if pos else ()


def embed(lone: Any, template: Any, h: int, hb: int) -> tuple[Any, Any]:
    """(lone parameters placed in zeros shaped like ``template``, mask: 1 where a real
    parameter sits, 0 on padding)."""

    def one(x, t):
        x = np.asarray(x)
        idx = _index(x.shape, np.shape(t), h, hb)
        out = np.zeros(np.shape(t), x.dtype)
        mask = np.zeros(np.shape(t), x.dtype)
        out[idx] = x
        mask[idx] = 1
        return out, mask

    pairs = jax.tree.map(one, lone, template)
    is_pair = lambda p: isinstance(p, tuple)  # noqa: E731
    return (
        jax.tree.map(lambda p: p[0], pairs, is_leaf=is_pair),
        jax.tree.map(lambda p: p[1], pairs, is_leaf=is_pair),
    )


def extract(padded: Any, lone_template: Any, h: int, hb: int) -> Any:
    """The lone-size parameters inside ``padded`` (the inverse of ``embed``)."""
    return jax.tree.map(
        lambda p, t: np.asarray(p)[_index(np.shape(t), np.shape(p), h, hb)], padded, lone_template
    )
