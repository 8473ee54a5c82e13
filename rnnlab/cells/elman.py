"""Elman (simple) RNN: h_t = act(W x_t + R h_{t-1} + b), act = tanh or ReLU (Elman 1990).

IRNN (Le, Jaitly & Hinton 2015, "A Simple Way to Initialize Recurrent Networks of Rectified
Linear Units"): ReLU, R initialised to the identity (scaled by ``identity_scale``), biases
zero, input weights drawn from N(0, 0.001^2).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from rnnlab.cells.base import (
    Array,
    Carry,
    HiddenStateCell,
    Params,
    glorot_uniform,
    orthogonal_blocks,
)
from rnnlab.cells.registry import register

ACTIVATIONS = {"tanh": jnp.tanh, "relu": jax.nn.relu}


def check_activation(name: str) -> None:
    """Raise a clear error for an activation name not in ACTIVATIONS."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}.")


@dataclasses.dataclass(frozen=True)
class Elman(HiddenStateCell):
    """Simple RNN. Params: W (D, H), b (H,), R (H, H). Carry: h."""

    hidden_size: int
    activation: str = "tanh"
    identity_init: bool = False  # IRNN
    identity_scale: float = 1.0
    additive_update = True  # update uses u and v only through u + v

    def __post_init__(self):
        check_activation(self.activation)

    def init(self, key: Array, input_size: int, dtype: Any = jnp.float32) -> Params:
        H = self.hidden_size
        k_w, k_r = jax.random.split(key)
        if self.identity_init:
            W = 0.001 * jax.random.normal(k_w, (input_size, H), dtype)
            R = self.identity_scale * jnp.eye(H, dtype=dtype)
        else:
            W = glorot_uniform(k_w, (input_size, H), dtype)
            R = orthogonal_blocks(k_r, H, 1, dtype)
        return {"W": W, "b": jnp.zeros((H,), dtype), "R": R}

    def update(self, params: Params, carry: Carry, u_BG: Array, v_BG: Array) -> tuple[Carry, Array]:
        h = ACTIVATIONS[self.activation](u_BG + v_BG)
        return h, h


@register("rnn", "Elman RNN, h = act(W x + R h + b); activation= tanh|relu")
def _rnn(hidden_size: int, activation: str = "tanh") -> Elman:
    return Elman(hidden_size, activation)


@register("irnn", "ReLU RNN with identity recurrent init (Le et al. 2015)")
def _irnn(hidden_size: int, identity_scale: float = 1.0) -> Elman:
    return Elman(hidden_size, "relu", identity_init=True, identity_scale=identity_scale)
