"""Independently recurrent neural network (Li, Li, Cook, Zhu & Gao 2018, arXiv 1803.04831,
eq. 2):

    h_t = act(W x_t + u * h_{t-1} + b)        u: (H,) vector, * element-wise, act = ReLU

The recurrence is element-wise, so there is no recurrent matmul. Under the cell contract
(one step = ``update(carry, u, r(carry) @ R)``) the cell returns ``h`` as its recurrent
input and keeps ``R`` as an empty (H, 0) matrix: ``r @ R`` is a zero-width array, costs
nothing, gets an empty gradient, and the hand-written backward pass of ``rnnlab.rnn`` needs
no change. The recurrent weight ``u`` is an update parameter, so its gradient is summed per
step like a peephole's. (A diagonal (H, H) ``R`` would cost H^2 per step and train its
off-diagonal entries.) Consequence: variational recurrent dropout (``recurrent_mask``) acts
on ``r @ R`` and therefore does not reach IndRNN's recurrence.

Init: u ~ U(0, u_max) (Li et al. keep |u| <= (2)^(1/T)-ish bounds for ReLU; clip with
``constrain`` after each optimiser step if needed), W Glorot, b = 0.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from rnnlab.cells.base import Array, Carry, HiddenStateCell, Params, glorot_uniform
from rnnlab.cells.elman import ACTIVATIONS, check_activation


@dataclasses.dataclass(frozen=True)
class IndRNN(HiddenStateCell):
    """IndRNN cell. Params: W (D, H), b (H,), R (H, 0) (empty), u (H,). Carry: h."""

    hidden_size: int
    activation: str = "relu"
    u_max: float = 1.0

    def __post_init__(self):
        check_activation(self.activation)

    def init(self, key: Array, input_size: int, dtype: Any = jnp.float32) -> Params:
        H = self.hidden_size
        k_w, k_u = jax.random.split(key)
        return {
            "W": glorot_uniform(k_w, (input_size, H), dtype),
            "b": jnp.zeros((H,), dtype),
            "R": jnp.zeros((H, 0), dtype),
            "u": jax.random.uniform(k_u, (H,), dtype, 0.0, self.u_max),
        }

    def update(self, params: Params, carry: Carry, u_BH: Array, v_B0: Array) -> tuple[Carry, Array]:
        h = ACTIVATIONS[self.activation](u_BH + params["u"] * carry)
        return h, h

    @staticmethod
    def constrain(params: Params, max_abs: float) -> Params:
        """Clip the recurrent weights to |u| <= max_abs (Li et al. 2018, Sec. 3.1)."""
        return {**params, "u": jnp.clip(params["u"], -max_abs, max_abs)}
