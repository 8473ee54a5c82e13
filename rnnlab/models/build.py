"""The model a training config asks for."""

from __future__ import annotations

import flax.linen as nn

from rnnlab import cells
from rnnlab.cells.convlstm import ConvLSTM
from rnnlab.models.config import ModelConfig
from rnnlab.models.sequence import SequenceModel
from rnnlab.models.video import FramePredictor


def build(config: ModelConfig, output_size: int, head: str) -> nn.Module:
    """``FramePredictor`` for a ConvLSTM cell (frames in, per-step flattened frames out),
    ``SequenceModel`` for every other cell."""
    cell = cells.get(config.cell, config.hidden, **config.cell_options)
    if isinstance(cell, ConvLSTM):
        return FramePredictor(
            cell,
            output_channels=output_size,
            num_layers=config.num_layers,
            dropout=config.dropout,
            flat_output=True,
        )
    return SequenceModel.from_config(config, output_size, head)
