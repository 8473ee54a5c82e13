"""``rnnlab train EXPERIMENT.py [--cell gru --hidden 64 --workdir runs/x --set lr=0.01]``.

Wire into ``rnnlab/cli.py`` with ``add_train_subparser(subparsers)``; the parser's
``func`` default runs the command. Also runnable alone: ``python -m rnnlab.train.cli``.
An experiment file defines ``get_config()`` returning a ``TrainConfig`` (or a dict).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib.util
import json
import os
import sys
from typing import Any

from rnnlab.train.config import TrainConfig, from_dict
from rnnlab.train.trainer import train_and_evaluate

_FLAGS = {"cell": str, "hidden": int, "epochs": int, "lr": float, "seed": int, "batch_size": int}


def load_experiment(path: str) -> TrainConfig:
    """The ``TrainConfig`` returned by ``get_config()`` in the experiment file ``path``."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"experiment file {path!r} not found (e.g. experiments/sine.py).")
    spec = importlib.util.spec_from_file_location("rnnlab_experiment", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "get_config"):
        raise AttributeError(f"{path} must define get_config() returning a TrainConfig.")
    config = module.get_config()
    return from_dict(config) if isinstance(config, dict) else config


def _parse_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def apply_overrides(config: TrainConfig, args: argparse.Namespace) -> TrainConfig:
    changes = {k: getattr(args, k) for k in _FLAGS if getattr(args, k, None) is not None}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set expects key=value, got {item!r}.")
        changes[key] = _parse_value(value)
    if args.wandb:
        changes["wandb"] = True
    if args.no_progress:
        changes["progress"] = False
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise ValueError(f"unknown config keys {unknown}; valid keys: {sorted(names)}.")
    return config.replace(**changes)


def add_train_subparser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``train`` command to an argparse subparsers object."""
    p = subparsers.add_parser("train", help="train one model from an experiment file")
    _add_arguments(p)
    p.set_defaults(func=run_train)
    return p


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("experiment", help="python file defining get_config()")
    p.add_argument("--workdir", default=None, help="checkpoints + metrics.jsonl; resumes")
    for name, typ in _FLAGS.items():
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=typ, default=None)
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="any config field")
    p.add_argument("--wandb", action="store_true", help="log to Weights & Biases")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_train(args: argparse.Namespace) -> int:
    config = apply_overrides(load_experiment(args.experiment), args)
    result = train_and_evaluate(config, args.workdir)
    summary = {k: result[k] for k in ("best_metric", "best_epoch", "diverged", "valid", "test")}
    print(json.dumps(summary, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="rnnlab-train")
    _add_arguments(p)
    return run_train(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
