"""Sequence classifier: embedding -> recurrent stack -> pooling over valid steps -> dense.

Pooling respects lengths (nothing past a sequence's length enters):
  mean: sum_{t < L} h_t / L;   max: max_{t < L} h_t;   last: h_{L-1} (for a bidirectional
  stack the backward direction's summary is its output at t = 0, which has read the whole
  sequence, so "last" concatenates h^fwd_{L-1} and h^bwd_0).

``RNNClassifier`` and ``rnnlab.models.transformer.TransformerClassifier`` share one interface:
``module.apply(variables, tokens_BT, lengths_B, deterministic=True) -> logits`` with
``output="pooled"`` (B, C) or ``output="per_step"`` (B, T, C) for next-step prediction.
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp

from rnnlab.cells import get as get_cell
from rnnlab.cells.base import Array
from rnnlab.recurrent import Recurrent

POOLINGS = ("mean", "max", "last")


def pool(h_BTH: Array, lengths_B: Array, how: str, bidirectional: bool = False) -> Array:
    """Pool (B, T, H) outputs over each sequence's valid steps: (B, H)."""
    T = h_BTH.shape[1]
    mask_BT1 = (jnp.arange(T)[None, :] < lengths_B[:, None])[..., None]
    if how == "mean":
        return jnp.sum(jnp.where(mask_BT1, h_BTH, 0), 1) / jnp.maximum(lengths_B, 1)[:, None]
    if how == "max":
        return jnp.max(jnp.where(mask_BT1, h_BTH, -jnp.inf), axis=1)
    if how == "last":
        last = jnp.take_along_axis(h_BTH, jnp.maximum(lengths_B - 1, 0)[:, None, None], 1)[:, 0]
        if not bidirectional:
            return last
        half = h_BTH.shape[-1] // 2
        return jnp.concatenate([last[:, :half], h_BTH[:, 0, half:]], -1)
    raise ValueError(f"pooling must be one of {POOLINGS}, got {how!r}.")


class RNNClassifier(nn.Module):
    """Embedding + ``Recurrent`` stack + pooling + dense."""

    vocab: int
    num_classes: int
    embed: int = 32
    hidden: int = 64
    cell: str = "lstm"
    num_layers: int = 1
    bidirectional: bool = False
    pooling: str = "mean"
    output: str = "pooled"  # or "per_step" (causal next-step logits; not bidirectional)
    dropout: float = 0.0

    @nn.compact
    def __call__(
        self, tokens_BT: Array, lengths_B: Array | None = None, *, deterministic: bool = True
    ) -> Array:
        if lengths_B is None:
            lengths_B = jnp.full((tokens_BT.shape[0],), tokens_BT.shape[1])
        x = nn.Embed(self.vocab, self.embed)(tokens_BT)
        h, _ = Recurrent(
            get_cell(self.cell, self.hidden),
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
        )(x, lengths_B, deterministic=deterministic)
        if self.output == "per_step":
            return nn.Dense(self.num_classes)(h)
        return nn.Dense(self.num_classes)(pool(h, lengths_B, self.pooling, self.bidirectional))
