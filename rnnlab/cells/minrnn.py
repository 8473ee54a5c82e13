"""minGRU and minLSTM (Feng, Tung, Ahmed, Bengio & Hajimirsadeghi 2024, "Were RNNs All We
Needed?", arXiv 2410.01201, Sec. 3.1.3 and 3.2.3):

    minGRU:  z_t = sigma(Linear_z(x_t));  n_t = Linear_h(x_t)
             h_t = (1 - z_t) * h_{t-1} + z_t * n_t
    minLSTM: f_t = sigma(Linear_f(x_t));  i_t = sigma(Linear_i(x_t));  n_t = Linear_h(x_t)
             f'_t = f_t / (f_t + i_t);  i'_t = i_t / (f_t + i_t)
             h_t = f'_t * h_{t-1} + i'_t * n_t

No gate sees h_{t-1}, so h_t = a_t * h_{t-1} + b_t is a linear recurrence: besides the
sequential path (``rnnlab.rnn``; no recurrent matmul, so the parameters have no ``"R"``) it
runs as a parallel associative scan (``rnnlab.recurrent.parallel_rnn``), the
two agreeing to rounding. The scan is done in linear space: a_t lies in (0, 1), so the
cumulative products can only underflow to 0, never overflow (the paper's log-space scan is
needed for its positive-candidate variant g(.), which this module does not implement).

Linear-recurrence interface (used by ``parallel_rnn``): ``coefficients(params, u) -> (a, b)``,
``state(carry) -> h``, ``carry_of(h) -> carry``, ``readout(params, h, u) -> y``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from rnnlab.cells.base import Array, Carry, HiddenStateCell, Params, glorot_uniform
from rnnlab.cells.registry import register


@dataclasses.dataclass(frozen=True)
class _MinRNN(HiddenStateCell):
    """h_t = a_t * h_{t-1} + b_t with (a_t, b_t) = coefficients(params, u_t), defined by each
    subclass (minGRU, minLSTM)."""

    hidden_size: int
    n_blocks = 2

    def init(self, key: Array, input_size: int, dtype: Any = jnp.float32) -> Params:
        H = self.hidden_size
        return {
            "W": glorot_uniform(key, (input_size, self.n_blocks * H), dtype),
            "b": jnp.zeros((self.n_blocks * H,), dtype),
        }

    @staticmethod
    def state(carry: Carry) -> Array:
        return carry

    @staticmethod
    def carry_of(h: Array) -> Carry:
        return h

    @staticmethod
    def readout(params: Params, h: Array, u: Array) -> Array:
        return h

    def update(
        self, params: Params, carry: Carry, u_BG: Array, v_BG: None = None
    ) -> tuple[Carry, Array]:
        a, b = self.coefficients(params, u_BG)  # defined by each subclass
        h = a * carry + b
        return h, h


@dataclasses.dataclass(frozen=True)
class MinGRU(_MinRNN):
    """minGRU. Params: W (D, 2H), b (2H,) for [z, n]. Carry: h."""

    n_blocks = 2

    def coefficients(self, params: Params, u: Array) -> tuple[Array, Array]:
        H = self.hidden_size
        z = jax.nn.sigmoid(u[..., :H])
        return 1.0 - z, z * u[..., H:]


@dataclasses.dataclass(frozen=True)
class MinLSTM(_MinRNN):
    """minLSTM. Params: W (D, 3H), b (3H,) for [f, i, n]. Carry: h."""

    n_blocks = 3

    def coefficients(self, params: Params, u: Array) -> tuple[Array, Array]:
        H = self.hidden_size
        f = jax.nn.sigmoid(u[..., :H])
        i = jax.nn.sigmoid(u[..., H : 2 * H])
        total = f + i
        return f / total, (i / total) * u[..., 2 * H :]


@register("mingru", "minGRU (Feng et al. 2024); runs with scan='parallel' too")
def _mingru(hidden_size: int) -> MinGRU:
    return MinGRU(hidden_size)


@register("minlstm", "minLSTM (Feng et al. 2024); runs with scan='parallel' too")
def _minlstm(hidden_size: int) -> MinLSTM:
    return MinLSTM(hidden_size)
