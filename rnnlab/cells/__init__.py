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


# -- issue 6: more cells (cells2 branch) ----------------------------------------------------
from rnnlab.cells.convlstm import ConvLSTM, conv_lstm  # noqa: E402
from rnnlab.cells.indrnn import IndRNN  # noqa: E402
from rnnlab.cells.layernorm_lstm import LayerNormLSTM  # noqa: E402
from rnnlab.cells.lru import LRU  # noqa: E402
from rnnlab.cells.mgu import MGU  # noqa: E402
from rnnlab.cells.minrnn import MinGRU, MinLSTM  # noqa: E402
from rnnlab.cells.mut import MUT  # noqa: E402
from rnnlab.cells.zoneout import Zoneout  # noqa: E402


@register("mgu", "Minimal gated unit (Zhou et al. 2016)")
def _mgu(hidden_size: int, forget_bias: float = 1.0) -> MGU:
    return MGU(hidden_size, forget_bias)


def _make_mut(variant: int):
    def factory(hidden_size: int) -> MUT:
        return MUT(hidden_size, variant)

    return factory


for _v in (1, 2, 3):
    register(f"mut{_v}", f"MUT{_v} of Jozefowicz et al. 2015 (raw x_t replaced by W x_t + b)")(
        _make_mut(_v)
    )


@register("indrnn", "IndRNN, h = act(W x + u * h + b) (Li et al. 2018); activation= relu|tanh")
def _indrnn(hidden_size: int, activation: str = "relu", u_max: float = 1.0) -> IndRNN:
    return IndRNN(hidden_size, activation, u_max)


@register("layernorm_lstm", "LSTM with layer norm on gates and cell (Ba et al. 2016)")
def _ln_lstm(hidden_size: int, per_gate: bool = True, forget_bias: float = 1.0) -> LayerNormLSTM:
    return LayerNormLSTM(hidden_size, per_gate, forget_bias)


@register("zoneout", "Zoneout (Krueger et al. 2016) around any cell: cell=<name>, rates=p")
def _zoneout(
    hidden_size: int, cell: str | Cell = "lstm", rates: float | tuple = 0.1, **cell_kwargs: Any
) -> Zoneout:
    inner = get(cell, hidden_size, **cell_kwargs) if isinstance(cell, str) else cell
    return Zoneout(inner, rates)


@register("mingru", "minGRU (Feng et al. 2024); parallel scan: rnnlab.recurrent.parallel_rnn")
def _mingru(hidden_size: int) -> MinGRU:
    return MinGRU(hidden_size)


@register("minlstm", "minLSTM (Feng et al. 2024); parallel scan: rnnlab.recurrent.parallel_rnn")
def _minlstm(hidden_size: int) -> MinLSTM:
    return MinLSTM(hidden_size)


@register("lru", "Linear recurrent unit (Orvieto et al. 2023); needs input_size == hidden_size")
def _lru(hidden_size: int, state_size: int | None = None, **ring: float) -> LRU:
    return LRU(hidden_size, state_size, **ring)


@register("convlstm", "ConvLSTM (Shi et al. 2015) on (B,T,H,W,C); run with cells.conv_lstm")
def _convlstm(
    hidden_size: int, kernel_size: tuple[int, int] = (3, 3), peepholes: bool = True
) -> ConvLSTM:
    return ConvLSTM(hidden_size, tuple(kernel_size), peepholes)


__all__ += [
    "LRU",
    "MGU",
    "MUT",
    "ConvLSTM",
    "IndRNN",
    "LayerNormLSTM",
    "MinGRU",
    "MinLSTM",
    "Zoneout",
    "conv_lstm",
]
