"""``rnnlab sweep`` and ``rnnlab study``: thin commands over ``rnnlab.sweep``.

    rnnlab sweep EXPERIMENT [--preset NAME] [--trials N] [--storage URL] [--study NAME]
                 [--sampler random|tpe|qmc] [--workers K] [--devices 0,1] [--wandb]
                 [--set key=value ...]
    rnnlab sweep status [EXPERIMENT] [--preset NAME] [--storage URL] [--study NAME]
    rnnlab study export STORAGE [--study NAME] [--out FILE.csv|FILE.parquet]

Wire into ``rnnlab/cli.py`` with ``add_sweep_subparser(subparsers)`` and
``add_study_subparser(subparsers)``. Errors print one line, ``rnnlab sweep: error: ...``, and
exit with status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable
from typing import Any

_STORAGE_HELP = (
    "study storage: a .db path or sqlite:/// URL (default runs/<study>/study.db), a .journal "
    "path or journal:// URL (Optuna journal file), or an RDB URL such as "
    "postgresql://user:password@host/db (shared by machines)"
)


def _errors(prog: str, fn: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    def run(args: argparse.Namespace) -> int:
        from rnnlab.sweep.storage import redact

        try:
            return fn(args)
        except (
            OSError,
            ValueError,
            KeyError,
            AttributeError,
            TypeError,
            RuntimeError,
        ) as e:
            text = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
            text = str(text).strip().splitlines()[0] if str(text).strip() else type(e).__name__
            print(f"{prog}: error: {redact(text, getattr(args, 'storage', None))}", file=sys.stderr)
            return 2

    return run


def _study_name(experiment: str, preset: str) -> str:
    stem = os.path.splitext(os.path.basename(experiment))[0]
    return f"{stem}-{preset}"


# --- rnnlab sweep ------------------------------------------------------------------------------


def add_sweep_subparser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``sweep`` (run a study; ``sweep status`` shows one) to argparse subparsers."""
    p = subparsers.add_parser(
        "sweep",
        help="run a search study from an experiment file (or: sweep status)",
        description=(
            "Plan a random-search study from EXPERIMENT's get_sweep(preset), enqueue the "
            "trials not done yet and train them with worker processes as populations. "
            "Safe to kill and run again: it resumes, reruns nothing finished, and refuses a "
            "changed config. With --sampler tpe or qmc nothing is planned: the workers ask "
            "the sampler for each trial from the results so far, so the trials depend on "
            "the order results come in and are NOT reproducible across worker counts or "
            "restarts (random mode is). 'rnnlab sweep status [EXPERIMENT]' shows a study's "
            "progress."
        ),
    )
    p.add_argument("experiment", metavar="EXPERIMENT|status", help="experiment file, or status")
    p.add_argument("target", nargs="?", default=None, help="with status: the experiment file")
    p.add_argument("--preset", default=None, help="experiment preset (smoke, quick, full)")
    p.add_argument("--trials", type=int, default=None, help="study total, spread over variants")
    p.add_argument("--storage", default=None, help=_STORAGE_HELP)
    p.add_argument("--study", default=None, help="study name (default <experiment>-<preset>)")
    p.add_argument(
        "--sampler",
        default=None,
        help="random (default: planned up front, reproducible), tpe or qmc (adaptive: "
        "proposed from the results so far, not reproducible across worker counts or "
        "restarts); a study keeps the sampler it was started with",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes on this machine (default: one per GPU, else 1)",
    )
    p.add_argument(
        "--devices",
        default=None,
        metavar="IDS",
        help="GPU ids to use, one worker each, e.g. 0,1 (default: all visible)",
    )
    p.add_argument(
        "--wandb",
        action="store_true",
        help="log each trial as one Weights & Biases run, grouped by study (also: "
        "loop.wandb=true in the config)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change the base config, e.g. loop.epochs=2 or data.options='{\"limit\": 20}'",
    )
    p.add_argument("--run-dir", default=None, help="checkpoints and logs (default: by storage)")
    p.add_argument(
        "--executor",
        default=None,
        help="trainer as package.module:function (default rnnlab.train:run_queue; "
        "rnnlab.sweep.testing:fake_run_queue checks the plumbing in seconds)",
    )
    p.add_argument("--lease", type=float, default=120.0, help="seconds a worker's claim lasts")
    p.add_argument(
        "--compile-cache",
        default=True,
        metavar="DIR",
        help="folder of the workers' compilation cache (default: ~/.cache/rnnlab/xla, shared "
        "by every sweep on this machine); 'none' compiles every program afresh",
    )
    p.add_argument("--no-progress", action="store_true", help="no live display")
    p.add_argument("--json", action="store_true", help="print the final summary as JSON")
    p.set_defaults(func=_errors("rnnlab sweep", _cmd_sweep))
    return p


