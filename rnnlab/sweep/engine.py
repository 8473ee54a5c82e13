"""The one place the sweep meets the trial engine (``rnnlab.train``).

The engine's contract: ``Trial(config, seed, key)``; ``run_queue(next_trial, *, slots,
on_epoch, on_done)`` pulls trials until ``next_trial()`` returns None and trains them as a
population, calling ``on_epoch(trial, record)`` after each epoch and ``on_done(trial, result)``
when a trial ends; ``program_key(config)`` and ``hidden_bucket(hidden)`` say which trials share
a compiled program; the nested ``Config`` with ``from_dict``/``to_dict``. Any function with
``run_queue``'s contract can stand in for it (``--executor``), e.g.
``rnnlab.sweep.testing:fake_run_queue``.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from rnnlab import train


def make_trial(config: train.Config, seed: int, key: str) -> train.Trial:
    return train.Trial(config=config, seed=seed, key=key)


def make_config(d: Mapping[str, Any]) -> train.Config:
    """A checked ``rnnlab.train.Config`` from nested dicts (an error names a bad key)."""
    return train.Config.from_dict(dict(d))


def normalize(d: Mapping[str, Any]) -> dict[str, Any]:
    """The full nested dict of the ``Config`` for ``d`` (defaults filled in, values checked),
    so that equal configs hash equally however they were written."""
    return make_config(d).to_dict()


def config_to_dict(config: train.Config | Mapping[str, Any]) -> dict[str, Any]:
    """Nested plain dicts from a ``Config`` (or a dict)."""
    if isinstance(config, Mapping):
        return json.loads(json.dumps(dict(config)))
    if isinstance(config, train.Config):
        return config.to_dict()
    raise TypeError(
        f"expected a nested rnnlab.train.Config or a dict, got {type(config).__name__}."
    )


def hidden_bucket(hidden: int) -> int:
    """The hidden size a trial's program is padded to."""
    return int(train.hidden_bucket(hidden))


def program_key(config: Mapping[str, Any]) -> str:
    """What trials must share to train in one program, for a nested config dict."""
    return str(train.program_key(make_config(config)))


def default_executor() -> Callable[..., Any]:
    """``rnnlab.train.run_queue``; on an accelerator worker that sees several devices, with
    its populations sharded over them (CPU workers use one device each)."""
    import jax

    devices = jax.devices()
    if len(devices) > 1 and jax.default_backend() != "cpu":
        return functools.partial(train.run_queue, devices=devices)
    return train.run_queue


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
    """A trial's best params as ``params.npz`` (leaves named by their tree path) and its
    config as ``config.json`` in ``directory``."""
    os.makedirs(directory, exist_ok=True)
    np.savez(os.path.join(directory, "params.npz"), **_flatten(params))
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
