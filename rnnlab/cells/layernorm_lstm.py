"""Layer-normalised LSTM (Ba, Kiros & Hinton 2016, "Layer Normalization", Sec. 3.1 / eq. 20):

    [i; f; o; g] = LN(W_x x_t; a_x, 0) + LN(R h_{t-1}; a_h, 0) + b
    c_t = sigma(f) * c_{t-1} + sigma(i) * tanh(g)
    h_t = sigma(o) * tanh(LN(c_t; a_c, b_c))

LN(z; a, b) = a * (z - mean(z)) / sqrt(var(z) + eps) + b. With ``per_gate=True`` (default)
the statistics are taken over each gate's H units separately (as TensorFlow's
LayerNormBasicLSTMCell and haste do); ``per_gate=False`` normalises the fused 4H vector, as
eq. 20 of the paper literally reads. The biases of the two pre-activation LNs and b are one
parameter (their sum is all that matters).

Contract: ``project`` computes the normalised input part LN(W_x x; a_x) + b (it is per row, so
it can be hoisted out of the time loop); ``update`` normalises v = h @ R and the cell.
Gates are ordered [g, i, f, o]; the forget-gate bias starts at 1, gains at 1.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from rnnlab.cells.base import Array, Carry, Params, glorot_uniform, orthogonal_blocks
from rnnlab.cells.registry import register


def layer_norm(z: Array, eps: float) -> Array:
    """(z - mean) / sqrt(var + eps) over the last axis (no gain, no bias)."""
    mean = jnp.mean(z, axis=-1, keepdims=True)
    var = jnp.mean(jnp.square(z - mean), axis=-1, keepdims=True)
    return (z - mean) * jax.lax.rsqrt(var + eps)


@dataclasses.dataclass(frozen=True)
class LayerNormLSTM:
    """LN-LSTM. Params: W (D, 4H), b (4H,), R (H, 4H), gain_x, gain_h (4H,), gain_c, bias_c (H,).
    Carry: (c, h)."""

    hidden_size: int
    per_gate: bool = True
    forget_bias: float = 1.0
    eps: float = 1e-5

    def _norm_gates(self, z: Array) -> Array:
        if not self.per_gate:
            return layer_norm(z, self.eps)
        blocks = z.reshape(*z.shape[:-1], 4, self.hidden_size)
        return layer_norm(blocks, self.eps).reshape(z.shape)

    def init(self, key: Array, input_size: int, dtype: Any = jnp.float32) -> Params:
        H = self.hidden_size
        k_w, k_r = jax.random.split(key)
        return {
            "W": glorot_uniform(k_w, (input_size, 4 * H), dtype),
            "b": jnp.zeros((4 * H,), dtype).at[2 * H : 3 * H].set(self.forget_bias),
            "R": orthogonal_blocks(k_r, H, 4, dtype),
            "gain_x": jnp.ones((4 * H,), dtype),
            "gain_h": jnp.ones((4 * H,), dtype),
            "gain_c": jnp.ones((H,), dtype),
            "bias_c": jnp.zeros((H,), dtype),
        }

    def project(self, params: Params, x_TBD: Array) -> Array:
        return self._norm_gates(x_TBD @ params["W"]) * params["gain_x"] + params["b"]

    def initial_carry(self, batch_shape: tuple[int, ...], dtype: Any = jnp.float32) -> Carry:
        zeros = jnp.zeros((*batch_shape, self.hidden_size), dtype)
        return (zeros, zeros)

    @staticmethod
    def recurrent_input(carry: Carry) -> Array:
        return carry[1]

    def update(self, params: Params, carry: Carry, u_BG: Array, v_BG: Array) -> tuple[Carry, Array]:
        a_BG = u_BG + self._norm_gates(v_BG) * params["gain_h"]
        g, i, f, o = jnp.split(a_BG, 4, axis=-1)
        c = jax.nn.sigmoid(f) * carry[0] + jax.nn.sigmoid(i) * jnp.tanh(g)
        c_norm = layer_norm(c, self.eps) * params["gain_c"] + params["bias_c"]
        h = jax.nn.sigmoid(o) * jnp.tanh(c_norm)
        return (c, h), h


@register("layernorm_lstm", "LSTM with layer norm on gates and cell (Ba et al. 2016)")
def _layernorm_lstm(
    hidden_size: int, per_gate: bool = True, forget_bias: float = 1.0
) -> LayerNormLSTM:
    return LayerNormLSTM(hidden_size, per_gate, forget_bias)
