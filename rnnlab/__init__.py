"""rnnlab: recurrent networks in JAX.

import rnnlab as rl
cell = rl.cells.get("lstm", hidden_size=128, variant="CIFG")
layer = rl.Recurrent(cell, bidirectional=True, recurrent_dropout=0.25)
ys, carries = layer.apply(variables, x_BTD, lengths=len_B)
"""

from rnnlab import cells
from rnnlab.recurrent import Recurrent, reverse_within_lengths, rnn

__version__ = "0.1.0"

__all__ = ["Recurrent", "cells", "reverse_within_lengths", "rnn"]
