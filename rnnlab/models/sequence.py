"""Sequence model: input noise / dropout -> ``Recurrent`` stack -> Dense head.

Heads (``SequenceModel.head``) and the losses they pair with (``rnnlab.losses``):

| head                  | output                          | loss                              |
|-----------------------|---------------------------------|-----------------------------------|
| ``next_step``         | logits (B, T, V) per step       | ``bernoulli_nll`` (multi-label)   |
| ``framewise``         | logits (B, T, V) per step       | ``framewise_cross_entropy``       |
| ``ctc``               | logits (B, T, V+1), blank = 0   | ``ctc_loss``                      |
| ``regression``        | values (B, T, V) per step       | ``mse`` / ``mae``                 |
| ``sequence``          | logits (B, V), one per sequence | ``sequence_cross_entropy``        |
| ``sequence_regression``| values (B, V), one per sequence| ``mse``                           |

The per-sequence heads read the top layer's output at each sequence's last valid step
(``pool="last"``; with a bidirectional stack the backward half has then seen one step only)
or its mean over the valid steps (``pool="mean"``). Per-step outputs past each length are
the head's bias only; the losses mask them.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from rnnlab import cells
from rnnlab.cells.base import Array, Cell
from rnnlab.models.config import ModelConfig
from rnnlab.recurrent import Recurrent, Scan, step_dropout, step_normal

PER_STEP_HEADS = ("next_step", "framewise", "ctc", "regression")
SEQUENCE_HEADS = ("sequence", "sequence_regression")
HEADS = PER_STEP_HEADS + SEQUENCE_HEADS


def last_valid_BH(y_BTH: Array, lengths_B: Array | None) -> Array:
    """y[b, lengths[b] - 1] (the last step when lengths is None; step 0 for empty sequences)."""
    if lengths_B is None:
        return y_BTH[:, -1]
    idx_B = jnp.maximum(jnp.asarray(lengths_B) - 1, 0)
    return jnp.take_along_axis(y_BTH, idx_B[:, None, None], axis=1)[:, 0]


def mean_valid_BH(y_BTH: Array, lengths_B: Array | None) -> Array:
    """(1/len_b) sum_{t < len_b} y[b, t]; outputs past each length are zero already."""
    if lengths_B is None:
        return jnp.mean(y_BTH, axis=1)
    return jnp.sum(y_BTH, axis=1) / jnp.maximum(lengths_B, 1)[:, None].astype(y_BTH.dtype)


class SequenceModel(nn.Module):
    """``logits = model.apply(variables, x_BTD, lengths_B, noise_std=s, deterministic=False,
    rngs={"dropout": k, "noise": k2})``.

    ``noise_std`` is an argument, not a field, so it can be a traced per-trial array
    (population training); dropout rates are structural (fields).
    """

    cell: Cell
    output_size: int
    head: str = "next_step"
    pool: str = "last"
    num_layers: int = 1
    bidirectional: bool = False
    input_dropout: float = 0.0
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    hoist: bool | None = None
    custom_vjp: bool = True
    unroll: int = 1
    scan: Scan | str = Scan.SEQUENTIAL

    @classmethod
    def from_config(cls, config: ModelConfig, output_size: int, head: str) -> SequenceModel:
        """The model of ``config`` with ``output_size`` outputs; ``config.head`` (when set)
        overrides the data's ``head``."""
        return cls(
            cells.get(config.cell, config.hidden, **config.cell_options),
            output_size=output_size,
            head=config.head or head,
            pool=config.pool,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            input_dropout=config.input_dropout,
            dropout=config.dropout,
            recurrent_dropout=config.recurrent_dropout,
            hoist=config.hoist,
            custom_vjp=config.custom_vjp,
            unroll=config.unroll,
            scan=config.scan,
        )

    @nn.compact
    def __call__(
        self,
        x_BTD: Array,
        lengths_B: Array | None = None,
        *,
        deterministic: bool = True,
        noise_std: Any = 0.0,
    ) -> Array:
        if self.head not in HEADS:
            raise ValueError(f"unknown head {self.head!r}; choose one of {HEADS}.")
        if self.pool not in ("last", "mean"):
            raise ValueError(f"pool must be 'last' or 'mean', got {self.pool!r}.")
        if not deterministic:
            noise = step_normal(self.make_rng("noise"), x_BTD.shape, x_BTD.dtype)
            x_BTD = x_BTD + jnp.asarray(noise_std, x_BTD.dtype) * noise
            if self.input_dropout > 0.0:
                x_BTD = step_dropout(self.make_rng("dropout"), self.input_dropout, x_BTD)
        y_BTH, _ = Recurrent(
            self.cell,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            hoist=self.hoist,
            custom_vjp=self.custom_vjp,
            unroll=self.unroll,
            scan=self.scan,
        )(x_BTD, lengths_B, deterministic=deterministic)
        if self.head in SEQUENCE_HEADS:
            pool = last_valid_BH if self.pool == "last" else mean_valid_BH
            y_BTH = pool(y_BTH, lengths_B)
        return nn.Dense(self.output_size, name="head")(y_BTH)
