"""Objectives: the training loss and the evaluation metrics for each kind of target.

``metrics(out, batch)`` returns means; ``count(batch)`` is what every mean of the objective
divides by (valid steps for per-step losses, sequences otherwise), so means over
batches combine exactly. All metrics are lower-is-better.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax.numpy as jnp

from rnnlab import losses

Array = Any


class Objective(NamedTuple):
    """``metrics(out, y, lengths, y_lengths)`` -> means ("loss" trains); ``count(y, lengths,
    y_lengths)`` -> what the means divide by."""

    metrics: Callable[..., dict[str, Array]]
    count: Callable[..., Array]


def _steps(y: Any, lengths_B: Array, y_lengths_B: Any) -> Array:
    return losses.valid_steps(lengths_B)


def _seqs(y: Any, lengths_B: Array, y_lengths_B: Any) -> Array:
    return jnp.asarray(lengths_B.shape[0], jnp.float32)


def _bernoulli(out, y, lengths, y_lengths):
    return {"loss": losses.bernoulli_nll(out, y, lengths)}


def _sequence_ce(out, y, lengths, y_lengths):
    return {
        "loss": losses.sequence_cross_entropy(out, y),
        "error": losses.sequence_error(out, y),
    }


def _framewise_ce(out, y, lengths, y_lengths):
    return {
        "loss": losses.framewise_cross_entropy(out, y, lengths),
        "error": losses.framewise_error(out, y, lengths),
    }


def _char(out, y, lengths, y_lengths):
    ce = losses.char_cross_entropy(out, y, lengths)
    return {"loss": ce, "bpc": ce / math.log(2.0)}


def _labels(y: Any, lengths_B: Array, y_lengths_B: Array) -> Array:
    return jnp.sum(y_lengths_B).astype(jnp.float32)


def _ctc(out, labels_BL, lengths, label_lengths_B):
    """CTC loss per label symbol (sum over sequences / total label length) and the label
    error rate of best-path decoding; both divide by the number of labels."""
    n = jnp.maximum(jnp.sum(label_lengths_B), 1).astype(jnp.float32)
    nll = losses.ctc_loss(out, lengths, labels_BL, label_lengths_B) * labels_BL.shape[0] / n
    return {"loss": nll, "ler": losses.label_error_rate(out, lengths, labels_BL, label_lengths_B)}


def _mse(out, y, lengths, y_lengths):
    return {"loss": losses.mse(out, y, lengths), "mae": losses.mae(out, y, lengths)}


def _mse_sequence(out, y, lengths, y_lengths):
    return {"loss": losses.mse(out, y), "mae": losses.mae(out, y)}


OBJECTIVES: dict[str, Objective] = {
    "bernoulli": Objective(_bernoulli, _steps),
    "sequence_ce": Objective(_sequence_ce, _seqs),
    "framewise_ce": Objective(_framewise_ce, _steps),
    "char": Objective(_char, _steps),
    "ctc": Objective(_ctc, _labels),
    "mse": Objective(_mse, _steps),
    "mse_sequence": Objective(_mse_sequence, _seqs),
}


def get(name: str) -> Objective:
    if name not in OBJECTIVES:
        raise ValueError(f"unknown objective {name!r}; available: {sorted(OBJECTIVES)}.")
    return OBJECTIVES[name]
