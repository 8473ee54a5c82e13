"""``rnnlab analyze STORAGE [--study NAME] --out DIR``: a thin layer over :mod:`rnnlab.analysis`."""

from __future__ import annotations

import argparse
import sys

PROG = "rnnlab analyze"


def add_analyze_subparser(subparsers) -> argparse.ArgumentParser:
    """Registers ``analyze`` on the top-level parser's subparsers."""
    p = subparsers.add_parser(
        "analyze",
        help="Welch tests, fANOVA, the Odyssey's figures and an HTML report of a study",
        description="Analyse an Optuna study (any study; the Welch tests need a 'variant' "
        "parameter) and write report.html, report.md, summary.json and the figures to DIR.",
    )
    p.add_argument(
        "storage",
        help="a .db file, an Optuna journal file, or a storage URL (sqlite:///..., "
        "postgresql://user@host/db)",
    )
    p.add_argument("--study", default=None, help="study name (optional with one study)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the report")
    p.add_argument(
        "--metric",
        default=None,
        help="test metric to analyse (a key of the trials' 'test' attribute; 'value' for the "
        "validation value); default: the study's test metric",
    )
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (0.05)")
    p.add_argument(
        "--holm", action="store_true", help="Holm correction across the tests (not in the paper)"
    )
    p.add_argument("--reference", default="V", help="the variant compared against (V)")
    p.add_argument("--trees", type=int, default=32, help="fANOVA forest size (32)")
    p.add_argument("--seed", type=int, default=0, help="fANOVA forest seed (0)")
    p.add_argument("--quiet", action="store_true", help="no summary table on stdout")
    p.set_defaults(func=cmd_analyze)
    return p


def _error(msg: str) -> int:
    print(f"{PROG}: error: {msg}", file=sys.stderr)
    return 2


def cmd_analyze(args: argparse.Namespace) -> int:
    """Runs the analysis; exit status 2 with one error line on bad input."""
    import optuna

    from rnnlab.analysis.analyze import analyze
    from rnnlab.analysis.report import format_table, write_report
    from rnnlab.analysis.storage import StorageError, open_study, redact, scrub

    if not 0 < args.alpha < 1:
        return _error(f"--alpha must lie in (0, 1), got {args.alpha}")
    if args.trees < 1:
        return _error(f"--trees must be at least 1, got {args.trees}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = open_study(args.storage, args.study)
        a = analyze(
            study,
            metric=args.metric,
            alpha=args.alpha,
            correction="holm" if args.holm else None,
            reference=args.reference,
            n_trees=args.trees,
            seed=args.seed,
            storage=redact(args.storage),
        )
        write_report(a, args.out)
    except (StorageError, ValueError, OSError) as e:
        return _error(scrub(str(e), args.storage))
    if not args.quiet:
        print(format_table(a))
        print(f"\nreport: {args.out}/report.html (summary.json, report.md and figures beside it)")
    return 0
