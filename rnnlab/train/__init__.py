"""Training: configs, one pure step, populations with refilled slots, runs in a folder.

config = Config(data=DataConfig("jsb"), model=ModelConfig("lstm", 64))
result = train(config, workdir="runs/jsb")                  # one model, resumable
pop = train_population(config, {"lr": lr_P}, seeds=seeds_P)  # P trials, one program
results = run_queue(next_trial, slots=16)                   # a sweep's worker
"""

import sys
import types

from rnnlab.train.config import Config, DataConfig, LoopConfig, ModelConfig, OptimConfig, Strategy
from rnnlab.train.hparams import CONTINUOUS, HParams, hidden_bucket, program_key
from rnnlab.train.population import (
    Trial,
    TrialResult,
    default_slots,
    default_strategy,
    population_trials,
    run_queue,
    train_trials,
)
from rnnlab.train.problem import Batch
from rnnlab.train.run import PopulationResult, evaluate, load, run_trials, train, train_population
from rnnlab.train.step import TrainState, epoch_end, eval_step, train_step

__all__ = [
    "CONTINUOUS",
    "Batch",
    "Config",
    "DataConfig",
    "HParams",
    "LoopConfig",
    "ModelConfig",
    "OptimConfig",
    "PopulationResult",
    "Strategy",
    "TrainState",
    "Trial",
    "TrialResult",
    "default_slots",
    "default_strategy",
    "epoch_end",
    "eval_step",
    "evaluate",
    "hidden_bucket",
    "load",
    "population_trials",
    "program_key",
    "run_queue",
    "run_trials",
    "train",
    "train_population",
    "train_step",
    "train_trials",
]


class _CallableModule(types.ModuleType):
    """``rnnlab.train(config, workdir)`` trains one model; ``rnnlab.train.X`` is the package."""

    def __call__(self, *args, **kwargs):
        return train(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
