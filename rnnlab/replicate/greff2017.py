"""Greff, Srivastava, Koutník, Steunebrink & Schmidhuber (2017), "LSTM: A Search Space
Odyssey": nine LSTM variants, each tuned by random search on three tasks, compared with
Welch's t-test against the vanilla LSTM and fANOVA of the hyperparameters.

Each task is one of the project's sweeps, run at the same preset: music on JSB Chorales
(``experiments/odyssey_jsb.py``), speech on Japanese Vowels standing in for TIMIT
(``odyssey_vowels.py``), handwriting on UCI digit strings read by CTC standing in for IAM
Online (``odyssey_digits_ctc.py``). A study lives where ``rnnlab sweep`` keeps it
(``runs/<study>/study.db``), so a sweep run by hand and the replication share it, and a
killed replication resumes. Each study is analysed with ``rnnlab.analysis`` (report per
task), then the paper's conclusions are checked one by one (``conclusions.csv``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.replicate import _common as C

NAME = "greff2017"
TITLE = "Greff et al. 2017: the LSTM search space odyssey, nine variants on three tasks"

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"

#: task -> experiment file (its study is ``<stem>-<preset>``)
TASKS = {
    "music": "odyssey_jsb.py",
    "speech": "odyssey_vowels.py",
    "handwriting": "odyssey_digits_ctc.py",
}

PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"tasks": ("music",), "workers": 1, "trees": 8},
    "quick": {"tasks": tuple(TASKS), "workers": 2, "trees": 32},
    "full": {"tasks": tuple(TASKS), "workers": os.cpu_count() or 1, "trees": 64},
}

#: The paper's findings per variant (Sec. V-A, Fig. 3): "worse" = significantly worse than
#: vanilla; "same" = no significant difference.
PAPER: dict[str, dict[str, str]] = {
    "NFG": dict.fromkeys(TASKS, "worse"),
    "NOAF": dict.fromkeys(TASKS, "worse"),
    "NIG": {"music": "same", "speech": "worse", "handwriting": "worse"},
    "NOG": {"music": "same", "speech": "worse", "handwriting": "worse"},
    "NIAF": {"music": "same", "speech": "worse", "handwriting": "worse"},
    "CIFG": dict.fromkeys(TASKS, "same"),
    "NP": dict.fromkeys(TASKS, "same"),
    "FGR": dict.fromkeys(TASKS, "same"),  # "brings nothing"; per-task significance unverified
}


def verdict(row: dict[str, Any] | None) -> str:
    """'worse', 'better' or 'same' (no significant difference) from one Welch result."""
    p = (row or {}).get("p")
    if p is None or not np.isfinite(p):  # too few trials, or no spread (JSON null)
        return "untested"
    return str(row["direction"]) if row["significant"] else "same"


def study_name(task: str, preset: str) -> str:
    return f"{Path(TASKS[task]).stem}-{preset}"


def sweep_task(task: str, preset: str, workers: int) -> Any:
    """Run (or resume, or find done) the task's study at ``preset``; returns its storage spec."""
    from rnnlab.sweep import experiment, run
    from rnnlab.sweep.storage import resolve

    sweep, _ = experiment.load(str(EXPERIMENTS / TASKS[task]), preset)
    name = study_name(task, preset)
    spec = resolve(None, name, None)
    C.log(f"{task}: study {name} ({sweep.trials} trials, {workers} workers) in {spec.display}")
    summary = run.run_sweep(spec, sweep, name, workers=workers, progress=False, out=C.log)
    if any(summary["worker_exit_codes"]):
        raise RuntimeError(f"{task}: a sweep worker failed; see {spec.run_dir}/logs.")
    return spec


def analyse_task(task: str, preset: str, spec: Any, out_dir: str, trees: int) -> dict[str, Any]:
    """The task's analysis report in ``out_dir/<task>``; returns its summary and costs."""
    import optuna

    from rnnlab.analysis.analyze import analyze
    from rnnlab.analysis.report import write_report
    from rnnlab.sweep.storage import open_storage

    study = optuna.load_study(
        study_name=study_name(task, preset), storage=open_storage(spec, create=False)
    )
    a = analyze(study, n_trees=trees, storage=spec.display)
    write_report(a, os.path.join(out_dir, task))
    summary = C.read_json(os.path.join(out_dir, task, "summary.json"))
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    starts = [t.datetime_start for t in done if t.datetime_start]
    ends = [t.datetime_complete for t in done if t.datetime_complete]
    wall = (max(ends) - min(starts)).total_seconds() if done else 0.0
    cpu = sum(float(t.user_attrs.get("seconds", 0.0)) for t in done)
    cost = {
        "complete_trials": len(done),
        "study_wall_seconds": round(wall, 1),
        "trial_seconds_sum": round(cpu, 1),
        "trials_per_hour": round(3600 * len(done) / wall, 1) if wall > 0 else None,
    }
    return {"summary": summary, "cost": cost, "metric": a.metric_label}


