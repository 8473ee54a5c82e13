"""rnnlab: recurrent networks in JAX.

import rnnlab as rl
cell = rl.cells.get("lstm", hidden_size=128, variant="CIFG")
layer = rl.Recurrent(cell, bidirectional=True, recurrent_dropout=0.25)
ys, carries = layer.apply(variables, x_BTD, lengths=len_B)
result = rl.train(rl.Config(data=rl.DataConfig("jsb")), workdir="runs/jsb")
pop = rl.train_population(config, {"lr": lr_P}, seeds=seeds_P)
"""

__version__ = "0.1.0"

from rnnlab import cells, data, losses, models, train
from rnnlab.recurrent import Recurrent, reverse_within_lengths, rnn
from rnnlab.train import (
    Config,
    DataConfig,
    LoopConfig,
    ModelConfig,
    OptimConfig,
    Trial,
    run_queue,
    train_population,
    train_trials,
)

__all__ = [
    "Config",
    "DataConfig",
    "LoopConfig",
    "ModelConfig",
    "OptimConfig",
    "Recurrent",
    "Trial",
    "cells",
    "data",
    "losses",
    "models",
    "reverse_within_lengths",
    "rnn",
    "run_queue",
    "train",
    "train_population",
    "train_trials",
]
