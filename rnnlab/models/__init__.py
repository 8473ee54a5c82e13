"""Task models: sequence -> recurrent stack -> head."""

from rnnlab.models.sequence import HEADS, SequenceModel

__all__ = ["HEADS", "SequenceModel"]
