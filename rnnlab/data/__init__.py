"""Datasets and batching.

``load(name, **kwargs)`` returns :class:`Splits` (train, valid, test) of
:class:`SequenceDataset`; ``available()`` lists the names; ``info(name)`` describes one
(sizes, length statistics, input dim, task, metric, source, licence). The dataset packages
are imported lazily, inside the loaders; sktime and pmdarima come with ``pip install -e
".[data]"``. Batches come from :func:`iterate_batches` (padding, bucketing, shuffling).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from rnnlab.data import digits, japanese_vowels, jsb, kjv, moving_digits, taylor
from rnnlab.data._common import CACHE_ENV, cache_dir, length_stats
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
    "spec",
    "unpad",
]


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset: its loader (with fixed keyword arguments) and description."""

    name: str
    loader: Callable[..., Splits]
    task: str
    metric: str
    source: str
    license: str
    kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)


_REGISTRY: dict[str, DatasetSpec] = {
    s.name: s
    for s in (
        DatasetSpec("jsb", jsb.load_jsb, jsb.TASK, jsb.METRIC, jsb.SOURCE, jsb.LICENSE),
        DatasetSpec(
            "japanese_vowels",
            japanese_vowels.load_japanese_vowels,
            japanese_vowels.TASK,
            japanese_vowels.METRIC,
            japanese_vowels.SOURCE,
            japanese_vowels.LICENSE,
        ),
        DatasetSpec(
            "japanese_vowels_framewise",
            japanese_vowels.load_japanese_vowels,
            japanese_vowels.TASK,
            japanese_vowels.METRIC,
            japanese_vowels.SOURCE,
            japanese_vowels.LICENSE,
            {"framewise": True},
        ),
        DatasetSpec(
            "digits",
            digits.load_digits_rows,
            digits.TASK,
            digits.METRIC,
            digits.SOURCE,
            digits.LICENSE,
        ),
        DatasetSpec(
            "digits_ctc",
            digits.load_digits_ctc,
            digits.CTC_TASK,
            digits.CTC_METRIC,
            digits.SOURCE,
            digits.LICENSE,
        ),
        DatasetSpec(
            "moving_digits",
            moving_digits.load_moving_digits,
            moving_digits.TASK,
            moving_digits.METRIC,
            moving_digits.SOURCE,
            moving_digits.LICENSE,
        ),
        DatasetSpec("kjv", kjv.load_kjv, kjv.TASK, kjv.METRIC, kjv.SOURCE, kjv.LICENSE),
        DatasetSpec(
            "taylor", taylor.load_taylor, taylor.TASK, taylor.METRIC, taylor.SOURCE, taylor.LICENSE
        ),
    )
}


def available() -> list[str]:
    """Names accepted by :func:`load`."""
    return list(_REGISTRY)


def spec(name: str) -> DatasetSpec:
    """The registry entry of ``name``; ValueError naming the available ones if unknown."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(available())}") from None


def load(name: str, **kwargs: Any) -> Splits:
    """Loads dataset ``name`` as (train, valid, test); ``kwargs`` go to its loader."""
    s = spec(name)
    return s.loader(**{**s.kwargs, **kwargs})


def info(name: str, **kwargs: Any) -> dict[str, Any]:
    """Loads ``name`` and describes it: sizes, length stats, input dim, task, metric, source."""
    s = spec(name)
    splits = load(name, **kwargs)
    first = splits.train
    x0 = first.inputs[0]
    return {
        "name": name,
        "task": s.task,
        "metric": s.metric,
        "source": s.source,
        "license": s.license,
        "target_kind": first.target_kind,
        "input_shape": ("T", *x0.shape[1:]),
        "input_dtype": str(x0.dtype),
        "input_dim": first.input_dim,
        "num_classes": first.meta.get("num_classes"),
        "sizes": {k: len(d) for k, d in splits._asdict().items()},
        "steps": {k: int(np.sum(d.lengths)) for k, d in splits._asdict().items()},
        "lengths": {k: length_stats(d.lengths) for k, d in splits._asdict().items()},
        "options": {**s.kwargs, **kwargs},
    }
