"""Minimal gated unit (Zhou, Wu, Zhang & Zhou 2016, arXiv 1603.09420, eqs. 8-10).

One gate does the work of the GRU's reset and update gates:

    f_t = sigma(W_f x_t + U_f h_{t-1} + b_f)
    n_t = tanh(W_h x_t + U_h (f_t * h_{t-1}) + b_h)
    h_t = (1 - f_t) * h_{t-1} + f_t * n_t

Like the reset-before GRU, the second recurrent matmul U_h acts on f_t * h_{t-1}, which is
only known after the first one, so it lives in ``update`` (parameter ``U_h``); ``R`` = U_f.
The forget-gate bias starts at 1 (as in flax.linen.MGUCell, after Jozefowicz et al. 2015).
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


@dataclasses.dataclass(frozen=True)
class MGU(HiddenStateCell):
    """MGU cell. Params: W (D, 2H), b (2H,) for [f, h]; R = U_f (H, H); U_h (H, H). Carry: h."""

    hidden_size: int
    forget_bias: float = 1.0

    def init(self, key: Array, input_size: int, dtype: Any = jnp.float32) -> Params:
        H = self.hidden_size
        k_w, k_r, k_h = jax.random.split(key, 3)
        b = jnp.zeros((2 * H,), dtype).at[:H].set(self.forget_bias)
        return {
            "W": glorot_uniform(k_w, (input_size, 2 * H), dtype),
            "b": b,
            "R": orthogonal_blocks(k_r, H, 1, dtype),
            "U_h": orthogonal_blocks(k_h, H, 1, dtype),
        }

    def update(self, params: Params, carry: Carry, u_BG: Array, v_BH: Array) -> tuple[Carry, Array]:
        H, h_prev = self.hidden_size, carry
        f = jax.nn.sigmoid(u_BG[..., :H] + v_BH)
        n = jnp.tanh(u_BG[..., H:] + (f * h_prev) @ params["U_h"])
        h = (1.0 - f) * h_prev + f * n
        return h, h


@register("mgu", "Minimal gated unit (Zhou et al. 2016)")
def _mgu(hidden_size: int, forget_bias: float = 1.0) -> MGU:
    return MGU(hidden_size, forget_bias)
