"""The recurrent layer: a cell run over right-padded sequences, fast, with padding done right.

- ``sequence``: input checks, masks, reversal within lengths (shared by both runners);
- ``scan``: ``rnn``, the sequential ``lax.scan`` runner with its hand-written backward pass;
- ``parallel``: ``parallel_rnn``, an associative scan for linear recurrences;
- ``layer``: ``Recurrent``, the Flax module (stacks, bidirectional, dropout) over both.
"""

from rnnlab.recurrent.layer import Recurrent, Scan
from rnnlab.recurrent.parallel import linear_scan, parallel_rnn, sequential_linear_scan
from rnnlab.recurrent.scan import default_hoist, rnn
from rnnlab.recurrent.sequence import (
    reverse_within_lengths,
    step_bernoulli,
    step_dropout,
    step_normal,
)

__all__ = [
    "Recurrent",
    "Scan",
    "default_hoist",
    "linear_scan",
    "parallel_rnn",
    "reverse_within_lengths",
    "rnn",
    "sequential_linear_scan",
    "step_bernoulli",
    "step_dropout",
    "step_normal",
]
