"""Recurrent cells: pure functions over parameter dicts, a registry, and Flax wrappers."""

from __future__ import annotations

from typing import Any

from rnnlab.cells.base import Cell, linear_project, step
from rnnlab.cells.elman import Elman
from rnnlab.cells.gru import GRU
from rnnlab.cells.lstm import LSTM, PRESETS, LSTMSpec, preset
from rnnlab.cells.modules import FlaxCell
from rnnlab.cells.registry import available, get, register


@register(
    "lstm", "LSTM of Greff et al. 2017; variant= V|NIG|NFG|NOG|NIAF|NOAF|NP|CIFG|FGR|standard"
)
def _lstm(hidden_size: int, variant: str | LSTMSpec = "V", **spec_overrides: Any) -> LSTM:
    spec = variant if isinstance(variant, LSTMSpec) else preset(variant, **spec_overrides)
    return LSTM(hidden_size, spec)


@register("gru", "GRU of Cho et al. 2014 (reset before the recurrent matmul)")
def _gru(hidden_size: int) -> GRU:
    return GRU(hidden_size, reset_after=False)


@register("gru_reset_after", "GRU with reset after the matmul (cuDNN, flax.linen.GRUCell, torch)")
def _gru_ra(hidden_size: int) -> GRU:
    return GRU(hidden_size, reset_after=True)


@register("rnn", "Elman RNN, h = act(W x + R h + b); activation= tanh|relu")
def _rnn(hidden_size: int, activation: str = "tanh") -> Elman:
    return Elman(hidden_size, activation)


@register("irnn", "ReLU RNN with identity recurrent init (Le et al. 2015)")
def _irnn(hidden_size: int, identity_scale: float = 1.0) -> Elman:
    return Elman(hidden_size, "relu", identity_init=True, identity_scale=identity_scale)


__all__ = [
    "GRU",
    "LSTM",
    "PRESETS",
    "Cell",
    "Elman",
    "FlaxCell",
    "LSTMSpec",
    "available",
    "get",
    "linear_project",
    "preset",
    "register",
    "step",
]
