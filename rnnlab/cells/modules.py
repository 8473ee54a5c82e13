"""Thin flax.linen wrapper: any rnnlab cell as a ``flax.linen.RNNCellBase``.

Works inside ``flax.linen.RNN`` and ``flax.linen.Bidirectional``; the parameters live under
one entry ("cell") and are exactly the cell's parameter dict. A cell with per-step noise
(zoneout) is fed ``cell.with_noise(x, key)``: its noise features are not data features.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from rnnlab.cells.base import Cell, noise_size, step


class FlaxCell(nn.RNNCellBase):
    """``nn.RNN(FlaxCell(rl.cells.get("lstm", 64)))`` runs an rnnlab cell with Flax's scan."""

    cell: Cell
    param_dtype: Any = None

    @nn.compact
    def __call__(self, carry: Any, x_BD: jax.Array) -> tuple[Any, jax.Array]:
        kwargs = {} if self.param_dtype is None else {"dtype": self.param_dtype}
        d = x_BD.shape[-1] - noise_size(self.cell)
        params = self.param("cell", lambda key: self.cell.init(key, d, **kwargs))
        return step(self.cell, params, carry, self.cell.project(params, x_BD))

    @nn.nowrap
    def initialize_carry(self, rng: jax.Array, input_shape: tuple[int, ...]) -> Any:
        return self.cell.initial_carry(tuple(input_shape[:-1]), self.param_dtype or jnp.float32)

    @property
    def num_feature_axes(self) -> int:
        return 1
