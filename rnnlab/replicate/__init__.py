"""Paper replications: ``rnnlab replicate NAME --preset smoke|quick|full``.

Each paper is one module with ``PRESETS`` and ``run(preset, out_dir)``; its folder
``paper_replications/NAME/`` holds the README (the paper's numbers beside ours), the
committed results of the ``quick`` preset and their plots. ``smoke`` runs in seconds (the
test suite runs it), ``quick`` in minutes on 2 CPU cores, ``full`` is the paper's budget.
"""

from __future__ import annotations

import argparse
import importlib
import os
from typing import Any

from rnnlab.replicate._common import PRESETS

PAPERS = {
    "greff2017": "nine LSTM variants x random search on music, speech and handwriting",
    "hochreiter1997": "adding and temporal order at growing lags: LSTM, GRU, minGRU, Elman",
    "chung2014": "tanh RNN vs GRU vs LSTM at ~20k parameters on JSB Chorales",
    "feng2024": "minGRU/minLSTM vs GRU/LSTM; training time vs length, parallel vs sequential",
    "jozefowicz2015": "forget bias 1 vs 0; MUT1-3 vs LSTM vs GRU, small random searches",
}


def module(name: str) -> Any:
    """The module of replication ``name``."""
    if name not in PAPERS:
        raise ValueError(f"unknown replication {name!r}; available: {', '.join(PAPERS)}.")
    return importlib.import_module(f"rnnlab.replicate.{name}")


def run(name: str, preset: str = "smoke", out_dir: str | None = None) -> dict[str, Any]:
    """Run replication ``name`` at ``preset``; results go to ``out_dir`` (default
    ``paper_replications/NAME/results/PRESET``). Returns what it wrote, as a dict."""
    out_dir = out_dir or os.path.join("paper_replications", name, "results", preset)
    return module(name).run(preset, out_dir)


def _cmd_replicate(args: argparse.Namespace) -> int:
    try:
        out = run(args.name, args.preset, args.out)
    except ValueError as e:
        raise SystemExit(f"rnnlab replicate: error: {e}") from None
    print(f"{args.name} ({args.preset}) done in {out['wall_seconds']:.0f} s")
    return 0


def add_replicate_subparser(subparsers: Any) -> None:
    """``rnnlab replicate NAME --preset smoke|quick|full [--out DIR]``."""
    p = subparsers.add_parser(
        "replicate",
        help="rerun a paper replication (paper_replications/NAME)",
        description="\n".join(f"{k}: {v}" for k, v in PAPERS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", choices=list(PAPERS))
    p.add_argument("--preset", choices=PRESETS, default="smoke")
    p.add_argument(
        "--out",
        default=None,
        help="results folder (default paper_replications/NAME/results/PRESET)",
    )
    p.set_defaults(func=_cmd_replicate)
