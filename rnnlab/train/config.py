"""Training configuration: one flat frozen dataclass; an experiment file's ``get_config()``.

Fields split in two kinds. **Continuous** hyperparameters (``CONTINUOUS``) are arrays in the
train state, so one compiled step serves a whole population with a different value per
trial. Everything else is **structural**: it selects a compiled program, and trials that
share it train together (``structure_key``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

CONTINUOUS = ("lr", "momentum", "weight_decay", "clip_norm", "noise_std", "b1", "b2")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a trial needs; a trial is a pure function of (config, seed)."""

    # data: a dataset from rnnlab.data (``dataset``, its loader's ``dataset_options``; data
    # order from (data_seed, epoch)) or else a task from rnnlab.tasks, generated from
    # data_seed (fixed across trials)
    dataset: str | None = None
    dataset_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    pad_multiple: int = 16  # dataset batches: time padded to a multiple (fewer compiles)
    bucket: int | None = None  # dataset batches: sort pools of this many batches by length
    task: str = "sine"
    task_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    num_train: int = 256
    num_valid: int = 64
    num_test: int = 64
    data_seed: int = 0
    # model
    cell: str = "lstm"
    hidden: int = 32
    cell_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    num_layers: int = 1
    bidirectional: bool = False
    head: str | None = None  # None: the task's head
    pool: str = "last"
    input_dropout: float = 0.0
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    hoist: bool | None = None
    custom_vjp: bool = True
    init: str = "default"  # default | glorot | he | normal (N(0, init_std^2)) | uniform
    init_std: float = 0.1
    orthogonal_recurrent: bool = True  # keep orthogonal R blocks when init != default
    # optimiser (continuous ones are per-trial arrays; see CONTINUOUS)
    optimizer: str = "sgd"  # sgd | adam | adamw
    lr: float = 1e-2
    momentum: float = 0.9
    nesterov: bool = True
    scale_lr_by_momentum: bool = True  # Odyssey/PyLSTM: step = (1 - momentum) * lr * grad
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    clip_norm: float = math.inf
    noise_std: float = 0.0  # Gaussian input noise at training time
    schedule: str = "constant"  # constant | warmup_cosine | plateau
    warmup_epochs: float = 0.0
    final_lr_fraction: float = 0.0
    plateau_factor: float = 0.5
    plateau_patience: int = 5
    # loop
    batch_size: int = 16
    eval_batch_size: int = 256
    epochs: int = 10
    patience: int | None = None  # early stopping on the validation metric
    metric: str = "loss"  # validation metric to select/stop on (lower is better)
    seed: int = 0
    progress: bool = True
    wandb: bool = False
    wandb_project: str = "rnnlab"
    checkpoint: bool = True

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


def from_dict(d: dict[str, Any]) -> TrainConfig:
    """A TrainConfig from a dict, naming any unknown key."""
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise ValueError(f"unknown config keys {unknown}; valid keys: {sorted(names)}.")
    return TrainConfig(**d)


def continuous(config: TrainConfig) -> dict[str, float]:
    """The continuous hyperparameters of ``config``."""
    return {k: float(getattr(config, k)) for k in CONTINUOUS}


def structure_key(config: TrainConfig) -> str:
    """What must match for two trials to share a compiled program (continuous ones and the
    seed excluded)."""
    d = dataclasses.asdict(config)
    for k in (*CONTINUOUS, "seed"):
        d.pop(k)
    return repr(sorted(d.items()))
