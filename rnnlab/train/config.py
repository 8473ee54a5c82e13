"""Training configuration: four frozen sections (data, model, optim, loop) in one ``Config``.

An experiment file's ``get_config()`` returns a ``Config``. Every field is reachable with a
dotted key (``config.override({"optim.lr": 3e-3, "model.scan": "parallel"})``, or
``--set optim.lr=3e-3`` on the command line); values are checked against the field types
before anything is built or written. Which fields are per-trial arrays and which select a
compiled program is decided in one place, ``rnnlab.train.hparams``.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from typing import Any, get_type_hints

import numpy as np

from rnnlab.models.config import ModelConfig


class Strategy(enum.StrEnum):
    """How P trials of one program are laid out (measured choices, benchmarks/README.md):
    ``vmap`` over the population (accelerators), ``map`` (``lax.map`` over trials: each
    model's weights stay in cache; CPU at batch >= 8), ``chunked`` (``lax.map`` over vmapped
    chunks; CPU at small batches)."""

    VMAP = "vmap"
    MAP = "map"
    CHUNKED = "chunked"


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Which data and how it is batched. ``name`` is any ``rnnlab.data`` dataset (synthetic
    tasks included); ``options`` go to its loader; the training order of a trial is a pure
    function of (trial seed, epoch)."""

    name: str = "sine"
    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    batch_size: int = 16
    eval_batch_size: int = 256
    pad_multiple: int = 16  # time padded to a multiple (fewer programs); 0: to the longest
    bucket: int | None = None  # sort pools of this many batches by length

    def __post_init__(self):
        if self.pad_multiple < 0:
            raise ValueError(
                f"data.pad_multiple must be >= 0 (0 pads every batch to the longest sequence), "
                f"got {self.pad_multiple}."
            )


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    """Optimiser and regularisation; lr, momentum, weight_decay, clip_norm, noise_std, b1
    and b2 become per-trial arrays (``rnnlab.train.hparams.HParams``)."""

    name: str = "sgd"  # sgd | adam | adamw
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


@dataclasses.dataclass(frozen=True)
class LoopConfig:
    """Epochs, early stopping, seed and what is logged."""

    epochs: int = 10
    patience: int | None = None  # early stopping on the validation metric
    metric: str = "loss"  # validation metric to select and stop on (lower is better)
    seed: int = 0
    progress: bool = True
    wandb: bool = False
    wandb_project: str = "rnnlab"
    checkpoint: bool = True


SECTIONS = {"data": DataConfig, "model": ModelConfig, "optim": OptimConfig, "loop": LoopConfig}


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything a trial needs; a trial is a pure function of (config, seed)."""

    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    optim: OptimConfig = dataclasses.field(default_factory=OptimConfig)
    loop: LoopConfig = dataclasses.field(default_factory=LoopConfig)

    def override(self, changes: dict[str, Any]) -> Config:
        """A copy with dotted keys replaced (``{"optim.lr": 1e-3, "model.cell_options.variant":
        "NIG"}``); unknown keys and values of the wrong type are a ValueError naming them."""
        sections = {name: dataclasses.asdict(getattr(self, name)) for name in SECTIONS}
        for key, value in changes.items():
            section, _, rest = key.partition(".")
            if section not in SECTIONS or not rest:
                raise ValueError(
                    f"unknown config key {key!r}; keys look like data.name, model.hidden, "
                    f"optim.lr, loop.epochs (sections: {', '.join(SECTIONS)})."
                )
            field, _, sub = rest.partition(".")
            fields = {f.name for f in dataclasses.fields(SECTIONS[section])}
            if field not in fields:
                raise ValueError(
                    f"unknown config key {key!r}; {section} has {', '.join(sorted(fields))}."
                )
            if sub:
                target = sections[section][field]
                if not isinstance(target, dict):
                    raise ValueError(f"{section}.{field} is not a dict; drop '.{sub}'.")
                sections[section][field] = {**target, sub: value}
            else:
                sections[section][field] = value
        return Config.from_dict(sections)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Nested plain values (JSON-able; enums as their strings)."""
        return {name: _plain(dataclasses.asdict(getattr(self, name))) for name in SECTIONS}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Config:
        """A checked Config from nested dicts (missing fields take their defaults)."""
        unknown = sorted(set(d) - set(SECTIONS))
        if unknown:
            raise ValueError(f"unknown config sections {unknown}; valid: {', '.join(SECTIONS)}.")
        return Config(**{name: _section(cls, d.get(name, {})) for name, cls in SECTIONS.items()})


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.value if isinstance(v, enum.Enum) else v) for k, v in d.items()}


def _section(cls: type, values: Any) -> Any:
    if isinstance(values, cls):
        return values
    if not isinstance(values, dict):
        raise ValueError(f"config section {cls.__name__} must be a dict, got {values!r}.")
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(
            f"unknown keys {unknown} in {cls.__name__}; valid: {', '.join(sorted(names))}."
        )
    return cls(**{k: _coerce(f"{cls.__name__}.{k}", hints[k], v) for k, v in values.items()})


def _coerce(name: str, hint: Any, value: Any) -> Any:
    """``value`` as type ``hint`` (int -> float allowed, str -> enum), else a ValueError."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if isinstance(value, np.generic):
        value = value.item()
    if value is None and type(None) in options:
        return None
    for t in options:
        if t is type(None):
            continue
        origin = typing.get_origin(t) or t
        if isinstance(origin, type) and issubclass(origin, enum.Enum):
            try:
                return origin(value)
            except ValueError:
                pass
        elif origin is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        elif origin is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        elif origin in (str, bool, dict) and isinstance(value, origin):
            return value
    enums = [t for t in options if isinstance(t, type) and issubclass(t, enum.Enum)]
    if enums:
        want = "one of " + ", ".join(repr(e.value) for e in enums[0])
    else:
        want = " or ".join(getattr(t, "__name__", str(t)) for t in options if t is not type(None))
    raise ValueError(f"{name} must be {want}, got {value!r}.")
