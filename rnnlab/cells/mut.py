"""The three mutated units found by architecture search in Jozefowicz, Zaremba & Sutskever,
"An Empirical Exploration of Recurrent Network Architectures" (ICML 2015, Sec. 3.2):

    MUT1: z = sigma(W_xz x_t + b_z)
          r = sigma(W_xr x_t + W_hr h_t + b_r)
          h_{t+1} = tanh(W_hh (r * h_t) + tanh(x_t) + b) * z + h_t * (1 - z)
    MUT2: z = sigma(W_xz x_t + W_hz h_t + b_z)
          r = sigma(x_t + W_hr h_t + b_r)
          h_{t+1} = tanh(W_hh (r * h_t) + W_xh x_t + b) * z + h_t * (1 - z)
    MUT3: z = sigma(W_xz x_t + W_hz tanh(h_t) + b_z)
          r = sigma(W_xr x_t + W_hr h_t + b_r)
          h_{t+1} = tanh(W_hh (r * h_t) + W_xh x_t + b) * z + h_t * (1 - z)

The raw x_t in MUT1 (inside tanh) and MUT2 (in r) only type-checks when D = H. As the
re-implementations do (RecurrentLayers.jl ``mut_cell.jl``, RecurrentArchitectures
``mut{1,2,3}.py``), x_t there is replaced by a projection W x_t + b, so every unit has one
input matmul W (D, 3H) over the blocks [z, r, h]: MUT1's candidate is
tanh(W_hh (r * h) + tanh(W_xh x + b_h)), MUT2's reset is sigma(W_xr x + b_r + W_hr h).

Recurrent weights: ``R`` holds the matmuls of h_t itself (MUT1: W_hr; MUT2: [W_hz, W_hr];
MUT3: W_hr); ``U_h`` = W_hh acts on r * h and ``U_z`` = W_hz (MUT3) on tanh(h), both inside
``update``. All biases start at 0.
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
class MUT(HiddenStateCell):
    """MUT1/2/3 cell (``variant`` 1, 2 or 3). Params: W (D, 3H), b (3H,) for [z, r, h];
    R (H, H), or (H, 2H) = [W_hz, W_hr] for MUT2; U_h (H, H); U_z (H, H) for MUT3. Carry: h."""

    hidden_size: int
    variant: int = 1

    def __post_init__(self):
        if self.variant not in (1, 2, 3):
            raise ValueError(f"MUT variant must be 1, 2 or 3, got {self.variant!r}.")

    def init(self, key: Array, input_size: int, dtype: Any = jnp.float32) -> Params:
        H = self.hidden_size
        k_w, k_r, k_h, k_z = jax.random.split(key, 4)
        params = {
            "W": glorot_uniform(k_w, (input_size, 3 * H), dtype),
            "b": jnp.zeros((3 * H,), dtype),
            "R": orthogonal_blocks(k_r, H, 2 if self.variant == 2 else 1, dtype),
            "U_h": orthogonal_blocks(k_h, H, 1, dtype),
        }
        if self.variant == 3:
            params["U_z"] = orthogonal_blocks(k_z, H, 1, dtype)
        return params

    def update(self, params: Params, carry: Carry, u_BG: Array, v_BK: Array) -> tuple[Carry, Array]:
        H, h_prev = self.hidden_size, carry
        u_z, u_r, u_h = u_BG[..., :H], u_BG[..., H : 2 * H], u_BG[..., 2 * H :]
        if self.variant == 1:
            z = jax.nn.sigmoid(u_z)
            r = jax.nn.sigmoid(u_r + v_BK)
            n = jnp.tanh((r * h_prev) @ params["U_h"] + jnp.tanh(u_h))
        else:
            if self.variant == 2:
                z = jax.nn.sigmoid(u_z + v_BK[..., :H])
                r = jax.nn.sigmoid(u_r + v_BK[..., H:])
            else:
                z = jax.nn.sigmoid(u_z + jnp.tanh(h_prev) @ params["U_z"])
                r = jax.nn.sigmoid(u_r + v_BK)
            n = jnp.tanh((r * h_prev) @ params["U_h"] + u_h)
        h = n * z + h_prev * (1.0 - z)
        return h, h


def _register_mut(variant: int) -> None:
    @register(
        f"mut{variant}", f"MUT{variant} of Jozefowicz et al. 2015 (raw x_t replaced by W x_t + b)"
    )
    def factory(hidden_size: int) -> MUT:
        return MUT(hidden_size, variant)


for _variant in (1, 2, 3):
    _register_mut(_variant)
