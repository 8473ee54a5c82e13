"""Task models: sequence -> recurrent stack -> head; frames -> ConvLSTM stack -> head;
seq2seq, autoencoder, classifiers, and a Transformer baseline behind the same interface."""

from rnnlab.models.autoencoder import LSTMAutoencoder, fit_threshold, flag
from rnnlab.models.build import build
from rnnlab.models.classifier import RNNClassifier, pool
from rnnlab.models.config import ModelConfig
from rnnlab.models.seq2seq import Seq2Seq, sequence_loss
from rnnlab.models.sequence import HEADS, SequenceModel
from rnnlab.models.transformer import TransformerClassifier, count_params, d_model_for_params
from rnnlab.models.video import FramePredictor

__all__ = [
    "HEADS",
    "FramePredictor",
    "LSTMAutoencoder",
    "ModelConfig",
    "RNNClassifier",
    "Seq2Seq",
    "SequenceModel",
    "TransformerClassifier",
    "build",
    "count_params",
    "d_model_for_params",
    "fit_threshold",
    "flag",
    "pool",
    "sequence_loss",
]
