"""``rnnlab data list`` and ``rnnlab data info NAME``: thin wrappers over the registry."""

from __future__ import annotations

import argparse
import ast
import sys
from typing import Any

from rnnlab import data


def add_data_subparser(subparsers) -> argparse.ArgumentParser:
    """Registers ``data list`` and ``data info NAME [--option KEY=VALUE ...]``."""
    p = subparsers.add_parser("data", help="list and describe the datasets")
    sub = p.add_subparsers(dest="data_command", required=True)
    sub.add_parser("list", help="the dataset names and tasks").set_defaults(func=cmd_list)
    pi = sub.add_parser("info", help="sizes, lengths, task, metric, source of one dataset")
    pi.add_argument("name", help="a dataset name (see `rnnlab data list`)")
    pi.add_argument(
        "--option",
        "-o",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="loader keyword argument, e.g. -o limit=2 -o resolution=eighth",
    )
    pi.set_defaults(func=cmd_info)
    return p


def cmd_list(args: argparse.Namespace) -> int:
    """Prints one line per dataset: name and task."""
    width = max(map(len, data.available()))
    for name in data.available():
        print(f"{name:<{width}}  {data.spec(name).task}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    """Prints :func:`rnnlab.data.info` as a table; exit status 2 on a bad name or option."""
    try:
        d = data.info(args.name, **parse_options(args.option))
    except (ValueError, TypeError, ImportError) as e:
        print(f"rnnlab data info: error: {e}", file=sys.stderr)
        return 2
    print(format_info(d))
    return 0


def parse_options(options: list[str]) -> dict[str, Any]:
    """``["limit=2", "resolution=eighth"]`` -> ``{"limit": 2, "resolution": "eighth"}``."""
    out = {}
    for opt in options:
        key, sep, value = opt.partition("=")
        if not sep or not key:
            raise ValueError(f"--option expects KEY=VALUE, got {opt!r}")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def format_info(d: dict[str, Any]) -> str:
    """A readable table of one dataset's description."""
    dims = d["input_shape"]
    shape = f"({dims[0]},)" if len(dims) == 1 else "(" + ", ".join(map(str, dims)) + ")"
    kind = " token ids" if d["input_dim"] is None else ""
    rows = [
        ("dataset", d["name"]),
        ("task", d["task"]),
        ("metric", d["metric"]),
        ("targets", d["target_kind"]),
        ("input", f"{shape} {d['input_dtype']}{kind}"),
        ("classes", d["num_classes"]),
        ("source", d["source"]),
        ("licence", d["license"]),
        ("options", d["options"] or "defaults"),
    ]
    lines = [f"{k:<8}  {v}" for k, v in rows if v is not None]
    lines += ["", f"{'split':<8}  {'examples':>8}  {'steps':>9}  {'length min / mean / max':>24}"]
    for split, n in d["sizes"].items():
        s = d["lengths"][split]
        stats = f"{s['min']} / {s['mean']:.1f} / {s['max']}"
        lines.append(f"{split:<8}  {n:>8}  {d['steps'][split]:>9}  {stats:>24}")
    return "\n".join(lines)
