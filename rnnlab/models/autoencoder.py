"""LSTM autoencoder for time-series anomaly detection (Malhotra et al. 2016, "LSTM-based
Encoder-Decoder for Multi-sensor Anomaly Detection", arXiv 1607.00148).

The encoder reads a window x_1..x_T and its final hidden state z summarises it; the decoder
gets z at every step and reconstructs the window: x^_t = W_o s_t + b_o with
s_t = cell(s_{t-1}, z). The anomaly score of a window is its mean squared reconstruction
error, and a window is flagged when the score exceeds a threshold: by default the
``quantile`` (e.g. 0.99) of the scores of the (normal) training windows.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.cells import get as get_cell
from rnnlab.cells.base import Array, Params, glorot_uniform
from rnnlab.recurrent import rnn


@dataclasses.dataclass(frozen=True)
class LSTMAutoencoder:
    """``LSTMAutoencoder(features, hidden=32)``: pure functions over a parameter dict."""

    features: int
    hidden: int = 32
    cell: str = "lstm"
    cell_kwargs: tuple = (("variant", "standard"),)

    @property
    def rnn_cell(self):
        return get_cell(self.cell, self.hidden, **dict(self.cell_kwargs))

    def init(self, key: Array, dtype: Any = jnp.float32) -> Params:
        k_e, k_d, k_o = jax.random.split(key, 3)
        cell = self.rnn_cell
        return {
            "encoder": cell.init(k_e, self.features, dtype),
            "decoder": cell.init(k_d, self.hidden, dtype),
            "W_o": glorot_uniform(k_o, (self.hidden, self.features), dtype),
            "b_o": jnp.zeros((self.features,), dtype),
        }

    def encode(self, params: Params, x_BTF: Array) -> Array:
        """z (B, H): the encoder's hidden state after the window."""
        _, carry = rnn(self.rnn_cell, params["encoder"], x_BTF)
        return self.rnn_cell.recurrent_input(carry)

    def reconstruct(self, params: Params, x_BTF: Array) -> Array:
        z_BH = self.encode(params, x_BTF)
        z_BTH = jnp.broadcast_to(z_BH[:, None, :], (*x_BTF.shape[:2], self.hidden))
        s_BTH, _ = rnn(self.rnn_cell, params["decoder"], z_BTH)
        return s_BTH @ params["W_o"] + params["b_o"]

    def score(self, params: Params, x_BTF: Array) -> Array:
        """Anomaly score per window: mean squared reconstruction error, (B,)."""
        return jnp.mean(jnp.square(self.reconstruct(params, x_BTF) - x_BTF), axis=(1, 2))

    def loss(self, params: Params, x_BTF: Array) -> Array:
        return jnp.mean(self.score(params, x_BTF))


def fit_threshold(train_scores: Array, quantile: float = 0.99) -> float:
    """The threshold above which a window is anomalous: a quantile of normal-data scores."""
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must lie in (0, 1), got {quantile}.")
    return float(np.quantile(np.asarray(train_scores), quantile))


def flag(scores: Array, threshold: float) -> Array:
    """True where a window's score exceeds the threshold."""
    return scores > threshold
