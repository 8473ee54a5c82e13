"""Training: optimisers, single-model loop, population trainer, checkpoints."""

from rnnlab.train.config import CONTINUOUS, TrainConfig, from_dict, structure_key
from rnnlab.train.engine import TrainState
from rnnlab.train.population import (
    STRATEGIES,
    PopulationResult,
    default_strategy,
    train_population,
    train_trials,
)
from rnnlab.train.trainer import train_and_evaluate

__all__ = [
    "CONTINUOUS",
    "STRATEGIES",
    "PopulationResult",
    "TrainConfig",
    "TrainState",
    "default_strategy",
    "from_dict",
    "structure_key",
    "train_and_evaluate",
    "train_population",
    "train_trials",
]
