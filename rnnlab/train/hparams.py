"""Which config fields are per-trial arrays and which select a compiled program.

``HParams`` holds the continuous hyperparameters of one trial (or, stacked, of P trials).
It is an explicit argument of ``train_step(state, batch, hparams)`` and the optimiser reads
it at update time, so the route of a learning rate is: ``--set optim.lr=...`` ->
``Config.optim.lr`` -> ``of(config)`` -> ``train_step(..., hparams)`` ->
``optim.update(..., hparams)``. Everything else is structural: ``program_key`` says what two
trials must share to train in one program. Hidden sizes enter it as their bucket
(``hidden_bucket``) for cells whose padding is exact (``rnnlab.train.padding``), and the LSTM
variants other than FGR as the switchable LSTM (``rnnlab.train.variants``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from rnnlab.models.config import ModelConfig
from rnnlab.train import variants
from rnnlab.train.config import Config
from rnnlab.train.padding import paddable

Array = jax.Array


class HParams(NamedTuple):
    """Continuous hyperparameters: scalars for one trial, (P,) arrays for a population."""

    lr: Array
    momentum: Array
    weight_decay: Array
    clip_norm: Array
    noise_std: Array
    b1: Array
    b2: Array


CONTINUOUS = HParams._fields


def of(config: Config) -> HParams:
    """The continuous hyperparameters of ``config`` as float32 scalars."""
    return HParams(*(np.float32(getattr(config.optim, k)) for k in CONTINUOUS))


def stack(hparams: list[HParams]) -> HParams:
    """P trials' hyperparameters as (P,) arrays."""
    return HParams(*(jnp.asarray(np.stack(v)) for v in zip(*hparams)))


# Loop fields a compiled program does not depend on (per-trial values or host-side only).
_PER_TRIAL_LOOP = ("seed", "progress", "wandb", "wandb_project", "checkpoint")


def hidden_bucket(hidden: int, ratio: float = 2**0.5, base: int = 16, multiple: int = 8) -> int:
    """The smallest size base * ratio^k, rounded up to a multiple of ``multiple``, that holds
    ``hidden`` (16, 24, 32, 48, 64, 96, 128, 184, 256, ...): padding wastes at most a factor
    ``ratio`` of the units (ratio^2 of the recurrent FLOPs)."""
    k = 0
    while True:
        size = -(-math.ceil(base * ratio**k - 1e-6) // multiple) * multiple
        if size >= hidden:
            return int(size)
        k += 1


def structure(config: Config) -> dict:
    """The fields of ``config`` that select a compiled program."""
    d = config.to_dict()
    for k in CONTINUOUS:
        d["optim"].pop(k)
    for k in _PER_TRIAL_LOOP:
        d["loop"].pop(k)
    if config.optim.schedule != "warmup_cosine":  # the epoch limit is per-trial state
        d["loop"].pop("epochs")
    return d


def program_model(config: Config, pad: bool = True) -> ModelConfig:
    """The model a trial's program runs. With ``pad``, for cells that pad exactly: the
    hidden size becomes its bucket, and the LSTM variants V, NIG, NFG, NOG, NIAF, NOAF, NP,
    CIFG become the switchable LSTM (``rnnlab.train.variants``). Else the trial's own model."""
    model = config.model
    if not (pad and paddable(model)):
        return model
    model = dataclasses.replace(model, hidden=hidden_bucket(model.hidden))
    spec = variants.variant_of(model)
    return model if spec is None else variants.union_model(model, spec)


def program_key(config: Config, pad: bool = True) -> str:
    """What two trials must share to train in one program: the structure, with the model as
    ``program_model``."""
    program = dataclasses.replace(config, model=program_model(config, pad))
    return json.dumps(structure(program), sort_keys=True, default=str)
