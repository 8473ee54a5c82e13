"""Task models. (cells2 branch: seq2seq, autoencoder, classifier, transformer.)"""

from rnnlab.models.autoencoder import LSTMAutoencoder, fit_threshold, flag
from rnnlab.models.classifier import RNNClassifier, pool
from rnnlab.models.seq2seq import Seq2Seq, sequence_loss
from rnnlab.models.transformer import TransformerClassifier, count_params, d_model_for_params

__all__ = [
    "LSTMAutoencoder",
    "RNNClassifier",
    "Seq2Seq",
    "TransformerClassifier",
    "count_params",
    "d_model_for_params",
    "fit_threshold",
    "flag",
    "pool",
    "sequence_loss",
]
