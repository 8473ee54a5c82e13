"""Convolutional LSTM (Shi, Chen, Wang, Yeung, Wong & Woo 2015, "Convolutional LSTM Network",
NeurIPS, eq. 3), on (B, T, H, W, C) frames:

    i_t = sigma(W_xi * X_t + W_hi * H_{t-1} + W_ci o C_{t-1} + b_i)
    f_t = sigma(W_xf * X_t + W_hf * H_{t-1} + W_cf o C_{t-1} + b_f)
    C_t = f_t o C_{t-1} + i_t o tanh(W_xc * X_t + W_hc * H_{t-1} + b_c)
    o_t = sigma(W_xo * X_t + W_ho * H_{t-1} + W_co o C_t + b_o)
    H_t = o_t o tanh(C_t)

with * a 2-D 'same' convolution and o the Hadamard product; the peepholes W_c. are full
(H, W, F) tensors as in the paper, so ``init`` needs the frame size. The forget bias starts
at 1 (as in flax.linen.ConvLSTMCell).

The dense cell contract (``r(carry) @ R``) does not fit a convolution, so ConvLSTM has its own
scan, ``conv_lstm``: the input convolution is done for all frames at once outside the time
loop, the hidden-state convolution inside; lengths work as in ``rnnlab.rnn`` (outputs zero
past each length, carry at the last valid step). Gradients are JAX autodiff.
``rnnlab.models.FramePredictor`` is the model around it (a head per frame).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from rnnlab.cells.base import Array, Carry, Params
from rnnlab.cells.registry import register


def conv2d_same(x_NHWC: Array, k_HWIO: Array) -> Array:
    """2-D cross-correlation with stride 1 and zero 'same' padding, as one matmul: the kh*kw
    shifted copies of the zero-padded input side by side (im2col) times the flattened kernel.

    Equal to ``jax.lax.conv_general_dilated(x, k, (1, 1), "SAME")``; on CPU, inside the time
    loop and under autodiff, 17x faster than it for 16x16 frames with 8 channels."""
    kh, kw, c_in, c_out = k_HWIO.shape
    height, width = x_NHWC.shape[1:3]
    pad = ((0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0))
    x_pad = jnp.pad(x_NHWC, pad)
    cols = [x_pad[:, i : i + height, j : j + width] for i in range(kh) for j in range(kw)]
    return jnp.concatenate(cols, axis=-1) @ k_HWIO.reshape(kh * kw * c_in, c_out)


@dataclasses.dataclass(frozen=True)
class ConvLSTM:
    """ConvLSTM with ``hidden_size`` F feature maps. Params: W (k, k, C, 4F), b (4F,),
    R (k, k, F, 4F), p_i, p_f, p_o (H, W, F). Gate blocks [i, f, c, o]. Carry: (C, H)."""

    hidden_size: int
    kernel_size: tuple[int, int] = (3, 3)
    peepholes: bool = True
    forget_bias: float = 1.0

    def init(
        self, key: Array, input_shape: tuple[int, int, int], dtype: Any = jnp.float32
    ) -> Params:
        """``input_shape``: (height, width, channels) of one frame."""
        height, width, channels = input_shape
        F, (kh, kw) = self.hidden_size, self.kernel_size
        k_x, k_h = jax.random.split(key)
        init = jax.nn.initializers.glorot_uniform(in_axis=(0, 1, 2), out_axis=3)
        params = {
            "W": init(k_x, (kh, kw, channels, 4 * F), dtype),
            "b": jnp.zeros((4 * F,), dtype).at[F : 2 * F].set(self.forget_bias),
            "R": init(k_h, (kh, kw, F, 4 * F), dtype),
        }
        if self.peepholes:
            params.update({f"p_{g}": jnp.zeros((height, width, F), dtype) for g in "ifo"})
        return params

    def project(self, params: Params, x_NHWC: Array) -> Array:
        """Input part of all gates for any leading axes: W * x + b."""
        lead = x_NHWC.shape[:-3]
        flat = x_NHWC.reshape(-1, *x_NHWC.shape[-3:])
        u = conv2d_same(flat, params["W"]) + params["b"]
        return u.reshape(*lead, *u.shape[1:])

    def initial_carry(
        self, batch_shape: tuple[int, ...], frame_shape: tuple[int, int], dtype: Any = jnp.float32
    ) -> Carry:
        zeros = jnp.zeros((*batch_shape, *frame_shape, self.hidden_size), dtype)
        return (zeros, zeros)

    def step(self, params: Params, carry: Carry, u_BHWG: Array) -> tuple[Carry, Array]:
        c_prev, h_prev = carry
        a = u_BHWG + conv2d_same(h_prev, params["R"])
        a_i, a_f, a_c, a_o = jnp.split(a, 4, axis=-1)
        if self.peepholes:
            a_i = a_i + params["p_i"] * c_prev
            a_f = a_f + params["p_f"] * c_prev
        c = jax.nn.sigmoid(a_f) * c_prev + jax.nn.sigmoid(a_i) * jnp.tanh(a_c)
        if self.peepholes:
            a_o = a_o + params["p_o"] * c
        h = jax.nn.sigmoid(a_o) * jnp.tanh(c)
        return (c, h), h


def conv_lstm(
    cell: ConvLSTM,
    params: Params,
    x_BTHWC: Array,
    *,
    lengths: Array | None = None,
    initial_carry: Carry | None = None,
) -> tuple[Array, Carry]:
    """Run a ConvLSTM over (B, T, H, W, C) frames: (y (B, T, H, W, F), carry at last step)."""
    if x_BTHWC.ndim != 5:
        raise ValueError(f"expected (batch, time, height, width, channels), got {x_BTHWC.shape}.")
    if x_BTHWC.shape[-1] != params["W"].shape[2]:
        raise ValueError(
            f"frames have {x_BTHWC.shape[-1]} channels but the cell was initialised for "
            f"{params['W'].shape[2]}."
        )
    B, T = x_BTHWC.shape[:2]
    u_TBHWG = jnp.swapaxes(cell.project(params, x_BTHWC), 0, 1)
    carry0 = initial_carry
    if carry0 is None:
        carry0 = cell.initial_carry((B,), x_BTHWC.shape[2:4], x_BTHWC.dtype)
    mask_TB = jnp.ones((T, B), bool) if lengths is None else jnp.arange(T)[:, None] < lengths

    def body(carry, inp):
        u_t, m_B = inp
        new, y = cell.step(params, carry, u_t)
        keep = m_B[:, None, None, None]
        new = jax.tree.map(lambda n, o: jnp.where(keep, n, o), new, carry)
        return new, jnp.where(keep, y, 0)

    carry, y_TBHWF = jax.lax.scan(body, carry0, (u_TBHWG, mask_TB))
    return jnp.swapaxes(y_TBHWF, 0, 1), carry


@register(
    "convlstm", "ConvLSTM (Shi et al. 2015) on (B,T,H,W,C) frames; rnnlab.models.FramePredictor"
)
def _convlstm(
    hidden_size: int, kernel_size: tuple[int, int] = (3, 3), peepholes: bool = True
) -> ConvLSTM:
    return ConvLSTM(hidden_size, tuple(kernel_size), peepholes)
