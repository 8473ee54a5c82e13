"""``rnnlab train EXPERIMENT.py [--cell gru --hidden 64 --set optim.lr=3e-3 ...]`` and
``rnnlab eval WORKDIR [--split test]``.

An experiment file defines ``get_config()`` returning a ``rnnlab.train.Config``. Every
config field is reachable as ``--set section.field=value`` (values are Python literals;
bare words are strings), checked against the field's type before anything is compiled or
written. Errors are one line: ``rnnlab train: error: ...`` and exit status 2.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import sys
from typing import Any

from rnnlab.train.config import Config

# shorthand flags -> dotted config keys
_FLAGS = {
    "cell": ("model.cell", str),
    "hidden": ("model.hidden", int),
    "epochs": ("loop.epochs", int),
    "lr": ("optim.lr", float),
    "seed": ("loop.seed", int),
    "batch_size": ("data.batch_size", int),
}


def load_experiment(path: str) -> Config:
    """The ``Config`` returned by ``get_config()`` in the experiment file ``path``."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"experiment file {path!r} not found (e.g. experiments/sine.py).")
    spec = importlib.util.spec_from_file_location("rnnlab_experiment", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "get_config"):
        raise AttributeError(f"{path} must define get_config() returning a rnnlab.train.Config.")
    config = module.get_config()
    return Config.from_dict(config) if isinstance(config, dict) else config


def _parse_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The dotted-key changes asked for on the command line."""
    changes = {
        key: getattr(args, flag) for flag, (key, _) in _FLAGS.items() if getattr(args, flag, None)
    }
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set expects key=value (e.g. optim.lr=0.01), got {item!r}.")
        changes[key.strip()] = _parse_value(value)
    if args.wandb:
        changes["loop.wandb"] = True
    if args.no_progress:
        changes["loop.progress"] = False
    return changes


def fail(args: argparse.Namespace, err: BaseException) -> None:
    """Exit 2 with one line naming the problem."""
    print(f"{args.parser.prog}: error: {err}", file=sys.stderr)
    raise SystemExit(2)


def add_train_subparser(subparsers: Any) -> None:
    """Add the ``train`` and ``eval`` commands to an argparse subparsers object."""
    p = subparsers.add_parser(
        "train",
        help="train one model from an experiment file",
        description="Train one model; rerunning with the same --workdir resumes it.",
    )
    p.add_argument("experiment", help="python file defining get_config()")
    p.add_argument("--workdir", default=None, help="checkpoints, metrics.jsonl, summary.json")
    for flag, (key, typ) in _FLAGS.items():
        p.add_argument(f"--{flag.replace('_', '-')}", dest=flag, type=typ, help=f"= --set {key}")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="any field: optim.lr=3e-3")
    p.add_argument("--overwrite", action="store_true", help="replace a different run in workdir")
    p.add_argument("--print-config", action="store_true", help="print the config and exit")
    p.add_argument("--wandb", action="store_true", help="log to Weights & Biases")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--devices",
        type=int,
        default=1,
        metavar="N",
        help="split each batch over N devices (on CPU, N XLA CPU devices: N cores); "
        "data.batch_size must be a multiple of N",
    )
    p.set_defaults(func=run_train, parser=p)

    e = subparsers.add_parser(
        "eval",
        help="evaluate the best parameters of a run folder",
        description="Every metric of a finished (or interrupted) run's best parameters.",
    )
    e.add_argument("workdir", help="a run folder written by rnnlab train")
    e.add_argument("--split", default="test", choices=("train", "valid", "test"))
    e.set_defaults(func=run_eval, parser=e)


def run_train(args: argparse.Namespace) -> int:
    try:
        config = load_experiment(args.experiment).override(overrides(args))
    except (ValueError, TypeError, FileNotFoundError, AttributeError, SyntaxError) as err:
        fail(args, err)
    if args.print_config:
        print(json.dumps(config.to_dict(), indent=1))
        return 0
    from rnnlab.train.run import train

    try:
        devices = _devices(args.devices, config.data.batch_size)
        result = train(config, args.workdir, overwrite=args.overwrite, devices=devices)
    except (ValueError, TypeError, FileNotFoundError) as err:
        fail(args, err)
    keys = ("best_metric", "best_epoch", "diverged", "epochs_trained", "valid", "test", "seconds")
    print(json.dumps({k: v for k, v in result.summary().items() if k in keys}, indent=1))
    return 0


def _devices(n: int, batch_size: int) -> tuple:
    """The first ``n`` devices for data parallelism (() for one), checked against the batch."""
    if n < 1:
        raise ValueError(f"--devices must be at least 1, got {n}.")
    if n == 1:
        return ()
    if batch_size % n:
        raise ValueError(
            f"data.batch_size {batch_size} does not split over --devices {n}; "
            f"use a batch size that is a multiple of {n}."
        )
    import jax

    try:
        jax.config.update("jax_num_cpu_devices", n)  # before JAX starts; no effect off CPU
    except RuntimeError:  # JAX already started in this process: it has what it has
        pass
    found = jax.devices()
    if len(found) < n:
        raise ValueError(f"--devices {n}, but JAX sees {len(found)}: {found}.")
    return tuple(found[:n])


def run_eval(args: argparse.Namespace) -> int:
    from rnnlab.train.run import evaluate

    try:
        print(json.dumps(evaluate(args.workdir, args.split), indent=1))
    except (ValueError, FileNotFoundError) as err:
        fail(args, err)
    return 0