def conclusions(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (variant, task): the paper's finding against ours (Welch, all trials)."""
    rows = []
    for variant, by_task in PAPER.items():
        for task, paper in by_task.items():
            if task not in results:
                continue
            w = (results[task]["summary"].get("welch") or {}).get(variant, {}).get("all")
            ours = verdict(w)
            rows.append(
                {
                    "variant": variant,
                    "task": task,
                    "paper": paper,
                    "ours": ours,
                    "agree": ours == paper if ours != "untested" else None,
                    "n": (w or {}).get("n", 0),
                    "n_vanilla": (w or {}).get("n_ref", 0),
                    "mean_diff": (w or {}).get("diff", np.nan),
                    "p": (w or {}).get("p", np.nan),
                }
            )
    return rows


def importance(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """fANOVA fractions of the test metric's variance per task (all trials, the variant a
    categorical parameter; vanilla alone when only that was fitted): the paper's 'the
    learning rate matters most, interactions are small, momentum does not matter'."""
    rows = []
    for task, r in results.items():
        s = r["summary"]
        fa, who = s.get("fanova"), "all trials"
        if not fa:
            fa, who = s.get("fanova_reference"), "V"
        if not fa:
            continue
        main = {k: v["mean"] for k, v in fa["main"].items()}
        pairs = {k: v["mean"] for k, v in fa.get("pairs", {}).items()}
        top = max(main, key=main.get)
        rows.append(
            {
                "task": task,
                "fitted_on": who,
                "most_important": top,
                "lr": main.get("lr", np.nan),
                "hidden": main.get("hidden", np.nan),
                "momentum": main.get("momentum", np.nan),
                "noise_std": main.get("noise_std", np.nan),
                "variant": main.get("variant", np.nan),
                "lr_x_hidden": pairs.get("lr|hidden", pairs.get("hidden|lr", np.nan)),
                "all_pairs": float(sum(pairs.values())),
            }
        )
    return rows


def plot(results: dict[str, dict[str, Any]], path: str) -> None:
    """Mean test metric per variant minus vanilla's, per task, with the Welch 95% interval."""
    from matplotlib.figure import Figure

    from rnnlab.analysis.welch import variant_order

    tasks = list(results)
    fig = Figure(figsize=(4.2 * len(tasks), 3.6))
    axes = np.atleast_1d(fig.subplots(1, len(tasks)))
    for ax, task in zip(axes, tasks):
        welch = results[task]["summary"].get("welch") or {}
        order = [v for v in variant_order([*welch, "V"]) if v != "V"]
        for i, v in enumerate(order):
            w = welch[v]["all"]
            color = (
                "tab:red"
                if verdict(w) == "worse"
                else ("tab:green" if verdict(w) == "better" else "0.4")
            )
            lo, hi, d = (
                np.nan if w.get(k) is None else w[k] for k in ("ci_low", "ci_high", "diff")
            )
            ax.errorbar(
                i,
                d,
                yerr=[[d - lo], [hi - d]],
                fmt="o",
                color=color,
                capsize=3,
            )
        ax.axhline(0.0, color="black", lw=0.8)
        ax.set_xticks(range(len(order)), order, rotation=45)
        ax.set_title(f"{task}: {results[task]['metric']}", fontsize=10)
        ax.set_ylabel("mean minus vanilla's (lower is better)")
        ax.grid(axis="y", alpha=0.3)
    fig.text(
        0.5,
        0.01,
        "red: significantly worse than V, green: better (Welch, p < 0.05)",
        ha="center",
        fontsize=8,
    )
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=110)


def run(preset: str, out_dir: str) -> dict[str, Any]:
    """Sweep and analyse every task of ``preset``; write per-task reports, conclusions.csv,
    importance.csv, cost.csv, summary.json and variants.png to ``out_dir``."""
    C.check_preset(preset)
    p = PRESETS[preset]
    clock = C.Timer()
    meta = {"paper": NAME, "preset": preset, "settings": p, "machine": C.machine()}
    results = {}
    for task in p["tasks"]:
        spec = sweep_task(task, preset, p["workers"])
        results[task] = analyse_task(task, preset, spec, out_dir, p["trees"])
    table, imp = conclusions(results), importance(results)
    cost = [{"task": t, **r["cost"]} for t, r in results.items()]
    C.write_csv(os.path.join(out_dir, "conclusions.csv"), table)
    C.write_csv(os.path.join(out_dir, "importance.csv"), imp)
    C.write_csv(os.path.join(out_dir, "cost.csv"), cost)
    plot(results, os.path.join(out_dir, "variants.png"))
    out = {**meta, "conclusions": table, "importance": imp, "cost": cost}
    out["wall_seconds"] = round(clock(), 1)
    C.write_json(os.path.join(out_dir, "summary.json"), out)
    agree = sum(1 for r in table if r["agree"])
    C.log(f"{agree} of {sum(r['agree'] is not None for r in table)} tested findings agree")
    return out
