"""Where a finished sweep's time went, per program group, from the study alone: each
trial's claim and completion times, worker and group (the attributes the sweep records).

A group is the trials that share one compiled program (one variant family and hidden-size
bucket); the workers train it as a population, or one trial after another above the
population size limit. For each group the table gives its trials, variants and hidden
sizes, the workers that trained it, when it started and ended (seconds from the first
claim) and its worker-seconds (per worker, its last completion minus its first claim, so a
population's overlapping trials count once; compiling is included). Then the span of each
worker and the group total.

    python benchmarks/sweep_timeline.py runs/odyssey_jsb-quick/study.db
    python benchmarks/sweep_timeline.py postgresql://user@host/db --study odyssey_jsb-quick
"""

from __future__ import annotations

import argparse
import collections
from collections.abc import Iterable
from typing import Any

import optuna

from rnnlab.sweep.storage import open_storage, resolve
from rnnlab.train.hparams import hidden_bucket


def _spans(trials: Iterable[Any], t0: Any) -> dict[str, tuple[float, float]]:
    """{worker: (first claim, last completion)} in seconds from ``t0``."""
    by_worker: dict[str, list[Any]] = collections.defaultdict(list)
    for t in trials:
        by_worker[t.user_attrs.get("worker", "?")].append(t)
    return {
        w: (
            min((t.datetime_start - t0).total_seconds() for t in ts),
            max((t.datetime_complete - t0).total_seconds() for t in ts),
        )
        for w, ts in by_worker.items()
    }


def timeline(study: optuna.Study) -> tuple[list[dict[str, Any]], dict[str, tuple[float, float]]]:
    """(one row per program group in order of start, each worker's span)."""
    done = [t for t in study.trials if t.datetime_start and t.datetime_complete]
    if not done:
        raise SystemExit("sweep_timeline: the study has no finished trial.")
    t0 = min(t.datetime_start for t in done)
    groups: dict[str, list[Any]] = collections.defaultdict(list)
    for t in done:
        groups[t.user_attrs.get("group", "?")].append(t)
    rows = []
    for name, ts in groups.items():
        spans = _spans(ts, t0)
        hidden = sorted(int(t.user_attrs["config"]["model"]["hidden"]) for t in ts)
        rows.append(
            {
                "group": name,
                "trials": len(ts),
                "variants": sorted({str(t.params.get("variant", "-")) for t in ts}),
                "bucket": hidden_bucket(hidden[-1]),
                "hidden": (hidden[0], hidden[-1]),
                "workers": len(spans),
                "start": min(s for s, _ in spans.values()),
                "end": max(e for _, e in spans.values()),
                "worker_s": sum(e - s for s, e in spans.values()),
            }
        )
    return sorted(rows, key=lambda r: r["start"]), _spans(done, t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("storage", help="a study.db path or any storage URL rnnlab sweep takes")
    ap.add_argument("--study", default=None, help="study name (default: the only one)")
    args = ap.parse_args()
    spec = resolve(args.storage if "://" in args.storage else f"sqlite:///{args.storage}", "")
    storage = open_storage(spec, create=False)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
    name = args.study or (names[0] if len(names) == 1 else None)
    if name not in names:
        raise SystemExit(f"sweep_timeline: name one study with --study: {', '.join(names)}.")
    rows, workers = timeline(optuna.load_study(study_name=name, storage=storage))
    print("| group | trials | variants | bucket | hidden | workers | start s | end s | worker-s |")
    print("|---|---:|---|---:|---|---:|---:|---:|---:|")
    for r in rows:
        lo, hi = r["hidden"]
        print(
            f"| {r['group'][:8]} | {r['trials']} | {' '.join(r['variants'])} | {r['bucket']} "
            f"| {lo}-{hi} | {r['workers']} | {r['start']:.1f} | {r['end']:.1f} "
            f"| {r['worker_s']:.1f} |"
        )
    total = sum(r["worker_s"] for r in rows)
    print(f"\ngroups: {len(rows)}, worker-seconds in groups: {total:.1f}")
    for w, (s, e) in sorted(workers.items(), key=lambda kv: kv[1]):
        print(f"worker {w}: {s:.1f} - {e:.1f} s")


if __name__ == "__main__":
    main()
