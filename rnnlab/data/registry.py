"""Datasets by name: each dataset module registers its loader beside its definition."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from rnnlab.data._common import length_stats
from rnnlab.data.batching import Splits


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


_REGISTRY: dict[str, DatasetSpec] = {}


def register(spec: DatasetSpec) -> DatasetSpec:
    """Make ``spec`` loadable by its name."""
    if spec.name in _REGISTRY:
        raise ValueError(f"a dataset named {spec.name!r} is already registered.")
    _REGISTRY[spec.name] = spec
    return spec


def available() -> list[str]:
    """Names accepted by :func:`load`, sorted."""
    return sorted(_REGISTRY)


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