def _cmd_sweep(args: argparse.Namespace) -> int:
    if args.experiment == "status":
        return _cmd_status(args)
    from rnnlab.sweep import experiment, run
    from rnnlab.sweep.adaptive import check_sampler
    from rnnlab.sweep.devices import parse_devices
    from rnnlab.sweep.display import results_table, status_line
    from rnnlab.sweep.storage import resolve

    if args.target is not None:
        raise ValueError(f"unexpected argument {args.target!r} after the experiment file.")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be at least 1, got {args.workers}.")
    if args.sampler is not None:
        check_sampler(args.sampler)
    parse_devices(args.devices)
    sweep, preset = experiment.load(args.experiment, args.preset)
    sweep = experiment.apply_sets(sweep, args.set, args.trials)
    if args.sampler is not None:
        sweep = dataclasses.replace(sweep, sampler=args.sampler)
    name = args.study or _study_name(args.experiment, preset)
    spec = resolve(args.storage, name, args.run_dir)
    summary = run.run_sweep(
        spec,
        sweep,
        name,
        workers=args.workers,
        executor=args.executor,
        lease_seconds=args.lease,
        progress=not args.no_progress,
        devices=args.devices,
        wandb=args.wandb,
        compile_cache=False if args.compile_cache == "none" else args.compile_cache,
    )
    if args.json:
        print(json.dumps(summary, indent=1, sort_keys=True))
        return 1 if any(summary["worker_exit_codes"]) else 0
    if args.no_progress:
        print(status_line(summary, sweep.trials))
    by = next((p.name for p in sweep.space.cross), None)
    if by is not None:
        import optuna

        from rnnlab.sweep.storage import open_storage

        storage = open_storage(spec, create=False)
        study = optuna.load_study(study_name=name, storage=storage)
        print(results_table(study.get_trials(deepcopy=False), by, sweep.metric()))
        if hasattr(storage, "engine"):
            storage.engine.dispose()  # a server's connections are closed, not left to the GC
    return 1 if any(summary["worker_exit_codes"]) else 0


def _open_study(storage_arg: str | None, study: str | None) -> tuple[Any, Any, str]:
    import optuna

    from rnnlab.sweep.storage import open_storage, resolve

    if storage_arg is None and study is None:
        raise ValueError("name a study: an EXPERIMENT file, --study NAME or --storage URL.")
    spec = resolve(storage_arg, study or "", None)
    storage = open_storage(spec, create=False)
    if study is None:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        if len(names) != 1:
            raise ValueError(
                f"{spec.display} holds {len(names)} studies ({', '.join(names) or 'none'}); "
                "pick one with --study NAME."
            )
        study = names[0]
    try:
        return optuna.load_study(study_name=study, storage=storage), spec, study
    except KeyError:
        raise ValueError(f"no study named {study!r} in {spec.display}.") from None


def _cmd_status(args: argparse.Namespace) -> int:
    from rnnlab.sweep.display import status_line
    from rnnlab.sweep.lease import summarize
    from rnnlab.sweep.storage import ATTR

    study = args.study
    if args.target is not None and study is None:
        from rnnlab.sweep import experiment

        _, preset = experiment.load(args.target, args.preset)
        study = _study_name(args.target, preset)
    s, spec, name = _open_study(args.storage, study)
    summary = summarize(s.get_trials(deepcopy=False))
    planned = (s.user_attrs.get(ATTR) or {}).get("trials", len(s.trials))
    if args.json:
        print(json.dumps({"study": name, "planned": planned, **summary}, indent=1))
    else:
        print(f"study {name!r} in {spec.display}")
        print(status_line(summary, planned))
    return 0


# --- rnnlab study ------------------------------------------------------------------------------


def add_study_subparser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``study`` (``study export``) to argparse subparsers."""
    p = subparsers.add_parser("study", help="work with a study store (export)")
    sub = p.add_subparsers(dest="study_command", required=True)
    e = sub.add_parser(
        "export",
        help="write a study's trials as CSV (or Parquet)",
        description="One row per trial: state, value, params, results (valid/test metrics, "
        "seconds, epochs, checkpoint). Parquet when --out ends in .parquet (needs pyarrow).",
    )
    e.add_argument("storage", metavar="STORAGE", help=_STORAGE_HELP)
    e.add_argument("--study", default=None, help="study name (needed if the store has several)")
    e.add_argument("--out", default=None, help="output file (default <study>.csv)")
    e.set_defaults(func=_errors("rnnlab study", _cmd_export))
    return p


def _cmd_export(args: argparse.Namespace) -> int:
    from rnnlab.sweep import export

    s, _, name = _open_study(args.storage, args.study)
    table = export.rows(s)
    path = export.write(table, args.out or f"{name}.csv")
    print(f"wrote {len(table)} trials of study {name!r} to {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rnnlab")
    sub = parser.add_subparsers(dest="command", required=True)
    add_sweep_subparser(sub)
    add_study_subparser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
