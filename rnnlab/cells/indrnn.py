"""Independently recurrent neural network (Li, Li, Cook, Zhu & Gao 2018, arXiv 1803.04831,
eq. 2):

    h_t = act(W x_t + u * h_{t-1} + b)        u: (H,) vector, * element-wise, act = ReLU

The recurrence is element-wise, so there is no recurrent matmul: the parameters have no
``"R"`` and the layer's step is ``update(carry, u_t, None)``. The recurrent weight ``u`` is an
update parameter, so its gradient is summed per step like a peephole's. (A diagonal (H, H)
``R`` would cost H^2 per step and train its off-diagonal entries.) Variational recurrent
dropout acts on ``r @ R`` and is therefore refused for IndRNN.

Init: u ~ U(0, u_max), W Glorot, b = 0.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from rnnlab.cells.base import Array, Carry, HiddenStateCell, Params, glorot_uniform
from rnnlab.cells.elman import ACTIVATIONS, check_activation
from rnnlab.cells.registry import register


@dataclasses.dataclass(frozen=True)
class IndRNN(HiddenStateCell):
    """IndRNN cell. Params: W (D, H), b (H,), u (H,). Carry: h."""

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
            "u": jax.random.uniform(k_u, (H,), dtype, 0.0, self.u_max),
        }

    def update(
        self, params: Params, carry: Carry, u_BH: Array, v_BG: None = None
    ) -> tuple[Carry, Array]:
        h = ACTIVATIONS[self.activation](u_BH + params["u"] * carry)
        return h, h


@register("indrnn", "IndRNN, h = act(W x + u * h + b) (Li et al. 2018); activation= relu|tanh")
def _indrnn(hidden_size: int, activation: str = "relu", u_max: float = 1.0) -> IndRNN:
    return IndRNN(hidden_size, activation, u_max)
