"""The model section of a training config: cell, stack and head, passed whole to
``SequenceModel.from_config``."""

from __future__ import annotations

import dataclasses
from typing import Any

from rnnlab.recurrent import Scan


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The network: a cell (``rnnlab.cells``) in a recurrent stack with a task head."""

    cell: str = "lstm"
    hidden: int = 32
    cell_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    num_layers: int = 1
    bidirectional: bool = False
    head: str | None = None  # None: the head the data needs
    pool: str = "last"
    input_dropout: float = 0.0
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    hoist: bool | None = None
    custom_vjp: bool = True
    unroll: int = 1
    scan: Scan = Scan.SEQUENTIAL
    init: str = "default"  # default | glorot | he | normal (N(0, init_std^2)) | uniform
    init_std: float = 0.1
    orthogonal_recurrent: bool = True  # keep orthogonal R blocks when init != default
