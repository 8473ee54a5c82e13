"""Gated recurrent units.

GRU of Cho et al. (2014), reset applied before the recurrent matmul:

    r_t = sigma(W_r x_t + U_r h_{t-1} + b_r)
    z_t = sigma(W_z x_t + U_z h_{t-1} + b_z)
    n_t = tanh(W_n x_t + U_n (r_t * h_{t-1}) + b_n)
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

"Reset after" (cuDNN, flax.linen.GRUCell, torch.nn.GRU) moves the reset outside the matmul:

    n_t = tanh(W_n x_t + b_n + r_t * (U_n h_{t-1} + b_hn))

which makes the whole recurrent part one matmul h_{t-1} @ [U_r U_z U_n].
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
class GRU(HiddenStateCell):
    """GRU cell. Params: W (D, 3H) and b for [r, z, n]; R (H, 3H) when reset_after,
    else R (H, 2H) for [r, z] plus U_n (H, H); reset_after adds b_hn (H,). Carry: h."""

    hidden_size: int
    reset_after: bool = False

    def init(self, key: Array, input_size: int, dtype: Any = jnp.float32) -> Params:
        H = self.hidden_size
        k_w, k_r, k_n = jax.random.split(key, 3)
        params = {
            "W": glorot_uniform(k_w, (input_size, 3 * H), dtype),
            "b": jnp.zeros((3 * H,), dtype),
        }
        if self.reset_after:
            params["R"] = orthogonal_blocks(k_r, H, 3, dtype)
            params["b_hn"] = jnp.zeros((H,), dtype)
        else:
            params["R"] = orthogonal_blocks(k_r, H, 2, dtype)
            params["U_n"] = orthogonal_blocks(k_n, H, 1, dtype)
        return params

    def update(self, params: Params, carry: Carry, u_BG: Array, v_BG: Array) -> tuple[Carry, Array]:
        H, h_prev = self.hidden_size, carry
        r = jax.nn.sigmoid(u_BG[..., :H] + v_BG[..., :H])
        z = jax.nn.sigmoid(u_BG[..., H : 2 * H] + v_BG[..., H : 2 * H])
        if self.reset_after:
            n = jnp.tanh(u_BG[..., 2 * H :] + r * (v_BG[..., 2 * H :] + params["b_hn"]))
        else:
            n = jnp.tanh(u_BG[..., 2 * H :] + (r * h_prev) @ params["U_n"])
        h = (1.0 - z) * n + z * h_prev
        return h, h


@register("gru", "GRU of Cho et al. 2014 (reset before the recurrent matmul)")
def _gru(hidden_size: int) -> GRU:
    return GRU(hidden_size, reset_after=False)


@register("gru_reset_after", "GRU with reset after the matmul (cuDNN, flax.linen.GRUCell, torch)")
def _gru_reset_after(hidden_size: int) -> GRU:
    return GRU(hidden_size, reset_after=True)
