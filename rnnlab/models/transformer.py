"""A small Transformer baseline (Vaswani et al. 2017) behind the classifier interface.

Pre-norm blocks (Xiong et al. 2020): x += MHA(LN(x)); x += MLP(LN(x)), learned positions,
a final LN. ``causal=True`` masks attention to the past (next-step prediction,
``output="per_step"``); ``causal=False`` is a bidirectional encoder (classification,
``output="pooled"`` with the same length-aware pooling as ``RNNClassifier``). Keys past each
sequence's length are masked out.

``d_model_for_params`` picks the width that brings the parameter count closest to a target,
so that a Transformer can be compared with a recurrent model of the same size.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.cells.base import Array
from rnnlab.models.classifier import pool


class Block(nn.Module):
    d_model: int
    num_heads: int
    mlp_ratio: int = 4
    dropout: float = 0.0

    @nn.compact
    def __call__(self, x: Array, mask: Array, deterministic: bool) -> Array:
        y = nn.MultiHeadDotProductAttention(
            self.num_heads, dropout_rate=self.dropout, deterministic=deterministic
        )(nn.LayerNorm()(x), mask=mask)
        x = x + nn.Dropout(self.dropout)(y, deterministic=deterministic)
        y = nn.Dense(self.mlp_ratio * self.d_model)(nn.LayerNorm()(x))
        y = nn.Dense(self.d_model)(nn.gelu(y))
        return x + nn.Dropout(self.dropout)(y, deterministic=deterministic)


class TransformerClassifier(nn.Module):
    """``apply(variables, tokens_BT, lengths_B) -> logits``, (B, C) pooled or (B, T, C)."""

    vocab: int
    num_classes: int
    d_model: int = 64
    num_heads: int = 4
    num_layers: int = 2
    max_len: int = 512
    causal: bool = False
    pooling: str = "mean"
    output: str = "pooled"
    mlp_ratio: int = 4
    dropout: float = 0.0

    @nn.compact
    def __call__(
        self, tokens_BT: Array, lengths_B: Array | None = None, *, deterministic: bool = True
    ) -> Array:
        B, T = tokens_BT.shape
        if T > self.max_len:
            raise ValueError(f"sequence length {T} exceeds max_len={self.max_len}.")
        if lengths_B is None:
            lengths_B = jnp.full((B,), T)
        x = nn.Embed(self.vocab, self.d_model)(tokens_BT)
        pos = self.param("pos", nn.initializers.normal(0.02), (self.max_len, self.d_model))
        x = x + pos[:T].astype(x.dtype)
        valid_BT = jnp.arange(T)[None, :] < lengths_B[:, None]
        mask = nn.make_attention_mask(jnp.ones((B, T), bool), valid_BT)
        if self.causal:
            mask = nn.combine_masks(mask, nn.make_causal_mask(jnp.ones((B, T))))
        for _ in range(self.num_layers):
            x = Block(self.d_model, self.num_heads, self.mlp_ratio, self.dropout)(
                x, mask, deterministic
            )
        h = nn.LayerNorm()(x)
        if self.output == "per_step":
            return nn.Dense(self.num_classes)(h)
        return nn.Dense(self.num_classes)(pool(h, lengths_B, self.pooling))


def count_params(module: nn.Module, seq_len: int = 8) -> int:
    """Number of parameters of a token model (shapes only, nothing is computed)."""
    tokens = jnp.zeros((1, seq_len), jnp.int32)
    shapes = jax.eval_shape(module.init, jax.random.PRNGKey(0), tokens)
    return int(sum(np.prod(s.shape) for s in jax.tree.leaves(shapes)))


def d_model_for_params(target: int, **kwargs: Any) -> int:
    """The d_model (a multiple of num_heads) whose TransformerClassifier(**kwargs) has the
    parameter count closest to ``target``; the count grows monotonically with d_model."""
    heads = kwargs.get("num_heads", TransformerClassifier.num_heads)

    def size(d: int) -> int:
        return count_params(TransformerClassifier(d_model=d, **kwargs))

    lo, hi = 1, 2
    while size(hi * heads) < target:
        lo, hi = hi, hi * 2
    while hi - lo > 1:  # size(lo*heads) < target <= size(hi*heads)
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if size(mid * heads) < target else (lo, mid)
    return min((lo * heads, hi * heads), key=lambda d: abs(size(d) - target))
