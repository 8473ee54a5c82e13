"""Recurrent cells: pure functions over parameter dicts, a registry, and Flax wrappers.

Each cell module registers its cells by name beside their definitions (``registry.register``);
importing this package imports them all.
"""

from rnnlab.cells.base import Cell, has_recurrent_matrix, linear_project, noise_size, step
from rnnlab.cells.convlstm import ConvLSTM, conv_lstm
from rnnlab.cells.elman import Elman
from rnnlab.cells.gru import GRU
from rnnlab.cells.indrnn import IndRNN
from rnnlab.cells.layernorm_lstm import LayerNormLSTM
from rnnlab.cells.lru import LRU
from rnnlab.cells.lstm import LSTM, PRESETS, LSTMSpec, preset
from rnnlab.cells.mgu import MGU
from rnnlab.cells.minrnn import MinGRU, MinLSTM
from rnnlab.cells.modules import FlaxCell
from rnnlab.cells.mut import MUT
from rnnlab.cells.registry import available, get, register
from rnnlab.cells.zoneout import Zoneout

__all__ = [
    "GRU",
    "LRU",
    "LSTM",
    "MGU",
    "MUT",
    "PRESETS",
    "Cell",
    "ConvLSTM",
    "Elman",
    "FlaxCell",
    "IndRNN",
    "LSTMSpec",
    "LayerNormLSTM",
    "MinGRU",
    "MinLSTM",
    "Zoneout",
    "available",
    "conv_lstm",
    "get",
    "has_recurrent_matrix",
    "linear_project",
    "noise_size",
    "preset",
    "register",
    "step",
]
