"""The one place the sweep meets the trial engine (``rnnlab.train``).

The engine's contract: ``Trial(config, seed, key)``; ``run_queue(next_trial, *, slots,
on_epoch, on_done)`` pulls trials until ``next_trial()`` returns None and trains them as a
population, calling ``on_epoch(trial, record)`` after each epoch and ``on_done(trial, result)``
when a trial ends; ``program_key(config)``, ``hidden_bucket(hidden)``, ``save_model(dir, config,
params)``; the nested ``Config`` with ``from_dict``/``to_dict``. Where the installed engine
lacks a piece, the fallback here keeps the sweep's own machinery usable (plans, storage,
leases, and the stand-in executor of ``rnnlab.sweep.testing``).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np


@functools.cache
def _train() -> Any:
    try:
        return importlib.import_module("rnnlab.train")
    except ImportError:
        return None


def _engine(name: str) -> Any:
    return getattr(_train(), name, None)


@dataclasses.dataclass(frozen=True)
class _Trial:
    """Stand-in for ``rnnlab.train.Trial`` while the engine does not provide it."""

    config: Any
    seed: int
    key: str = ""


def make_trial(config: Any, seed: int, key: str) -> Any:
    cls = _engine("Trial") or _Trial
    return cls(config=config, seed=seed, key=key)


def make_config(d: Mapping[str, Any]) -> Any:
    """A ``rnnlab.train.Config`` from nested dicts (the dict itself without the engine)."""
    cls = _engine("Config")
    if cls is not None and hasattr(cls, "from_dict"):
        return cls.from_dict(dict(d))
    return dict(d)


def normalize(d: Mapping[str, Any]) -> dict[str, Any]:
    """The full nested dict of the engine's ``Config`` for ``d`` (defaults filled in, values
    checked), so that equal configs hash equally however they were written."""
    return config_to_dict(make_config(d))


def config_to_dict(config: Any) -> dict[str, Any]:
    """Nested plain dicts from a ``Config`` (or a dict)."""
    if isinstance(config, Mapping):
        return json.loads(json.dumps(dict(config)))
    if hasattr(config, "to_dict"):
        return config.to_dict()
    raise TypeError(
        f"expected a nested rnnlab.train.Config or a dict, got {type(config).__name__}."
    )


def hidden_bucket(hidden: int) -> int:
    """The engine's bucket for a hidden size (next power of two, at least 16, without it)."""
    fn = _engine("hidden_bucket")
    if fn is not None:
        return int(fn(hidden))
    b = 16
    while b < hidden:
        b *= 2
    return b


def program_key(config: Mapping[str, Any]) -> str | None:
    """The engine's program key of a nested config dict, or None without the engine."""
    fn, cls = _engine("program_key"), _engine("Config")
    if fn is None or cls is None or not hasattr(cls, "from_dict"):
        return None
    return str(fn(cls.from_dict(dict(config))))


def default_executor() -> Callable[..., Any]:
    """``rnnlab.train.run_queue``; a clear error while the engine lacks it."""
    fn = _engine("run_queue")
    if fn is None:
        raise RuntimeError(
            "rnnlab.train has no run_queue in this install; pass --executor "
            "rnnlab.sweep.testing:fake_run_queue to exercise the sweep without training."
        )
    return fn


def load_callable(spec: str) -> Callable[..., Any]:
    """``"package.module:function"`` -> the function."""
    module, sep, name = spec.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"executor {spec!r} must look like 'package.module:function'.")
    try:
        obj = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"executor {spec!r} cannot be loaded: {e}.") from None
    return obj


def save_checkpoint(directory: str, config: Any, params: Any) -> None:
    """The trial's best params (and config) in ``directory``: the engine's ``save_model``,
    or ``params.npz`` + ``config.json`` without it."""
    fn = _engine("save_model")
    if fn is not None and not isinstance(config, Mapping):
        fn(directory, config, params)
        return
    os.makedirs(directory, exist_ok=True)
    leaves = _flatten(params)
    np.savez(os.path.join(directory, "params.npz"), **leaves)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config_to_dict(config), f, indent=1, sort_keys=True)


def _flatten(tree: Any, prefix: str = "") -> dict[str, np.ndarray]:
    if isinstance(tree, Mapping):
        out: dict[str, np.ndarray] = {}
        for k, v in tree.items():
            out.update(_flatten(v, f"{prefix}{k}/"))
        return out
    if isinstance(tree, list | tuple):
        out = {}
        for i, v in enumerate(tree):
            out.update(_flatten(v, f"{prefix}{i}/"))
        return out
    return {prefix.rstrip("/") or "value": np.asarray(tree)}
