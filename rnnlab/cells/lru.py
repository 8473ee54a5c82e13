"""Linear recurrent unit (Orvieto, Smith, Gu, Fernando, Gulcehre, Pascanu & De 2023,
"Resurrecting Recurrent Neural Networks for Long Sequences", ICML, eq. 7 and Appendix A):

    x_k = Lambda * x_{k-1} + gamma * (B u_k)          x complex (N,), Lambda diagonal
    y_k = Re(C x_k) + D * u_k
    Lambda = exp(-exp(nu_log) + i exp(theta_log))      |lambda| < 1 by construction
    gamma  = exp(gamma_log), initialised to sqrt(1 - |lambda|^2)

Init as in the paper's Appendix A: |lambda| uniform on the ring [r_min, r_max] in the complex
plane (nu_log = log(-log(r)) with r^2 ~ U[r_min^2, r_max^2]), phase ~ U[0, max_phase],
B ~ N(0, 1/(2 D)) (real and imaginary parts), C ~ N(0, 1/N), D ~ N(0, 1).

Input width. B maps any input width to N, but the paper's skip D * u_k is element-wise and
needs inputs of width H (there an encoder maps the data to the model width first). With
inputs of another width the skip is a dense (input_size, H) matrix S instead,
y_k = Re(C x_k) + u_k S, S ~ N(0, 1/input_size): the same functions as a bias-free Dense
encoder to width H followed by the paper's LRU, in one matmul.

Contract: the complex state is carried as a pair (Re x, Im x) of real arrays. ``W`` holds
[Re B^T, Im B^T] (input_size, 2N), followed by S's H columns when input_size != H;
``project`` returns [gamma Re(Bu), gamma Im(Bu), skip]. The recurrence is element-wise, so
the parameters have no ``"R"`` (no recurrent matmul). ``update`` does one step;
``rnnlab.recurrent.parallel_rnn`` runs the same recurrence as an associative scan in complex
arithmetic.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp

from rnnlab.cells.base import Array, Carry, Params
from rnnlab.cells.registry import register


@dataclasses.dataclass(frozen=True)
class LRU:
    """LRU. Params: W (D, 2N) or (D, 2N + H), nu_log, theta_log, gamma_log (N,), C_re, C_im
    (N, H), and D (H,) when the input width D equals H. Carry: (Re x, Im x), each (..., N).
    ``state_size`` N defaults to ``hidden_size``."""

    hidden_size: int
    state_size: int | None = None
    r_min: float = 0.0
    r_max: float = 1.0
    max_phase: float = 2 * math.pi

    @property
    def n(self) -> int:
        return self.hidden_size if self.state_size is None else self.state_size

    def init(self, key: Array, input_size: int, dtype: Any = jnp.float32) -> Params:
        N, H = self.n, self.hidden_size
        k1, k2, kb, kc, kd = jax.random.split(key, 5)
        u1 = jax.random.uniform(k1, (N,), dtype)
        u2 = jax.random.uniform(k2, (N,), dtype)
        nu_log = jnp.log(-0.5 * jnp.log(u1 * (self.r_max**2 - self.r_min**2) + self.r_min**2))
        theta_log = jnp.log(self.max_phase * u2)
        gamma_log = jnp.log(jnp.sqrt(1.0 - jnp.exp(-2.0 * jnp.exp(nu_log))))
        B = jax.random.normal(kb, (input_size, 2 * N), dtype) / math.sqrt(2 * input_size)
        C = jax.random.normal(kc, (2, N, H), dtype) / math.sqrt(N)
        params = {
            "W": B,
            "nu_log": nu_log,
            "theta_log": theta_log,
            "gamma_log": gamma_log,
            "C_re": C[0],
            "C_im": C[1],
        }
        if input_size == H:
            params["D"] = jax.random.normal(kd, (H,), dtype)
        else:
            S = jax.random.normal(kd, (input_size, H), dtype) / math.sqrt(input_size)
            params["W"] = jnp.concatenate([B, S], axis=1)
        return params

    def project(self, params: Params, x: Array) -> Array:
        gamma = jnp.exp(params["gamma_log"])
        bu = x @ params["W"]
        N = self.n
        skip = x * params["D"] if "D" in params else bu[..., 2 * N :]
        return jnp.concatenate([bu[..., :N] * gamma, bu[..., N : 2 * N] * gamma, skip], -1)

    def initial_carry(self, batch_shape: tuple[int, ...], dtype: Any = jnp.float32) -> Carry:
        zeros = jnp.zeros((*batch_shape, self.n), dtype)
        return (zeros, zeros)

    @staticmethod
    def lambda_polar(params: Params) -> tuple[Array, Array]:
        """(|lambda|, arg lambda) = (exp(-exp(nu_log)), exp(theta_log))."""
        return jnp.exp(-jnp.exp(params["nu_log"])), jnp.exp(params["theta_log"])

    # -- linear-recurrence interface (rnnlab.recurrent.parallel) --
    def coefficients(self, params: Params, u: Array) -> tuple[Array, Array]:
        mod, arg = self.lambda_polar(params)
        N = self.n
        return mod * jnp.exp(1j * arg), jax.lax.complex(u[..., :N], u[..., N : 2 * N])

    @staticmethod
    def state(carry: Carry) -> Array:
        return jax.lax.complex(carry[0], carry[1])

    @staticmethod
    def carry_of(x: Array) -> Carry:
        return (jnp.real(x), jnp.imag(x))

    def readout(self, params: Params, x: Array, u: Array) -> Array:
        return jnp.real(x) @ params["C_re"] - jnp.imag(x) @ params["C_im"] + u[..., 2 * self.n :]

    # -- one step in real arithmetic (rnnlab.rnn) -------------------------------------------
    def update(
        self, params: Params, carry: Carry, u_BG: Array, v_BG: None = None
    ) -> tuple[Carry, Array]:
        mod, arg = self.lambda_polar(params)
        lam_re, lam_im = mod * jnp.cos(arg), mod * jnp.sin(arg)
        x_re, x_im = carry
        N = self.n
        new_re = lam_re * x_re - lam_im * x_im + u_BG[..., :N]
        new_im = lam_re * x_im + lam_im * x_re + u_BG[..., N : 2 * N]
        y = new_re @ params["C_re"] - new_im @ params["C_im"] + u_BG[..., 2 * N :]
        return (new_re, new_im), y


@register("lru", "Linear recurrent unit (Orvieto et al. 2023); runs with scan='parallel' too")
def _lru(hidden_size: int, state_size: int | None = None, **ring: float) -> LRU:
    return LRU(hidden_size, state_size, **ring)
