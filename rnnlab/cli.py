"""The ``rnnlab`` command line: a thin layer over library functions a notebook can call."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def _cmd_demo(args: argparse.Namespace) -> int:
    from rnnlab import demo

    print(
        f"Training {', '.join(args.cells)} on JSB Chorales (H={args.hidden}, {args.epochs} epochs)"
    )
    rows = demo.compare(
        args.cells,
        hidden=args.hidden,
        epochs=args.epochs,
        lr=args.lr,
        seed=args.seed,
        limit=args.limit,
    )
    print(demo.format_table(rows))
    return 0


def _cmd_cells(args: argparse.Namespace) -> int:
    from rnnlab import cells

    for name, desc in cells.available().items():
        print(f"{name:18s} {desc}")
    print("\nLSTM variants: " + ", ".join(cells.PRESETS))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subcommand per area."""
    from rnnlab import __version__
    from rnnlab.analysis.cli import add_analyze_subparser
    from rnnlab.data.cli import add_data_subparser
    from rnnlab.replicate import add_replicate_subparser
    from rnnlab.sweep.cli import add_study_subparser, add_sweep_subparser
    from rnnlab.train.cli import add_train_subparser

    parser = argparse.ArgumentParser(prog="rnnlab", description=__doc__)
    parser.add_argument("--version", action="version", version=f"rnnlab {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_train_subparser(subparsers)

    demo = subparsers.add_parser("demo", help="train LSTM vs GRU on JSB Chorales, print NLL")
    demo.add_argument("--cells", nargs="+", default=["lstm", "gru"], help="registered cell names")
    demo.add_argument("--hidden", type=int, default=64)
    demo.add_argument("--epochs", type=int, default=60)
    demo.add_argument("--lr", type=float, default=1e-2)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--limit", type=int, default=None, help="chorales per split (quick runs)")
    demo.set_defaults(func=_cmd_demo)

    cells = subparsers.add_parser("cells", help="list the registered cells and LSTM variants")
    cells.set_defaults(func=_cmd_cells)

    add_data_subparser(subparsers)
    add_analyze_subparser(subparsers)
    add_sweep_subparser(subparsers)
    add_study_subparser(subparsers)
    add_replicate_subparser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rnnlab`` console script."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
