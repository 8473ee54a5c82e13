"""Zoneout (Krueger et al. 2016, "Zoneout: Regularizing RNNs by Randomly Preserving Hidden
Activations", arXiv 1606.01305, eq. 4), as a wrapper around any rnnlab cell:

    train:  s_t = d_t * s_{t-1} + (1 - d_t) * F(s_{t-1}, x_t),   d_t ~ Bernoulli(p) per unit
    test:   s_t = p * s_{t-1} + (1 - p) * F(s_{t-1}, x_t)        (the expectation)

for every carry leaf s (for an LSTM: the cell c and the output h, each with its own rate).

How the per-step mask gets in (the per-step noise of the cell contract, ``rnnlab.cells.base``).
The step has no randomness of its own, so the mask travels with the input: a runner is fed
[x_t, d_t], d_t the (B, T, N) keep-weights, N = the total number of carry units
(``noise_size``). ``with_noise(x, key)`` draws d_t ~ Bernoulli(p) from ``key``; with
``key=None`` it fills d_t with p, the test-time expectation. ``rnnlab.Recurrent`` does this
itself (a fresh key from the ``"dropout"`` rng per layer and direction when
``deterministic=False``, the expectation otherwise); with ``rnnlab.rnn`` call
``rnn(cell, params, cell.with_noise(x, key))``. ``project`` passes d_t through untouched;
``update`` mixes old and new carry with it. Outputs are the recurrent input of the zoned-out
carry (the hidden state h).

Parameters are exactly the wrapped cell's: ``init(key, D)`` takes the data's width D.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from rnnlab.cells.base import Array, Carry, Cell, Params, noise_size
from rnnlab.cells.registry import get, register


@dataclasses.dataclass(frozen=True)
class Zoneout:
    """Zoneout around ``cell``. ``rates``: one p for every carry leaf, or one p per leaf."""

    cell: Cell
    rates: float | tuple[float, ...] = 0.1

    def __post_init__(self):
        name = type(self.cell).__name__
        if not hasattr(self.cell, "update") or not hasattr(self.cell, "recurrent_input"):
            raise ValueError(
                f"zoneout needs a cell whose output is its recurrent state (it provides update "
                f"and recurrent_input); {name} does not."
            )
        if noise_size(self.cell):
            raise ValueError(f"zoneout cannot wrap a cell with per-step noise ({name}).")
        self._leaf_rates()

    @property
    def hidden_size(self) -> int:
        return self.cell.hidden_size

    def _leaf_sizes(self) -> list[int]:
        leaves = jax.tree.leaves(self.cell.initial_carry((1,)))
        return [leaf.shape[-1] for leaf in leaves]

    def _leaf_rates(self) -> list[float]:
        n = len(self._leaf_sizes())
        rates = (self.rates,) * n if isinstance(self.rates, float | int) else tuple(self.rates)
        if len(rates) != n:
            raise ValueError(f"zoneout needs 1 or {n} rates (one per carry leaf), got {rates}.")
        if not all(0.0 <= p < 1.0 for p in rates):
            raise ValueError(f"zoneout rates must lie in [0, 1), got {rates}.")
        return list(rates)

    @property
    def noise_size(self) -> int:
        """N: the number of mask features appended to the input."""
        return sum(self._leaf_sizes())

    def with_noise(self, x_BTD: Array, key: Array | None = None) -> Array:
        """[x, d]: d ~ Bernoulli(p) per unit and step from ``key``; d = p when key is None."""
        p_N = jnp.concatenate(
            [jnp.full((n,), p, x_BTD.dtype) for n, p in zip(self._leaf_sizes(), self._leaf_rates())]
        )
        shape = (*x_BTD.shape[:-1], p_N.shape[0])
        if key is None:
            d = jnp.broadcast_to(p_N, shape)
        elif len(shape) >= 3:  # time-major, as rnnlab.recurrent.step_bernoulli: padding a
            # batch to more steps keeps its real steps' bits
            B, T, *rest = shape
            d_TB = jax.random.bernoulli(key, p_N, (T, B, *rest))
            d = jnp.swapaxes(d_TB, 0, 1).astype(x_BTD.dtype)
        else:
            d = jax.random.bernoulli(key, p_N, shape).astype(x_BTD.dtype)
        return jnp.concatenate([x_BTD, d], axis=-1)

    def init(self, key: Array, input_size: int, dtype: Any = jnp.float32) -> Params:
        """The wrapped cell's parameters for ``input_size`` data features."""
        return self.cell.init(key, input_size, dtype)

    def project(self, params: Params, x: Array) -> Array:
        D = params["W"].shape[0]
        return jnp.concatenate([self.cell.project(params, x[..., :D]), x[..., D:]], axis=-1)

    def initial_carry(self, batch_shape: tuple[int, ...], dtype: Any = jnp.float32) -> Carry:
        return self.cell.initial_carry(batch_shape, dtype)

    def recurrent_input(self, carry: Carry) -> Array:
        return self.cell.recurrent_input(carry)

    def update(
        self, params: Params, carry: Carry, u_BG: Array, v_BG: Array | None
    ) -> tuple[Carry, Array]:
        N = self.noise_size
        new, _ = self.cell.update(params, carry, u_BG[..., :-N], v_BG)
        d_BN = u_BG[..., -N:]
        old_leaves, tree = jax.tree.flatten(carry)
        new_leaves = jax.tree.leaves(new)
        bounds = [0]
        for n in self._leaf_sizes():
            bounds.append(bounds[-1] + n)
        mixed = [
            d_BN[..., lo:hi] * o + (1.0 - d_BN[..., lo:hi]) * n
            for o, n, lo, hi in zip(old_leaves, new_leaves, bounds[:-1], bounds[1:])
        ]
        carry_out = jax.tree.unflatten(tree, mixed)
        return carry_out, self.cell.recurrent_input(carry_out)


@register("zoneout", "Zoneout (Krueger et al. 2016) around any cell: cell=<name>, rates=p")
def _zoneout(
    hidden_size: int, cell: str | Cell = "lstm", rates: float | tuple = 0.1, **cell_kwargs: Any
) -> Zoneout:
    inner = get(cell, hidden_size, **cell_kwargs) if isinstance(cell, str) else cell
    return Zoneout(inner, rates)
