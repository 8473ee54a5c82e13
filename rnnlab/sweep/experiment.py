"""Sweep experiments: an experiment file's ``get_sweep(preset)`` and the command-line changes.

An experiment file for ``rnnlab sweep`` defines

    PRESETS = ("smoke", "quick", "full")
    def get_sweep(preset: str = "quick") -> rnnlab.sweep.Sweep

where a ``Sweep`` holds the base config (a nested ``rnnlab.train.Config`` or nested dicts),
the search space, the study's total number of trials (spread evenly over the crossed
variants), the study seed, the number of population slots per worker and the sampler
("random": planned up front, the default; "tpe" or "qmc": proposed as results come in, see
``rnnlab.sweep.adaptive``).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import os
from collections.abc import Sequence
from typing import Any

from rnnlab.sweep import engine
from rnnlab.sweep.adaptive import check_sampler
from rnnlab.sweep.plan import get_path, set_path
from rnnlab.sweep.space import Space


@dataclasses.dataclass(frozen=True)
class Sweep:
    """What a study is planned from (see module docstring)."""

    config: Any
    space: Space
    trials: int
    seed: int = 0
    slots: int = 8
    sampler: str = "random"

    def __post_init__(self) -> None:
        check_sampler(self.sampler)

    def config_dict(self) -> dict[str, Any]:
        return engine.config_to_dict(self.config)

    def metric(self) -> str:
        try:
            return str(get_path(self.config_dict(), "loop.metric"))
        except (KeyError, TypeError):
            return "loss"

    def dataset(self) -> str:
        try:
            return str(get_path(self.config_dict(), "data.name"))
        except (KeyError, TypeError):
            return ""


def load(path: str, preset: str | None = None) -> tuple[Sweep, str]:
    """The ``Sweep`` of ``path``'s ``get_sweep(preset)``, and the preset used."""
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"experiment file {path!r} not found (e.g. experiments/odyssey_jsb.py)."
        )
    spec = importlib.util.spec_from_file_location("rnnlab_sweep_experiment", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "get_sweep"):
        raise AttributeError(f"{path} defines no get_sweep(preset) returning rnnlab.sweep.Sweep.")
    presets: Sequence[str] = tuple(getattr(module, "PRESETS", ()))
    if preset is None:
        preset = "quick" if "quick" in presets else (presets[0] if presets else "default")
    elif presets and preset not in presets:
        raise ValueError(f"{path} has no preset {preset!r}; presets: {', '.join(presets)}.")
    sweep = module.get_sweep(preset)
    if not isinstance(sweep, Sweep):
        raise TypeError(f"{path}: get_sweep() must return rnnlab.sweep.Sweep, got {sweep!r}.")
    return sweep, preset


def parse_value(text: str) -> Any:
    """A Python literal (``1e-3``, ``True``, ``{"limit": 20}``) or else the string itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def apply_sets(sweep: Sweep, items: Sequence[str], trials: int | None = None) -> Sweep:
    """``sweep`` with ``--set path=value`` changes to its config (dotted nested paths, e.g.
    ``loop.epochs=2``, ``data.options={"limit": 20}``) and ``--trials``; ``seed=`` and
    ``slots=`` set the study seed and the population slots."""
    config = sweep.config_dict()
    changes: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects key=value, got {item!r}.")
        if key in ("seed", "slots"):
            changes[key] = int(value)
            continue
        set_path(config, key.strip(), parse_value(value))
    if trials is not None:
        changes["trials"] = int(trials)
    if items:
        engine.make_config(config)  # the engine names an impossible setting here
        changes["config"] = config
    return dataclasses.replace(sweep, **changes) if changes else sweep
