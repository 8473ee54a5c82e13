"""Datasets and batching.

``load(name, **kwargs)`` returns :class:`Splits` (train, valid, test) of
:class:`SequenceDataset`; ``available()`` lists the names; ``info(name)`` describes one
(sizes, length statistics, input dim, task, metric, source, licence). The dataset packages
are imported lazily, inside the loaders; sktime and pmdarima come with ``pip install -e
".[data]"``. Batches come from :func:`iterate_batches` (padding, bucketing, shuffling).
"""

from __future__ import annotations

from rnnlab.data import (  # noqa: F401 (each module registers its datasets)
    digits,
    forecasting,
    japanese_vowels,
    jsb,
    kjv,
    moving_digits,
    msft,
    synthetic,
    taylor,
)
from rnnlab.data._common import CACHE_ENV, cache_dir
from rnnlab.data.batching import (
    Batch,
    SequenceDataset,
    Splits,
    batch_indices,
    epoch_rng,
    iterate_batches,
    mask,
    pad,
    pad_batch,
    padded_length,
    unpad,
)
from rnnlab.data.registry import DatasetSpec, available, info, load, register, spec

__all__ = [
    "CACHE_ENV",
    "Batch",
    "DatasetSpec",
    "SequenceDataset",
    "Splits",
    "available",
    "batch_indices",
    "cache_dir",
    "epoch_rng",
    "info",
    "iterate_batches",
    "load",
    "mask",
    "pad",
    "pad_batch",
    "padded_length",
    "register",
    "spec",
    "synthetic",
    "unpad",
]
