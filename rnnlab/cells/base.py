"""The cell contract and shared helpers.

Shape legend (used in names throughout rnnlab): B batch, T time, D input features,
H hidden units, G width of the input projection (gates x H), K width of the recurrent input,
P population (trials trained together).

A cell is a frozen dataclass (its structural hyperparameters) with pure functions over a
parameter dict. Parameter keys follow one convention so that the recurrent layer can apply
the hand-written backward pass to every cell:

- ``"W"`` (D, G) and ``"b"`` (G,): the input projection, used only by ``project``;
- ``"R"`` (K, G'): the recurrent matrix, used only as ``recurrent_input(carry) @ R``. A cell
  whose recurrence is element-wise (IndRNN, minGRU, minLSTM, LRU) has no ``"R"`` and no
  ``recurrent_input``: the layer sees the key is absent and skips the matmul, its gradient
  and variational recurrent dropout (``has_recurrent_matrix``);
- anything else: parameters of the element-wise ``update`` (peepholes, extra biases, ...).

One time step is ``update(params, carry, u_t, v_t)`` with ``v_t = recurrent_input(carry) @ R``
(``None`` for a cell without ``"R"``): one matmul, then element-wise work. The layer
(``rnnlab.recurrent``) hoists ``project`` out of the time loop or keeps it inside, and
differentiates ``update`` per step while computing dW and dR as one matmul over all steps.

Per-step noise. A cell that needs fresh randomness at every step (zoneout's masks) declares
``noise_size`` N > 0 and ``with_noise(x_BTD, key) -> [x, d]``: the N noise features are
appended to the data's D features, drawn from ``key`` (or set to their expectation when
``key`` is None), and ``project`` hands them to ``update``. The layer (``Recurrent``) feeds
them; ``init(key, D)`` takes the data's width D and ``W`` has D rows.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import jax
import jax.numpy as jnp

Array = jax.Array
Params = dict[str, Array]
Carry = Any  # a pytree of (..., H) arrays


@runtime_checkable
class Cell(Protocol):
    """What every recurrent cell provides (see the module docstring)."""

    hidden_size: int

    def init(self, key: Array, input_size: int) -> Params: ...

    def project(self, params: Params, x_TBD: Array) -> Array: ...

    def update(
        self, params: Params, carry: Carry, u_BG: Array, v_BG: Array | None
    ) -> tuple[Carry, Array]: ...

    def initial_carry(self, batch_shape: tuple[int, ...], dtype: Any = jnp.float32) -> Carry: ...

    # A cell with "R" in its parameters also provides
    # recurrent_input(carry) -> (..., K), the rows multiplied by R.


def linear_project(params: Params, x_TBD: Array) -> Array:
    """u = x W + b over any leading axes: the input part of every gate, one matmul."""
    return x_TBD @ params["W"] + params["b"]


def has_recurrent_matrix(params: Params) -> bool:
    """Whether a step does the matmul ``recurrent_input(carry) @ R`` (False: element-wise
    recurrence, no ``"R"`` in the parameters)."""
    return "R" in params


def noise_size(cell: Cell) -> int:
    """N, the number of per-step noise features the layer appends to the input (0: none)."""
    return getattr(cell, "noise_size", 0)


def step(cell: Cell, params: Params, carry: Carry, u_BG: Array) -> tuple[Carry, Array]:
    """One time step given the projected input: update(carry, u, r(carry) @ R)."""
    v_BG = cell.recurrent_input(carry) @ params["R"] if has_recurrent_matrix(params) else None
    return cell.update(params, carry, u_BG, v_BG)


def check_input_size(cell: Cell, params: Params, x: Array) -> None:
    """Raise a clear error when x's feature axis does not match the parameters."""
    n = noise_size(cell)
    d_params = params["W"].shape[0]
    if x.shape[-1] != d_params + n:
        if n:
            raise ValueError(
                f"input has {x.shape[-1]} features; the cell was initialised for {d_params} "
                f"data features plus {n} noise features: pass cell.with_noise(x, key) with x "
                f"of {d_params} features (rnnlab.Recurrent does this)."
            )
        raise ValueError(
            f"input has {x.shape[-1]} features but the cell was initialised for {d_params}; "
            f"re-initialise with input_size={x.shape[-1]} or fix the data."
        )


class HiddenStateCell:
    """Shared parts of cells whose carry is the hidden state h alone, whose input projection
    is x W + b, and whose recurrent input is h itself (GRU, Elman, MGU, MUT, IndRNN, ...)."""

    hidden_size: int

    project = staticmethod(linear_project)

    def initial_carry(self, batch_shape: tuple[int, ...], dtype: Any = jnp.float32) -> Carry:
        return jnp.zeros((*batch_shape, self.hidden_size), dtype)

    @staticmethod
    def recurrent_input(carry: Carry) -> Array:
        return carry


def glorot_uniform(key: Array, shape: tuple[int, int], dtype: Any = jnp.float32) -> Array:
    """Glorot & Bengio (2010) uniform init over a (fan_in, fan_out) matrix."""
    limit = jnp.sqrt(6.0 / (shape[0] + shape[1]))
    return jax.random.uniform(key, shape, dtype, -limit, limit)


def orthogonal_blocks(
    key: Array, hidden_size: int, n_blocks: int, dtype: Any = jnp.float32
) -> Array:
    """(H, n*H) recurrent matrix made of n independent orthogonal (H, H) blocks (Saxe 2014)."""
    init = jax.nn.initializers.orthogonal()
    keys = jax.random.split(key, n_blocks)
    return jnp.concatenate([init(k, (hidden_size, hidden_size), dtype) for k in keys], axis=1)
