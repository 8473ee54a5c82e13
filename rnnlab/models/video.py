"""Frame prediction: input noise -> ConvLSTM stack -> convolutional head, per frame.

``FramePredictor`` is ``SequenceModel``'s counterpart for frames (B, T, H, W, C): the same
call, ``model.apply(variables, x_BTHWC, lengths_B, deterministic=..., noise_std=...)``, and
per-step outputs (B, T, H, W, C_out) that are exactly zero past each length. For next-frame
prediction of intensities in [0, 1] (``rnnlab.data`` "moving_digits") the outputs are
Bernoulli logits per pixel, scored with ``rnnlab.losses.bernoulli_nll`` on frames flattened
to (B, T, H * W * C); for real-valued frames they are values (``rnnlab.losses.mse``).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from rnnlab.cells.base import Array
from rnnlab.cells.convlstm import ConvLSTM, conv_lstm
from rnnlab.recurrent.sequence import step_dropout, step_normal


class FramePredictor(nn.Module):
    """``num_layers`` ConvLSTM layers (Shi et al. 2015) and a ``head_kernel_size``
    convolution to ``output_channels`` (the input's channels when None) at every step.

    Parameters: ``layer{i}`` (the cell's dict; peepholes tie it to the frame size) and
    ``head``. Dropout between layers needs ``deterministic=False`` and a ``"dropout"`` rng;
    input noise of standard deviation ``noise_std`` a ``"noise"`` rng.
    """

    cell: ConvLSTM
    output_channels: int | None = None
    num_layers: int = 1
    dropout: float = 0.0
    head_kernel_size: tuple[int, int] = (1, 1)
    flat_output: bool = False  # (B, T, H*W*C): per-step vectors, as the training losses read

    @nn.compact
    def __call__(
        self,
        x_BTHWC: Array,
        lengths_B: Array | None = None,
        *,
        deterministic: bool = True,
        noise_std: Any = 0.0,
    ) -> Array:
        if not isinstance(self.cell, ConvLSTM):
            raise TypeError(
                f"FramePredictor needs a ConvLSTM cell, got {type(self.cell).__name__}; "
                "sequences of feature vectors go through rnnlab.models.SequenceModel."
            )
        if x_BTHWC.ndim != 5:
            raise ValueError(
                f"expected frames (batch, time, height, width, channels), got {x_BTHWC.shape}."
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}.")
        if not deterministic:
            noise = step_normal(self.make_rng("noise"), x_BTHWC.shape, x_BTHWC.dtype)
            x_BTHWC = x_BTHWC + jnp.asarray(noise_std, x_BTHWC.dtype) * noise
        h = x_BTHWC
        for layer in range(self.num_layers):
            params = self.param(
                f"layer{layer}", lambda k, shape=h.shape[2:]: self.cell.init(k, shape)
            )
            h, _ = conv_lstm(self.cell, params, h, lengths=lengths_B)
            if layer < self.num_layers - 1 and self.dropout > 0.0 and not deterministic:
                h = step_dropout(self.make_rng("dropout"), self.dropout, h)
        channels = x_BTHWC.shape[-1] if self.output_channels is None else self.output_channels
        out = nn.Conv(channels, self.head_kernel_size, padding="SAME", name="head")(h)
        if lengths_B is not None:
            valid_BT = jnp.arange(out.shape[1])[None, :] < jnp.asarray(lengths_B)[:, None]
            out = jnp.where(valid_BT[:, :, None, None, None], out, 0)
        return out.reshape(*out.shape[:2], -1) if self.flat_output else out
