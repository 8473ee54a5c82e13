"""JANET, "just another network" (van der Westhuizen & Lasenby 2018, arXiv 1804.04849):
an LSTM with only a forget gate, whose cell state is its output.

    s_t = W_f x_t + U_f h_{t-1} + b_f
    c~_t = tanh(W_c x_t + U_c h_{t-1} + b_c)
    h_t = sigmoid(s_t) * h_{t-1} + (1 - sigmoid(s_t - beta)) * c~_t

Importing this file registers the cell as "janet" (docs/add_your_own_cell.md).
"""

import dataclasses

import jax
import jax.numpy as jnp

from rnnlab.cells.base import HiddenStateCell, glorot_uniform, orthogonal_blocks
from rnnlab.cells.registry import available, register


@dataclasses.dataclass(frozen=True)
class JANET(HiddenStateCell):
    """Params: W (D, 2H), b (2H,) for [f, c~]; R = [U_f, U_c] (H, 2H). Carry: h."""

    hidden_size: int
    beta: float = 1.0
    additive_update = True  # update reads u and v only through u + v

    def init(self, key, input_size, dtype=jnp.float32):
        k_w, k_r = jax.random.split(key)
        H = self.hidden_size
        return {
            "W": glorot_uniform(k_w, (input_size, 2 * H), dtype),
            "b": jnp.zeros((2 * H,), dtype).at[:H].set(1.0),  # forget bias 1
            "R": orthogonal_blocks(k_r, H, 2, dtype),
        }

    def update(self, params, carry, u_BG, v_BG):
        s, a = jnp.split(u_BG + v_BG, 2, axis=-1)
        h = jax.nn.sigmoid(s) * carry + (1.0 - jax.nn.sigmoid(s - self.beta)) * jnp.tanh(a)
        return h, h


if "janet" not in available():  # importing twice (a notebook re-run) keeps one entry

    @register("janet", "JANET: forget gate only (van der Westhuizen & Lasenby 2018)")
    def _janet(hidden_size: int, beta: float = 1.0) -> JANET:
        return JANET(hidden_size, beta)
