"""The ``rnnlab`` command line (minimal: only ``data`` so far; other commands join here)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subcommand per area."""
    from rnnlab.data.cli import add_data_subparser

    parser = argparse.ArgumentParser(prog="rnnlab", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_data_subparser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rnnlab`` console script."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
